/**
 * Offboarding: lockout if asked → plan → effective date → approval → transfer
 * every resource → revoke access → deactivate → verify → notify → undo window → retention.
 * Id `offboarding:<userId>`; a second start joins the running one.
 *
 * `offboardingWorkflow` runs the steps in that order; its helpers follow it, and the bookkeeping
 * of each step's state, times and detail (the progress query's `steps`) is done by the few
 * helpers at its end. Versioning: a change of behaviour is wrapped in `patched('<change-id>')`
 * inside the one step it touches, keeping recorded histories
 * (test/replay/histories/offboarding-*.json) replayable. Patches: `owner-only-when-owning`,
 * `status-search-attribute` (the status as the TenureStatus search attribute), `connected-systems`
 * (acting in, verifying and undoing in the systems of src/connectors/ that the plan lists),
 * `connected-lockout` (an immediate lockout also locks the leaver out of every connected system),
 * `systems-read-activity` (the plan reads the connected systems in an activity of its own),
 * `systems-read-when-configured` (and only when the worker reaches at least one).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RetryPolicy, SearchAttributeUpdatePair } from '@temporalio/common';
import type { Activities } from '../activities';
import type { TransferBatchResult } from '../activities/offboarding';
import type { OffboardingMailKind } from '../src/mail/templates/offboarding';
import { offboardingAuthority } from '../src/domain/authority';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from './errors';
import { callerFrom } from './messages/caller';
import {
  approveUpdate,
  cancelUpdate,
  changeOwnerUpdate,
  childSettledSignal,
  planVersion,
  progressQuery,
  reactivatedSignal,
  rejectUpdate,
  retrySystemsUpdate,
  undoUpdate,
  type Caller,
  type OffboardingInput,
  type OffboardingPlan,
  type OffboardingPolicy,
  type OffboardingProgress,
  type OffboardingStatus,
  type StepName,
  type StepProgress,
  type SystemActionOutcome,
  type SystemActResult,
  type SystemCheck,
  type SystemPlan,
  type SystemProgress,
  type VerificationResult,
} from './offboarding-messages';
import { TENURE_PROCESS, TENURE_STATUS, TENURE_SUBJECT } from './search-attributes';

const retry: RetryPolicy = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES };

const store = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { ...retry, maximumAttempts: 10 } });
/** Long loops heartbeat: a killed worker's batch is retried elsewhere after the heartbeat timeout. */
const transfers = proxyActivities<Activities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '10 seconds', retry: { ...retry, maximumAttempts: 20 } });
/** Two attempts at most, so nobody gets the same email many times. */
const mail = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: { ...retry, initialInterval: '500 milliseconds', maximumAttempts: 2 } });

/**
 * Connected systems: a system that cannot be reached is retried (1 s, 2 s, 4 s); the activity's
 * SYSTEM_FINAL_ATTEMPT reports it as left behind instead of failing, so the process goes on and
 * names it. Later rounds (a retry asked for, or the automatic retry timer) try it again.
 */
const SYSTEM_FINAL_ATTEMPT = 4;
const systemCalls = proxyActivities<Activities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '1 minute', retry: { ...retry, maximumAttempts: 10 } });
/**
 * Reading the connected systems for the plan: each system's read is bounded by the worker
 * (OFFBOARDING_SYSTEM_READ_TIMEOUT) and the activity heartbeats while it reads, so a worker lost
 * mid-read is noticed in seconds and a hanging system is reported unreadable, not retried.
 */
const systemReads = proxyActivities<Activities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '30 seconds', retry: { ...retry, maximumAttempts: 5 } });
/** Automatic retries of systems left behind before the process stops trying by itself. */
const MAX_SYSTEM_RETRY_ROUNDS = 24;
const DEFAULT_SYSTEM_RETRY_MS = 3_600_000;

/** Checks made while a person waits for the answer of an update: few attempts. */
const checks = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: { ...retry, maximumAttempts: 3 } });

const TRANSFER_BATCH = 25;
/** A resource still owned after this many rounds is left behind (and reported). */
const MAX_TRANSFER_ROUNDS = 3;
const PRE_EXECUTION: readonly OffboardingStatus[] = ['starting', 'locking_out', 'planning', 'waiting_effective_date', 'awaiting_approval'];
const STEP_NAMES: StepName[] = ['lockout', 'plan', 'effective_date', 'approval', 'transfer', 'connected_systems', 'revoke_access', 'deactivate', 'verify', 'notify', 'undo_window', 'retention'];

type Answer = { action: 'approved' | 'rejected' | 'cancelled'; by: Caller; at: string; reason?: string };

/** Everything the queries report and the handlers change. */
class OffboardingState {
  private current: OffboardingStatus = 'starting';
  steps: StepProgress[] = STEP_NAMES.map((name) => ({ name, state: 'pending' }));
  plan: OffboardingPlan | null = null;
  /** Who may act besides Administrators; known once the leaver's record is read (with the plan). */
  managerId: string | null = null;
  approversKnown = false;
  /** Cancels accepted before the approvers were known, waiting for the answer to "may they?". */
  pendingAuthority = 0;
  closing = false;
  /** The default new owner as it stands now: the plan's proposal, or the approver's choice. */
  newOwner: OffboardingPlan['newOwner'] = null;
  defaultOwnerId: string | null = null;
  assignments: Record<string, string> = {};
  version = '';
  ownerNeeded = false;
  ownerChangesInFlight = 0;
  executionStarted = false;
  answer: Answer | undefined;
  awaiting: string | undefined;
  done = new Set<string>();
  leftBehind = new Set<string>();
  total = 0;
  verification: VerificationResult | undefined;
  undoOpen = false;
  undoRequest: { caller: Caller; reason?: string } | undefined;
  undoUntil: string | undefined;
  deleteAt: string | undefined;
  reactivated = false;
  error: string | undefined;
  decision: OffboardingProgress['decision'];
  /** When the current wait for an approver was reminded and escalated (the timers' own times). */
  remindedAt: string | undefined;
  escalatedAt: string | undefined;
  /** Each connected system the plan lists: what was planned, done and verified there. */
  systems: SystemProgress[] = [];
  /** What an immediate lockout did in each connected system (its undo data is kept for a reject or cancel). */
  lockouts: SystemActResult[] = [];
  /** Access was left behind in a connected system and a retry may be asked for. */
  retryOpen = false;
  retryRequested = false;

  constructor(readonly workflowId: string, readonly userId: string) {}

  get status(): OffboardingStatus {
    return this.current;
  }

  /** A change of status is published as the TenureStatus search attribute (runs from before that patch publish none). */
  set status(status: OffboardingStatus) {
    if (status === this.current) return;
    this.current = status;
    const attribute = this.statusAttribute();
    if (attribute.length) upsertSearchAttributes(attribute);
  }

  /** The TenureStatus search attribute as it stands: what the start's upsert carries. */
  statusAttribute(): SearchAttributeUpdatePair[] {
    return patched('status-search-attribute') ? [{ key: TENURE_STATUS, value: this.current }] : [];
  }

  step(name: StepName): StepProgress {
    return this.steps.find((s) => s.name === name)!;
  }

  setOwners(defaultOwnerId: string | null, assignments: Record<string, string>): void {
    this.defaultOwnerId = defaultOwnerId;
    this.assignments = assignments;
    this.version = planVersion(defaultOwnerId, assignments);
  }

  progress(): OffboardingProgress {
    return {
      workflowId: this.workflowId,
      userId: this.userId,
      status: this.status,
      steps: this.steps.map((s) => ({ ...s })),
      resources: { done: this.done.size, total: Math.max(this.total, this.plan?.resourcesTotal ?? 0, this.done.size), failed: [...this.leftBehind] },
      plan: this.plan
        ? {
            ...this.plan,
            newOwner: this.newOwner ? { ...this.newOwner } : null,
            resources: this.plan.resources.map((r) => ({ ...r, newOwnerId: this.assignments[r.id] ?? this.defaultOwnerId })),
            version: this.version,
            assignments: { ...this.assignments },
          }
        : null,
      awaiting: this.awaiting,
      decision: this.decision,
      remindedAt: this.remindedAt,
      escalatedAt: this.escalatedAt,
      verification: this.verification,
      ...(this.systems.length ? { systems: this.systems.map((x) => ({ ...x, outcomes: x.outcomes.map((o) => ({ ...o })) })) } : {}),
      undoUntil: this.undoUntil,
      deleteAt: this.deleteAt,
      error: this.error,
    };
  }
}

const now = () => new Date().toISOString();

function refuse(type: string, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** The permanent failure type behind an activity failure, if it is one. */
function failureType(err: unknown): string | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause.type ?? undefined;
  if (err instanceof ApplicationFailure) return err.type ?? undefined;
  return undefined;
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return (err as Error)?.message ?? String(err);
}

export async function offboardingWorkflow(input: OffboardingInput): Promise<OffboardingProgress> {
  const info = workflowInfo();
  const ref = { userId: input.userId, workflowId: info.workflowId, runId: info.runId };
  const s = new OffboardingState(info.workflowId, input.userId);
  // An HR termination's receipt time goes to the step that ends the leaver's access first.
  const hrReceipt = input.hrReceivedAt ? { hrReceivedAt: input.hrReceivedAt } : {};
  registerHandlers(s, input);
  upsertSearchAttributes([
    { key: TENURE_PROCESS, value: 'offboarding' },
    { key: TENURE_SUBJECT, value: input.userId },
    ...s.statusAttribute(),
  ]);

  try {
    // 1. Immediate lockout comes before anything else.
    if (input.immediateLockout) {
      s.status = 'locking_out';
      if (patched('connected-lockout')) await lockOutEverywhere();
      else await step('lockout', () => store.lockOutUser({ ...ref, ...hrReceipt }), (r) => `${r.sessionsEnded} sessions ended, ${r.tokensRevoked} tokens revoked`);
    } else skip('lockout', 'not requested');

    // 2. Plan: what moves to whom, and the policy that applies.
    s.status = 'planning';
    const readApart = patched('systems-read-activity');
    const { plan, policy } = await step('plan', () => planAll(readApart), (r) => `${r.plan.resourcesTotal} resources`);
    s.plan = plan;
    s.managerId = plan.managerId;
    s.approversKnown = true;
    s.newOwner = plan.newOwner;
    s.setOwners(plan.newOwner?.id ?? null, {});
    s.systems = (plan.systems ?? []).map((sys) => ({ system: sys.system, label: sys.label, state: 'pending', planned: sys.actions.length, outcomes: [], ...(sys.error ? { error: sys.error } : {}) }));
    showLockouts();
    // An owner is needed only for something to own (before this patch: always).
    const ownerOnlyWhenOwning = patched('owner-only-when-owning');
    s.ownerNeeded = !plan.newOwner && (plan.resourcesTotal > 0 || !ownerOnlyWhenOwning);
    // A cancel that came before the approvers were known gets its answer first.
    if (s.pendingAuthority > 0) await condition(() => s.pendingAuthority === 0);
    if (s.answer?.action === 'cancelled') return await cancelled();

    // 3. Effective date: a durable timer, cancellable.
    const waitMs = input.effectiveDate ? Date.parse(input.effectiveDate) - Date.now() : 0;
    if (waitMs > 0) {
      s.status = 'waiting_effective_date';
      begin('effective_date', `until ${new Date(Date.parse(input.effectiveDate!)).toISOString()}`);
      const interrupted = await condition(() => s.answer?.action === 'cancelled', waitMs);
      end('effective_date', interrupted ? 'failed' : 'done');
      if (interrupted) return await cancelled();
    } else skip('effective_date', 'effective now');

    // 4. Approval when policy requires it, or when nobody could be proposed as new owner.
    if (policy.approvalRequired || s.ownerNeeded) {
      const answer = await awaitAnswer(policy, s.ownerNeeded ? 'a new owner must be chosen (nobody could be proposed), then the plan approved' : 'approval of the plan', s.ownerNeeded ? 'owner_needed' : 'approval_request', 0);
      if (answer.action === 'rejected') {
        await undoLockoutIfAny();
        return await finish(await settle('rejected'));
      }
      if (answer.action === 'cancelled') return await cancelled();
    } else skip('approval', 'not required by policy');

    // 5. Execute: transfer, revoke, deactivate.
    s.status = 'executing';
    s.executionStarted = true;
    await transferAll(policy);
    const withSystems = s.systems.length > 0 && patched('connected-systems');
    if (withSystems) await actInSystems(s.systems.map((x) => x.system), 1);
    else skip('connected_systems', 'no connected systems');
    await step('revoke_access', () => store.revokeAccess(input.immediateLockout ? ref : { ...ref, ...hrReceipt }), (r) => `${r.sessionsEnded} sessions ended, ${r.tokensRevoked} tokens revoked, ${r.groupsLeft.length} groups left`);
    const deactivation = await step('deactivate', () => store.deactivateLeaver(ref), (r) => (r.deactivated ? 'deactivated' : `not deactivated: ${r.reason}`));

    // 6. Verify against the store; anything left is an alert, never a clean success. Then notify.
    s.status = 'verifying';
    const verification = await step('verify', () => verifyAll(withSystems), (v) => (v.clean ? 'clean' : `access left behind${leftBehindIn(v)}`));
    s.verification = verification;
    if (verification.clean) {
      await step('notify', () => notify('completed', 'requester_and_manager'));
      await settle('completed');
    } else {
      const detail = [
        `Still there: status ${verification.status}, ${verification.activeSessions} active sessions, ${verification.liveTokens} live tokens, ${verification.owned} owned resources, ${verification.groups} groups.`,
        ...(verification.systems ?? []).filter((c) => !c.clean).map(systemDetail),
      ].join('\n');
      await store.raiseAccessLeftBehind({ ...ref, verification, failed: [...s.leftBehind] });
      await step('notify', async () => {
        await notify('access_left_behind', 'admins', detail);
        await notify('access_left_behind', 'requester_and_manager', detail);
      });
      await settle('completed_with_access_left_behind');
      // Access left in a connected system is tried again (asked for, or on a timer) until clean.
      if (withSystems && systemsLeftBehind().length) await retrySystems(policy);
    }

    // 7. Undo window.
    if (policy.undoGraceMs > 0) {
      begin('undo_window');
      s.undoOpen = true;
      s.undoUntil = new Date(Date.now() + policy.undoGraceMs).toISOString();
      await condition(() => !!s.undoRequest || s.reactivated, policy.undoGraceMs);
      s.undoOpen = false;
      if (s.undoRequest) {
        const by = s.undoRequest.caller;
        const result = await store.undoOffboardingChanges({ ...ref, groups: plan.groups, actor: { id: by.id, email: by.email } });
        const inSystems = withSystems ? await undoInSystems() : '';
        end('undo_window', 'done', `undone by ${by.email ?? by.id}: ${result.handedBack} resources handed back${inSystems}`);
        s.decision = { action: 'undone', by: by.id, at: now(), reason: s.undoRequest.reason };
        await notify('undone', 'requester_and_manager');
        return await finish('undone');
      }
      end('undo_window', 'done', s.reactivated ? 'account reactivated' : 'closed');
      if (s.reactivated) return await finish('reactivated');
    } else skip('undo_window', 'no undo window');

    // 8. Retention: permanent delete unless reactivated meanwhile.
    if (policy.retentionMs !== null && deactivation.deactivated) {
      const remaining = Math.max(1, policy.retentionMs - policy.undoGraceMs);
      begin('retention');
      s.deleteAt = new Date(Date.now() + remaining).toISOString();
      if (await condition(() => s.reactivated, remaining)) {
        end('retention', 'skipped', 'account reactivated');
        return await finish('reactivated');
      }
      const deleted = await store.deleteAfterRetention(ref);
      end('retention', deleted.deleted ? 'done' : 'skipped', deleted.deleted ? 'permanently deleted' : `kept: ${deleted.reason}`);
      return await finish(deleted.deleted ? 'deleted' : deleted.reason?.includes('active') ? 'reactivated' : s.status);
    }
    skip('retention', policy.retentionMs === null ? 'accounts are kept' : 'account not deactivated');
    return await finish(s.reactivated ? 'reactivated' : undefined);
  } catch (err) {
    const type = failureType(err);
    if (type === ErrorType.UserGone || type === ErrorType.InvalidState) {
      s.error = failureMessage(err);
      return await finish(await settle('failed'));
    }
    throw err;
  }

  // ---- The steps' helpers. ----

  /**
   * The immediate lockout: tenure's own sessions and tokens, then the lockout-class actions in
   * every connected system at once (sign-in, sessions, tokens; never transfers or memberships,
   * which wait for approval). A system that stays down does not hold the process up: the step
   * names it as not done, and the plan's later act and verification still cover it.
   */
  async function lockOutEverywhere(): Promise<void> {
    begin('lockout');
    let ownDetail = '';
    try {
      const own = await store.lockOutUser({ ...ref, ...hrReceipt });
      ownDetail = `${own.sessionsEnded} sessions ended, ${own.tokensRevoked} tokens revoked`;
      note('lockout', ownDetail);
      const systems = await store.listConnectedSystems();
      s.lockouts = await Promise.all(systems.map((x) => systemCalls.lockOutInConnectedSystem({ ...ref, system: x.system, finalAttempt: SYSTEM_FINAL_ATTEMPT })));
    } catch (err) {
      end('lockout', 'failed', [ownDetail, failureMessage(err)].filter(Boolean).join('; '));
      throw err;
    }
    const lines = s.lockouts.map((r) => {
      const problem = lockoutProblem(r);
      return `${r.label}: ${problem ? `not done (${problem})` : `locked out (${r.outcomes.filter((o) => o.state === 'done').length} done, ${r.outcomes.filter((o) => o.state === 'already_done').length} already done)`}`;
    });
    const notDone = s.lockouts.some((r) => lockoutProblem(r) !== undefined);
    end('lockout', notDone ? 'failed' : 'done', [ownDetail, ...lines].join('; '));
  }

  /** Why an immediate lockout is not done in a system (unreachable, refused, an action failed); undefined when it is. */
  function lockoutProblem(r: SystemActResult): string | undefined {
    const failed = r.outcomes.filter((o) => o.state === 'failed');
    return r.error ?? (failed.length ? failed.map((o) => `${o.summary}: ${o.detail ?? 'failed'}`).join('; ') : undefined);
  }

  /** The immediate lockout's outcome in each system the plan lists (its undo data goes with it to the act and undo). */
  function showLockouts(): void {
    for (const locked of s.lockouts) {
      const sys = s.systems.find((x) => x.system === locked.system);
      if (!sys) continue;
      sys.outcomes = locked.outcomes.map((o) => ({ ...o }));
      const problem = lockoutProblem(locked);
      if (problem) sys.error = `access left behind at lockout: ${problem}`;
    }
  }

  /** The plan; with `readApart`, the connected systems are read by an activity of their own (bounded, heartbeating). */
  async function planAll(readApart: boolean): Promise<{ plan: OffboardingPlan; policy: OffboardingPolicy }> {
    const planInput = { userId: input.userId, newOwnerId: input.newOwnerId, workflowId: ref.workflowId, runId: ref.runId };
    if (!readApart) return store.planOffboarding(planInput);
    const planned = await store.planOffboarding({ ...planInput, withoutSystems: true });
    // No connected system on the worker: no activity to read none (runs planned before the plan
    // said how many, and histories recorded before this patch, read them as before).
    if (planned.connectedSystems === 0 && patched('systems-read-when-configured')) return planned;
    const systems = await systemReads.readConnectedSystems({ ...ref, newOwnerId: planned.plan.newOwner?.id ?? null });
    return systems.length ? { ...planned, plan: { ...planned.plan, systems } } : planned;
  }

  /**
   * Transfers everything the leaver owns, re-reading ownership each round so resources created
   * since the plan are included. An inactive new owner sends the process back to the approver.
   */
  async function transferAll(policy: OffboardingPolicy): Promise<void> {
    begin('transfer');
    const seen = new Map<string, number>();
    for (let round = 1; ; round++) {
      const owned = await store.listOwnedResourceIds({ userId: input.userId });
      const pending: string[] = [];
      for (const id of owned) {
        if (s.leftBehind.has(id)) continue;
        const times = (seen.get(id) ?? 0) + 1;
        seen.set(id, times);
        if (times > MAX_TRANSFER_ROUNDS) s.leftBehind.add(id);
        else pending.push(id);
      }
      s.total = s.done.size + pending.length + s.leftBehind.size;
      if (!pending.length) break;
      // Resources that appeared after a plan with nothing to own have nobody to go to yet.
      const ownerless = pending.filter((id) => !(s.assignments[id] ?? s.defaultOwnerId)).length;
      if (ownerless) {
        s.ownerNeeded = true;
        await awaitAnswer(policy, `a new owner must be chosen for ${ownerless} resource${ownerless === 1 ? '' : 's'} created since the plan, then the plan approved`, 'owner_needed', round);
        s.status = 'executing';
        continue; // re-read ownership with the chosen owner
      }
      let failures = 0;
      for (let i = 0; i < pending.length; i += TRANSFER_BATCH) {
        const items = pending.slice(i, i + TRANSFER_BATCH).map((id) => ({ resourceId: id, toUserId: s.assignments[id] ?? s.defaultOwnerId! }));
        let result: TransferBatchResult;
        try {
          result = await transfers.transferResources({ ...ref, items });
        } catch (err) {
          if (failureType(err) !== ErrorType.NewOwnerInactive) throw err;
          s.ownerNeeded = true;
          s.status = 'awaiting_approval';
          await awaitAnswer(policy, `the new owner can no longer receive resources (${failureMessage(err)}); choose another owner and approve`, 'owner_needed', round);
          s.status = 'executing';
          break; // re-read ownership with the new owner
        }
        for (const id of [...result.transferred, ...result.skipped]) s.done.add(id);
        failures += result.failed.length;
      }
      note('transfer', `${s.done.size} of ${s.total} transferred`);
      // Give a failing resource a moment before the next round (a transient problem may pass).
      if (failures) await sleep(1000 * round);
    }
    end('transfer', s.leftBehind.size ? 'failed' : 'done', s.leftBehind.size ? `${s.done.size} transferred, ${s.leftBehind.size} could not be transferred` : `${s.done.size} transferred`);
  }

  /**
   * Carries out the plan in the named connected systems, all at once (each system re-reads what
   * the leaver holds, so a later round does only what is left). A system still unreachable after
   * the activity's retries is marked failed: the verification then reports it.
   */
  async function actInSystems(systems: string[], round: number): Promise<void> {
    begin('connected_systems');
    await Promise.all(
      systems.map(async (name) => {
        const sys = s.systems.find((x) => x.system === name)!;
        sys.state = 'running';
        const result = await systemCalls.actInConnectedSystem({ ...ref, system: name, newOwnerId: s.defaultOwnerId, round, finalAttempt: SYSTEM_FINAL_ATTEMPT });
        sys.outcomes = mergeOutcomes(sys.outcomes, result.outcomes);
        const failed = result.outcomes.filter((o) => o.state === 'failed');
        sys.error = result.error ?? (failed.length ? failed.map((o) => `${o.summary}: ${o.detail ?? 'failed'}`).join('; ') : undefined);
        sys.state = sys.error ? 'failed' : 'done';
      }),
    );
    end('connected_systems', 'done', s.systems.map((x) => `${x.label}: ${x.state === 'failed' ? `failed (${x.error})` : `${x.outcomes.filter((o) => o.state === 'done').length} done`}`).join('; '));
  }

  /** A later round's outcome replaces an earlier one, except that "already done" never hides what this process did. */
  function mergeOutcomes(before: SystemActionOutcome[], after: SystemActionOutcome[]): SystemActionOutcome[] {
    const merged = new Map(before.map((o) => [o.key, o]));
    for (const o of after) if (!(o.state === 'already_done' && merged.get(o.key)?.state === 'done')) merged.set(o.key, o);
    return [...merged.values()];
  }

  /** The store's verification, after every connected system has been re-read. */
  async function verifyAll(withSystems: boolean): Promise<VerificationResult> {
    if (!withSystems) return store.verifyOffboarding({ userId: input.userId });
    const checks: SystemCheck[] = await Promise.all(s.systems.map((x) => systemCalls.checkConnectedSystem({ userId: input.userId, system: x.system, finalAttempt: SYSTEM_FINAL_ATTEMPT })));
    for (const check of checks) s.systems.find((x) => x.system === check.system)!.verification = check;
    const result = await store.verifyOffboarding({ userId: input.userId, systemsClean: checks.every((c) => c.clean) });
    return { ...result, systems: checks };
  }

  function systemsLeftBehind(): string[] {
    return (s.verification?.systems ?? []).filter((c) => !c.clean).map((c) => c.system);
  }

  function leftBehindIn(v: VerificationResult): string {
    const systems = (v.systems ?? []).filter((c) => !c.clean).map((c) => c.label);
    return systems.length ? ` (${systems.join(', ')})` : '';
  }

  function systemDetail(check: SystemCheck): string {
    return `${check.label}: ${check.error ?? `still there: ${check.remaining.slice(0, 10).join(', ')}${check.remaining.length > 10 ? `, …${check.remaining.length - 10} more` : ''}`}`;
  }

  /**
   * Access was left behind in a connected system: act there again when a retry is asked for
   * (retrySystems update) or every `systemRetryMs`, then verify everything again. Once clean, the
   * offboarding is completed and the requester and manager are told.
   */
  async function retrySystems(policy: OffboardingPolicy): Promise<void> {
    s.retryOpen = true;
    for (let round = 2; round <= MAX_SYSTEM_RETRY_ROUNDS + 1; round++) {
      await condition(() => s.retryRequested, policy.systemRetryMs ?? DEFAULT_SYSTEM_RETRY_MS);
      s.status = 'executing';
      await actInSystems(systemsLeftBehind(), round);
      s.status = 'verifying';
      const verification = await step('verify', () => verifyAll(true), (v) => (v.clean ? 'clean' : `access left behind${leftBehindIn(v)}`));
      s.verification = verification;
      s.retryRequested = false;
      if (verification.clean) {
        s.retryOpen = false;
        await settle('completed');
        await notify('completed', 'requester_and_manager', undefined, `retry${round}`);
        return;
      }
      s.status = 'completed_with_access_left_behind';
    }
    s.retryOpen = false;
  }

  /** Undo in every connected system where something was done; what it says for the undo step. */
  async function undoInSystems(): Promise<string> {
    const parts: string[] = [];
    for (const sys of s.systems) {
      const outcomes = sys.outcomes.filter((o) => o.state === 'done');
      if (!outcomes.length) continue;
      const result = await systemCalls.undoInConnectedSystem({ ...ref, system: sys.system, outcomes, finalAttempt: SYSTEM_FINAL_ATTEMPT });
      sys.state = 'undone';
      parts.push(`${sys.label}: ${result.undone} undone${result.failed.length ? `, not undone: ${result.failed.join('; ')}` : ''}`);
    }
    return parts.length ? `; ${parts.join('; ')}` : '';
  }

  /** Waits for an approver: reminder after a while, escalation to Administrators after longer. */
  async function awaitAnswer(policy: OffboardingPolicy, why: string, mailKind: OffboardingMailKind, round: number): Promise<Answer> {
    s.status = 'awaiting_approval';
    s.awaiting = why;
    s.answer = undefined;
    s.remindedAt = undefined;
    s.escalatedAt = undefined;
    begin('approval');
    await notify(mailKind, 'approvers', approvalDetail(why), `r${round}`);
    const answered = () => s.answer !== undefined;
    // The times are state only (no command), so recorded histories replay unchanged and a
    // replayed process knows it was reminded or escalated: Slack reads them from the query.
    if (!(await condition(answered, Math.max(1, policy.approvalReminderMs)))) {
      s.remindedAt = now();
      await notify('approval_reminder', 'approvers', approvalDetail(why), `r${round}`);
      if (!(await condition(answered, Math.max(1, policy.approvalEscalationMs - policy.approvalReminderMs)))) {
        s.escalatedAt = now();
        await notify('approval_escalation', 'admins', approvalDetail(why), `r${round}`);
        await condition(answered);
      }
    }
    const answer = s.answer!;
    s.awaiting = undefined;
    end('approval', answer.action === 'approved' ? 'done' : 'failed', `${answer.action} by ${answer.by.email ?? answer.by.id}`);
    s.decision = { action: answer.action, by: answer.by.id, at: answer.at, reason: answer.reason };
    return answer;
  }

  /** What an approver reads in a mail: why they are asked, and who receives the resources now. */
  function approvalDetail(why: string): string {
    const owned = Math.max(s.total, s.plan?.resourcesTotal ?? 0);
    const others = Object.keys(s.assignments).length;
    const owner = s.newOwner
      ? `New owner: ${s.newOwner.email}${others ? ` (${others} resources assigned to someone else)` : ''}`
      : owned === 0
        ? 'New owner: none needed (nothing owned)'
        : 'New owner: to be chosen (nobody could be proposed)';
    const systems = (s.plan?.systems ?? []).map((x: SystemPlan) => `${x.label}: ${x.error ?? (x.actions.length ? x.actions.map((a) => a.summary).join('; ') : 'no account, nothing to do')}`);
    return [`Waiting for: ${why}`, owner, ...systems, ...(s.plan?.notes ?? [])].join('\n');
  }

  async function notify(kind: OffboardingMailKind, to: 'approvers' | 'admins' | 'requester_and_manager', detail?: string, key?: string): Promise<void> {
    try {
      await mail.sendOffboardingMail({ ...ref, kind, to, requesterId: input.requestedBy.id, reason: input.reason, detail, key });
    } catch {
      // A lost email never stops the process; the audit log and the progress query still tell.
    }
  }

  async function cancelled(): Promise<OffboardingProgress> {
    if (s.answer) s.decision = { action: 'cancelled', by: s.answer.by.id, at: s.answer.at, reason: s.answer.reason };
    await undoLockoutIfAny();
    return await finish(await settle('cancelled'));
  }

  /** A rejected or cancelled offboarding gives back what the immediate lockout took: in tenure and in each connected system. */
  async function undoLockoutIfAny(): Promise<void> {
    if (!input.immediateLockout) return;
    await store.undoLockout(ref);
    const parts: string[] = [];
    for (const locked of s.lockouts) {
      const outcomes = locked.outcomes.filter((o) => o.state === 'done');
      if (!outcomes.length) continue;
      const result = await systemCalls.undoInConnectedSystem({ ...ref, system: locked.system, outcomes, finalAttempt: SYSTEM_FINAL_ATTEMPT });
      const sys = s.systems.find((x) => x.system === locked.system);
      if (sys) sys.state = 'undone';
      parts.push(`${locked.label}: ${result.undone} undone${result.failed.length ? `, not undone: ${result.failed.join('; ')}` : ''}`);
    }
    if (parts.length) note('lockout', `${s.step('lockout').detail ?? ''}; lockout lifted: ${parts.join('; ')}`);
  }

  /** The process has settled (the undo window and retention may follow): a bulk parent is told. */
  async function settle(status: OffboardingStatus): Promise<OffboardingStatus> {
    s.status = status;
    const parent = workflowInfo().parent;
    if (parent) {
      try {
        await getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(childSettledSignal, { userId: input.userId, status });
      } catch {
        // The bulk request may be gone; the child's own result still stands.
      }
    }
    return status;
  }

  /** The end of the run: steps never reached are skipped, and running handlers finish first. */
  async function finish(status?: OffboardingStatus): Promise<OffboardingProgress> {
    if (status) s.status = status;
    s.closing = true;
    skipUnreached();
    await condition(allHandlersFinished);
    return s.progress();
  }

  // ---- Step bookkeeping: every step's state, times and detail are set here and only here. ----

  /** Runs one activity as a step. */
  async function step<T>(name: StepName, fn: () => Promise<T>, detail?: (result: T) => string | undefined): Promise<T> {
    begin(name);
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      end(name, 'failed', failureMessage(err));
      throw err;
    }
    end(name, 'done', detail?.(result));
    return result;
  }

  /** A step starts; one that runs again (an approval asked anew) keeps its first start time. */
  function begin(name: StepName, detail?: string): void {
    const st = s.step(name);
    st.state = 'running';
    st.startedAt ??= now();
    if (detail !== undefined) st.detail = detail;
  }

  /** What a running step has done so far. */
  function note(name: StepName, detail: string): void {
    s.step(name).detail = detail;
  }

  function end(name: StepName, state: 'done' | 'failed' | 'skipped', detail?: string): void {
    const st = s.step(name);
    st.state = state;
    if (detail !== undefined) st.detail = detail;
    st.finishedAt = now();
  }

  function skip(name: StepName, detail: string): void {
    end(name, 'skipped', detail);
  }

  /** At the end of the run, the steps never reached. */
  function skipUnreached(): void {
    for (const st of s.steps) if (st.state === 'pending') st.state = 'skipped';
  }
}

/**
 * Update validators refuse synchronously: nothing changes and the workflow never sees the call.
 * The one answer given later is a cancel by a non-Administrator before the plan has read the
 * leaver's manager: its handler waits for that and then accepts or refuses it.
 */
function registerHandlers(s: OffboardingState, input: OffboardingInput): void {
  /**
   * Refuses a caller who may not act. The leaver never may, Administrators always may; the
   * manager is known once the leaver's record is read. Before that the answer is `'later'`: only a
   * cancel can be asked then, and its handler decides as soon as the approvers are known.
   */
  function assertApprover(wire: unknown): 'yes' | 'later' {
    const caller = callerFrom(wire);
    const authority = offboardingAuthority({
      actor: { id: caller?.id, siteRole: caller?.role },
      leaver: { id: input.userId, managerId: s.managerId, managerKnown: s.approversKnown },
    });
    switch (authority) {
      case 'admin':
      case 'manager':
        return 'yes';
      case 'manager_unknown':
        return 'later';
      case 'caller_unknown':
        return refuse(ErrorType.NotAllowed, 'The caller is not identified.');
      case 'own_offboarding':
        return refuse(ErrorType.NotAllowed, 'A leaver cannot act on their own offboarding.');
      case 'not_an_approver':
        return refuse(ErrorType.NotAllowed, "Only the leaver's manager or an Administrator may act on this offboarding.");
    }
  }
  function assertCancellable(): void {
    if (!PRE_EXECUTION.includes(s.status) || s.executionStarted || s.answer) refuse(ErrorType.InvalidState, `The offboarding is ${s.status}; it can be cancelled only before execution starts.`);
  }
  function assertAwaiting(): void {
    if (s.status !== 'awaiting_approval' || s.answer) refuse(ErrorType.InvalidState, `The offboarding is ${s.status}, not waiting for an approval.`);
  }
  /** The caller of an accepted update (its validator identified them), in the one Caller shape. */
  const known = (caller: unknown): Caller => callerFrom(caller) ?? refuse(ErrorType.NotAllowed, 'The caller is not identified.');
  const answer = (action: Answer['action'], by: Caller, reason?: string) => {
    s.answer = { action, by, at: now(), reason };
  };

  // The start's source, requester and effective date come with every answer (a query adds no history).
  setHandler(progressQuery, () => ({ ...s.progress(), source: input.source, requestedBy: input.requestedBy, effectiveDate: input.effectiveDate }));
  setHandler(reactivatedSignal, () => {
    s.reactivated = true;
  });

  setHandler(
    approveUpdate,
    ({ caller }) => {
      answer('approved', known(caller));
      s.status = 'executing';
      return { status: s.status, planVersion: s.version };
    },
    {
      validator: ({ caller, planVersion: version }) => {
        assertApprover(caller);
        assertAwaiting();
        if (s.ownerChangesInFlight > 0) refuse(ErrorType.InvalidState, 'An owner change is in progress; approve once it has finished.');
        if (s.ownerNeeded) refuse(ErrorType.InvalidState, 'Choose a new owner (change-owner) before approving.');
        if (version !== s.version) refuse(ErrorType.StalePlan, `The plan changed: approve version ${s.version}, not ${String(version)}.`);
      },
    },
  );

  setHandler(
    rejectUpdate,
    ({ caller, reason }) => {
      answer('rejected', known(caller), reason);
      return { status: 'rejected' };
    },
    {
      validator: ({ caller }) => {
        assertApprover(caller);
        assertAwaiting();
        if (s.executionStarted) refuse(ErrorType.InvalidState, 'Transfers have started; choose another owner instead of rejecting.');
      },
    },
  );

  setHandler(
    cancelUpdate,
    async ({ caller, reason }) => {
      if (assertApprover(caller) === 'later') {
        // Accepted before the leaver's manager was known: decide once it is.
        s.pendingAuthority++;
        try {
          await condition(() => s.approversKnown || s.closing);
        } finally {
          s.pendingAuthority--;
        }
        if (!s.approversKnown) refuse(ErrorType.InvalidState, `The offboarding is ${s.status}; it can no longer be cancelled.`);
        assertApprover(caller);
        assertCancellable();
      }
      answer('cancelled', known(caller), reason);
      return { status: 'cancelled' };
    },
    {
      validator: ({ caller }) => {
        assertApprover(caller);
        assertCancellable();
      },
    },
  );

  setHandler(
    changeOwnerUpdate,
    async ({ newOwnerId, resourceId }) => {
      s.ownerChangesInFlight++;
      let email: string;
      try {
        ({ email } = await checks.checkNewOwner({ candidateId: newOwnerId, leaverId: input.userId }));
      } catch (err) {
        refuse(failureType(err) ?? ErrorType.NewOwnerInactive, failureMessage(err));
      } finally {
        s.ownerChangesInFlight--;
      }
      if (s.answer || !['awaiting_approval', 'waiting_effective_date'].includes(s.status)) refuse(ErrorType.InvalidState, `The offboarding is ${s.status}; the owner can no longer be changed.`);
      if (resourceId) {
        s.setOwners(s.defaultOwnerId, { ...s.assignments, [resourceId]: newOwnerId });
      } else {
        s.setOwners(newOwnerId, {});
        s.newOwner = { id: newOwnerId, email, source: 'approver' };
        s.ownerNeeded = false;
      }
      return { status: s.status, planVersion: s.version };
    },
    {
      validator: ({ caller, newOwnerId }) => {
        assertApprover(caller);
        if (!['awaiting_approval', 'waiting_effective_date'].includes(s.status) || s.answer) refuse(ErrorType.InvalidState, `The offboarding is ${s.status}; the owner can no longer be changed.`);
        if (newOwnerId === input.userId) refuse(ErrorType.NewOwnerInactive, 'The leaver cannot receive their own resources.');
      },
    },
  );

  setHandler(
    retrySystemsUpdate,
    async () => {
      s.retryRequested = true;
      // Answered once the round has run: the status then says whether the systems are clean now.
      await condition(() => !s.retryRequested || s.closing);
      return { status: s.status };
    },
    {
      validator: ({ caller }) => {
        assertApprover(caller);
        if (!s.retryOpen || s.retryRequested) refuse(ErrorType.InvalidState, `The offboarding is ${s.status}; a retry is possible only while access is left behind in a connected system.`);
      },
    },
  );

  setHandler(
    undoUpdate,
    ({ caller, reason }) => {
      s.undoRequest = { caller: known(caller), reason };
      return { status: s.status };
    },
    {
      validator: ({ caller }) => {
        assertApprover(caller);
        if (!s.undoOpen || s.undoRequest) refuse(ErrorType.InvalidState, `The offboarding is ${s.status}; undo is possible only during the grace period after it completed.`);
      },
    },
  );
}

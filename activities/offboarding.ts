/**
 * Offboarding activities. Each is idempotent: a retry after a crash leaves the same result
 * (transfers are keyed by transferId, revocations and audit events by the process run).
 * Permanent problems are thrown as non-retryable ApplicationFailures the workflow handles.
 */
import { Context, heartbeat } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Types } from 'mongoose';
import { countSubjectDocuments } from '../src/db/count';
import { getOrgSettings, offboardingRetentionMs } from '../src/db/models/org-settings';
import { AppError, NotFoundError } from '../src/errors';
import { renderOffboardingMail, type OffboardingMailKind } from '../src/mail/templates/offboarding';
import { hrTerminationToLockout, offboardingOutcomes } from '../src/metrics/metrics';
import { tokenAuthenticates } from '../src/security/access-tokens';
import { endAccess, liftLockout } from '../src/services/access';
import { activeManagerOf, administratorsOf, approversOf } from '../src/services/approvers';
import { recordAudit, SYSTEM_ACTOR, type Actor } from '../src/services/audit';
import { consoleUserUrl } from '../src/services/console-sign-in';
import { buildOffboardingPlan, newOwnerProblem } from '../src/services/offboarding-plan';
import { assertCanOwnResources, deactivateUser, deleteUserPermanently, getUserById, reactivateUser, transferResource } from '../src/services/users';
import { ErrorType } from '../workflows/errors';
import { planInSystems } from './connected-systems';
import type { OffboardingPlan, OffboardingPolicy, VerificationResult } from '../workflows/offboarding-messages';
import type { ActivityDeps, OffboardingTimings, RunRef } from './deps';

const DEFAULT_OFFBOARDING_TIMINGS: OffboardingTimings = {
  approvalReminderMs: 86_400_000,
  approvalEscalationMs: 3 * 86_400_000,
  undoGraceMs: 7 * 86_400_000,
};


export interface TransferItem {
  resourceId: string;
  toUserId: string;
}

export interface TransferBatchResult {
  transferred: string[];
  /** Already moved by this process (a retry), or no longer the leaver's. */
  skipped: string[];
  failed: Array<{ resourceId: string; error: string }>;
}

function permanent(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** Errors of the connection to the store: worth retrying the whole activity. */
function isTransient(err: unknown): boolean {
  const name = (err as { name?: string })?.name ?? '';
  return /^Mongo(Network|ServerSelection|NetworkTimeout|Pool|NotConnected)/.test(name) || name === 'MongoServerClosedError';
}

const processActor = (workflowId: string): Actor => ({ ...SYSTEM_ACTOR, email: `process:${workflowId}` });

/** Transfer ids name the run, so a later offboarding of the same user never collides. */
function transferIdFor(ref: RunRef, resourceId: string): string {
  return `${ref.workflowId}:${ref.runId}:${resourceId}`;
}

/** An HR-sourced offboarding's step that ends access first carries the HR event's receipt time. */
type HrReceipt = { hrReceivedAt?: string };

/** Observes the time from the HR termination's receipt to now, when the lockout has just landed. */
function observeHrLockout(receipt: HrReceipt): void {
  const receivedAt = receipt.hrReceivedAt ? Date.parse(receipt.hrReceivedAt) : NaN;
  if (Number.isFinite(receivedAt)) hrTerminationToLockout.observe(Math.max(0, Date.now() - receivedAt) / 1000);
}

function lockoutReason(ref: RunRef): string {
  return `lockout:${ref.workflowId}:${ref.runId}`;
}

/** The worker's Temporal client (to tell a pending invitee's onboarding that access ended); none outside an activity. */
function workerClient(): Client | undefined {
  try {
    return Context.current().client;
  } catch {
    return undefined;
  }
}

export function offboardingActivities(deps: ActivityDeps) {
  const { models } = deps;
  const timings = deps.offboarding ?? DEFAULT_OFFBOARDING_TIMINGS;

  async function leaverOrGone(userId: string) {
    try {
      return await getUserById(models, userId);
    } catch (err) {
      if (err instanceof NotFoundError) throw permanent(ErrorType.UserGone, `The user ${userId} no longer exists.`);
      throw err;
    }
  }

  /** Whom a mail goes to: the approvers and Administrators by the one rule of src/services/approvers.ts. */
  async function recipients(target: 'approvers' | 'admins' | 'requester_and_manager', userId: string, requesterId?: string): Promise<string[]> {
    const leaver = await models.User.findById(userId, { managerId: 1 }).lean();
    if (!leaver) return [];
    if (target === 'approvers') return (await approversOf(models, leaver)).map((u) => u.email);
    if (target === 'admins') return (await administratorsOf(models, leaver._id)).map((u) => u.email);
    const manager = await activeManagerOf(models, leaver);
    const requester = requesterId && Types.ObjectId.isValid(requesterId) ? await models.User.findById(requesterId, { email: 1 }).lean() : null;
    return [...new Set([requester?.email, manager?.email].filter((e): e is string => !!e))];
  }

  /**
   * A worker killed between a transfer's write and its audit event leaves the event missing; the
   * retry finds the transfer done and writes the event under the same key (so once, never twice).
   */
  async function ensureTransferAudited(ref: RunRef, resourceId: string): Promise<void> {
    const transferId = transferIdFor(ref, resourceId);
    const resource = await models.Resource.findById(resourceId).lean();
    const transfer = resource?.transfers?.find?.((t) => t.transferId === transferId);
    if (!resource || !transfer) return;
    await recordAudit(models, {
      action: 'resource.transferred',
      actor: processActor(ref.workflowId),
      target: { id: transfer.fromUserId },
      processId: ref.workflowId,
      eventKey: `transfer:${transferId}`,
      details: { resourceId, kind: resource.kind, name: resource.name, from: String(transfer.fromUserId), to: String(transfer.toUserId) },
    });
  }

  return {
    /**
     * Builds the plan and reads the policy that applies to this process. `withoutSystems`: the
     * connected systems are read by their own activity (readConnectedSystems) instead of here, and
     * `connectedSystems` says how many this worker reaches (none: that activity is not needed).
     */
    async planOffboarding(input: { userId: string; newOwnerId?: string; workflowId: string; runId?: string; withoutSystems?: boolean }): Promise<{ plan: OffboardingPlan; policy: OffboardingPolicy; connectedSystems: number }> {
      const user = await leaverOrGone(input.userId);
      if (user.status === 'deactivated') throw permanent(ErrorType.InvalidState, `${user.email} is already deactivated.`);
      const plan = await buildOffboardingPlan(models, { userId: input.userId, newOwnerId: input.newOwnerId });
      const systems = input.withoutSystems ? [] : await planInSystems(deps, input.userId, plan.newOwner?.id);
      if (systems.length) plan.systems = systems;
      const settings = await getOrgSettings(models.OrgSettings);
      const policy: OffboardingPolicy = {
        approvalRequired: settings.offboarding?.approvalRequired ?? true,
        approvalReminderMs: timings.approvalReminderMs,
        approvalEscalationMs: timings.approvalEscalationMs,
        undoGraceMs: timings.undoGraceMs,
        retentionMs: offboardingRetentionMs(settings),
        ...(timings.systemRetryMs ? { systemRetryMs: timings.systemRetryMs } : {}),
      };
      await recordAudit(models, {
        action: 'offboarding.planned',
        actor: processActor(input.workflowId),
        target: { id: user._id, email: user.email },
        processId: input.workflowId,
        eventKey: `${input.workflowId}:${input.runId ?? '-'}:planned`,
        details: { resources: plan.resourcesTotal, newOwner: plan.newOwner, tokens: plan.tokens.length, sessions: plan.sessions.active, systems: systems.map((s) => ({ system: s.system, actions: s.actions.length, error: s.error })) },
      });
      return { plan, policy, connectedSystems: deps.connectors?.length ?? 0 };
    },

    /**
     * Locks the account out and ends its access at once (access.ts): sessions, tokens (marked so a
     * cancel can restore exactly them), a pending invitee's invitation and onboarding.
     */
    async lockOutUser(ref: RunRef & HrReceipt): Promise<{ sessionsEnded: number; tokensRevoked: number }> {
      const userId = new Types.ObjectId(ref.userId);
      const ended = await endAccess(models, userId, { reason: 'lockout', lock: { processId: ref.workflowId, runId: ref.runId }, tokenReason: lockoutReason(ref), temporal: workerClient() });
      const user = await models.User.findById(userId, { email: 1 }).lean();
      await recordAudit(models, {
        action: 'offboarding.locked_out',
        actor: processActor(ref.workflowId),
        target: { id: userId, email: user?.email },
        processId: ref.workflowId,
        eventKey: `${ref.workflowId}:${ref.runId}:lockout`,
        details: { sessionsEnded: ended.sessionsEnded, tokensRevoked: ended.tokensRevoked, invitationRevoked: ended.invitationRevoked },
      });
      observeHrLockout(ref);
      return { sessionsEnded: ended.sessionsEnded, tokensRevoked: ended.tokensRevoked };
    },

    /**
     * Lifts this run's lockout and restores the tokens it revoked (sessions stay ended: the user
     * signs in again; a withdrawn invitation stays withdrawn: an Administrator resends it).
     */
    async undoLockout(ref: RunRef): Promise<{ tokensRestored: number }> {
      const userId = new Types.ObjectId(ref.userId);
      await liftLockout(models, userId, ref.workflowId, ref.runId);
      const restored = await models.AccessToken.updateMany({ userId, revokedReason: lockoutReason(ref) }, { $unset: { revokedAt: '', revokedReason: '' } });
      await recordAudit(models, {
        action: 'offboarding.lockout_undone',
        actor: processActor(ref.workflowId),
        target: { id: userId },
        processId: ref.workflowId,
        eventKey: `${ref.workflowId}:${ref.runId}:lockout-undone`,
        details: { tokensRestored: restored.modifiedCount },
      });
      return { tokensRestored: restored.modifiedCount };
    },

    /** Whether a user may receive the leaver's resources; a permanent failure when not. */
    async checkNewOwner(input: { candidateId: string; leaverId: string }): Promise<{ email: string }> {
      const problem = await newOwnerProblem(models, input.candidateId, input.leaverId);
      if (problem) throw permanent(ErrorType.NewOwnerInactive, `Cannot hand the resources to ${input.candidateId}: ${problem}.`);
      const user = await models.User.findById(input.candidateId, { email: 1 }).lean();
      return { email: user!.email };
    },

    /** What the leaver owns right now (re-read at execution, so new resources are included). */
    async listOwnedResourceIds(input: { userId: string; limit?: number }): Promise<string[]> {
      const found = await models.Resource.find({ ownerId: new Types.ObjectId(input.userId) }, { _id: 1 })
        .sort({ _id: 1 })
        .limit(input.limit ?? 5000)
        .lean();
      return found.map((r) => String(r._id));
    },

    /**
     * Transfers a batch, heartbeating after each resource. A retried batch skips what already
     * moved (transferId). An inactive new owner stops the batch: the approver must choose again.
     */
    async transferResources(input: RunRef & { items: TransferItem[] }): Promise<TransferBatchResult> {
      const result: TransferBatchResult = { transferred: [], skipped: [], failed: [] };
      const leaverId = new Types.ObjectId(input.userId);
      // The new owners are checked once for the batch, not once per resource.
      for (const toUserId of new Set(input.items.map((i) => i.toUserId))) {
        try {
          await assertCanOwnResources(models, new Types.ObjectId(toUserId));
        } catch (err) {
          if (err instanceof AppError) throw permanent(ErrorType.NewOwnerInactive, err.message);
          throw err;
        }
      }
      for (const item of input.items) {
        heartbeat({ done: result.transferred.length + result.skipped.length + result.failed.length });
        try {
          const outcome = await transferResource(models, {
            resourceId: new Types.ObjectId(item.resourceId),
            toUserId: new Types.ObjectId(item.toUserId),
            transferId: transferIdFor(input, item.resourceId),
            actor: processActor(input.workflowId),
            processId: input.workflowId,
            reason: 'offboarding',
            expectedOwnerId: leaverId,
            newOwnerChecked: true,
          });
          if (outcome.transferred) result.transferred.push(item.resourceId);
          else {
            await ensureTransferAudited(input, item.resourceId);
            result.skipped.push(item.resourceId);
          }
        } catch (err) {
          if (err instanceof AppError && (err.code === 'new_owner_inactive' || err.code === 'unknown_new_owner')) {
            throw permanent(ErrorType.NewOwnerInactive, err.message);
          }
          if (err instanceof AppError && (err.code === 'resource_not_found' || err.code === 'owner_changed')) {
            result.skipped.push(item.resourceId);
            continue;
          }
          if (isTransient(err)) throw err;
          result.failed.push({ resourceId: item.resourceId, error: (err as Error).message?.slice(0, 300) ?? String(err) });
        }
      }
      heartbeat({ done: input.items.length });
      return result;
    },

    /** Ends every session, revokes every token, withdraws any invitation (access.ts) and leaves every group. */
    async revokeAccess(ref: RunRef & HrReceipt): Promise<{ sessionsEnded: number; tokensRevoked: number; groupsLeft: string[] }> {
      const userId = new Types.ObjectId(ref.userId);
      const { sessionsEnded, tokensRevoked } = await endAccess(models, userId, { reason: 'offboarding', tokenReason: `offboarding:${ref.workflowId}:${ref.runId}`, temporal: workerClient() });
      const user = await models.User.findById(userId, { groups: 1, email: 1 }).lean();
      const groupsLeft = (user?.groups ?? []).map(String);
      if (groupsLeft.length) await models.User.updateOne({ _id: userId }, { $set: { groups: [] } });
      await recordAudit(models, {
        action: 'offboarding.access_revoked',
        actor: processActor(ref.workflowId),
        target: { id: userId, email: user?.email },
        processId: ref.workflowId,
        eventKey: `${ref.workflowId}:${ref.runId}:access-revoked`,
        details: { sessionsEnded, tokensRevoked, groupsLeft },
      });
      observeHrLockout(ref);
      return { sessionsEnded, tokensRevoked, groupsLeft };
    },

    /** Deactivates; a leaver who still owns something stays as is and the verification reports it. */
    async deactivateLeaver(ref: RunRef): Promise<{ deactivated: boolean; reason?: string }> {
      await leaverOrGone(ref.userId);
      try {
        await deactivateUser(models, new Types.ObjectId(ref.userId), processActor(ref.workflowId), { processId: ref.workflowId, idempotent: true, temporal: workerClient() });
        return { deactivated: true };
      } catch (err) {
        if (err instanceof AppError && err.code === 'owns_resources') return { deactivated: false, reason: err.message };
        throw err;
      }
    },

    /**
     * Re-reads the store: what access the leaver still has. Every token is read back and judged
     * by the authenticator's own rule, and every session not ended counts, so "clean" is never
     * reported while a credential still lets the leaver in, here or in a connected system. A clean result completes the
     * offboarding (counted here; one left behind is counted where it is raised).
     */
    async verifyOffboarding(input: { userId: string; systemsClean?: boolean }): Promise<VerificationResult> {
      const userId = new Types.ObjectId(input.userId);
      const [user, activeSessions, tokens, owned] = await Promise.all([
        models.User.findById(userId, { status: 1, groups: 1, email: 1 }).lean(),
        countSubjectDocuments(models.Session, { userId, endedAt: null }),
        models.AccessToken.find({ userId }, { revokedAt: 1, expiresAt: 1 }).lean(),
        countSubjectDocuments(models.Resource, { ownerId: userId }),
      ]);
      const now = new Date();
      const liveTokens = tokens.filter((t) => tokenAuthenticates(t, now)).length;
      const groups = user?.groups?.length ?? 0;
      const status = user?.status ?? null;
      // Connected systems were verified first (their own activity); any of them unclean makes the whole unclean.
      const clean = status === 'deactivated' && activeSessions === 0 && liveTokens === 0 && owned === 0 && groups === 0 && input.systemsClean !== false;
      if (clean) {
        offboardingOutcomes.inc({ outcome: 'completed' });
        // The clean end is audited (once per run) like the one that leaves access behind: outbound webhooks read both.
        const run = Context.current().info.workflowExecution;
        if (run) await recordAudit(models, {
          action: 'offboarding.completed',
          actor: processActor(run.workflowId),
          target: { id: userId, email: user?.email },
          processId: run.workflowId,
          eventKey: `${run.workflowId}:${run.runId}:completed`,
          details: { activeSessions, liveTokens, owned, groups },
        });
      }
      return { clean, status, activeSessions, liveTokens, owned, groups };
    },

    /** The alert of an offboarding that left access behind: an audit event and a mail to Administrators. */
    async raiseAccessLeftBehind(input: RunRef & { verification: VerificationResult; failed: string[] }): Promise<void> {
      const user = await models.User.findById(input.userId, { email: 1 }).lean();
      await recordAudit(models, {
        action: 'offboarding.access_left_behind',
        actor: processActor(input.workflowId),
        target: { id: input.userId, email: user?.email },
        processId: input.workflowId,
        eventKey: `${input.workflowId}:${input.runId}:access-left-behind`,
        details: { ...input.verification, failedResources: input.failed },
      });
      offboardingOutcomes.inc({ outcome: 'completed_with_access_left_behind' });
    },

    /** One email of the process; the Message-ID is stable so a retried send is recognisable. */
    async sendOffboardingMail(input: RunRef & { kind: OffboardingMailKind; to: 'approvers' | 'admins' | 'requester_and_manager'; requesterId?: string; reason?: string; detail?: string; key?: string }): Promise<{ sentTo: string[] }> {
      const to = await recipients(input.to, input.userId, input.requesterId);
      if (!to.length) return { sentTo: [] };
      const leaver = await models.User.findById(input.userId, { email: 1 }).lean();
      const mail = renderOffboardingMail({
        kind: input.kind,
        leaverEmail: leaver?.email ?? input.userId,
        processId: input.workflowId,
        reason: input.reason,
        detail: input.detail,
        link: consoleUserUrl(deps.publicBaseUrl, input.userId),
      });
      const idPart = `${input.workflowId}.${input.runId}.${input.kind}${input.key ? `.${input.key}` : ''}`.replace(/[^A-Za-z0-9.-]/g, '-');
      await deps.mailer.send({ to, ...mail, messageId: `<${idPart}@tenure>` });
      return { sentTo: to };
    },

    /**
     * Undo: reactivates the account, hands back what this run transferred (where it still sits
     * with the owner it went to) and restores its groups. Tokens stay revoked.
     */
    async undoOffboardingChanges(input: RunRef & { groups: string[]; actor: { id?: string; email?: string } }): Promise<{ reactivated: boolean; handedBack: number }> {
      const user = await leaverOrGone(input.userId);
      const leaverId = user._id;
      const actor: Actor = input.actor.id ? { type: 'user', id: input.actor.id, email: input.actor.email } : processActor(input.workflowId);
      let reactivated = false;
      if (user.status === 'deactivated') {
        try {
          await reactivateUser(models, leaverId, actor, { processId: input.workflowId });
          reactivated = true;
        } catch (err) {
          if (err instanceof AppError) throw permanent(ErrorType.Conflict, err.message);
          throw err;
        }
      }
      const prefix = `${input.workflowId}:${input.runId}:`;
      // Multikey index { transfers.processId }; the run's own transfer is picked below.
      const moved = await models.Resource.find({ 'transfers.processId': input.workflowId }).lean();
      let handedBack = 0;
      for (const resource of moved) {
        heartbeat({ handedBack });
        const transfer = resource.transfers.find((t) => t.transferId.startsWith(prefix) && t.fromUserId.equals(leaverId));
        if (!transfer || !resource.ownerId.equals(transfer.toUserId)) continue;
        const outcome = await transferResource(models, {
          resourceId: resource._id,
          toUserId: leaverId,
          transferId: `undo:${transfer.transferId}`,
          actor,
          processId: input.workflowId,
          reason: 'offboarding undone',
          expectedOwnerId: transfer.toUserId,
        }).catch((err) => {
          if (err instanceof AppError) return { transferred: false };
          throw err;
        });
        if (outcome.transferred) handedBack++;
      }
      const groups = input.groups.filter((g) => Types.ObjectId.isValid(g)).map((g) => new Types.ObjectId(g));
      if (groups.length) await models.User.updateOne({ _id: leaverId }, { $addToSet: { groups: { $each: groups } } });
      await recordAudit(models, {
        action: 'offboarding.undone',
        actor,
        target: { id: leaverId, email: user.email },
        processId: input.workflowId,
        eventKey: `${input.workflowId}:${input.runId}:undone`,
        details: { reactivated, handedBack },
      });
      return { reactivated, handedBack };
    },

    /** Permanent delete after retention, only if the account is still deactivated. */
    async deleteAfterRetention(ref: RunRef): Promise<{ deleted: boolean; reason?: string }> {
      const user = await models.User.findById(ref.userId, { status: 1 }).lean();
      if (!user) return { deleted: true, reason: 'already gone' };
      if (user.status !== 'deactivated') return { deleted: false, reason: `the account is ${user.status}` };
      try {
        await deleteUserPermanently(models, new Types.ObjectId(ref.userId), processActor(ref.workflowId), { processId: ref.workflowId, temporal: workerClient() });
        return { deleted: true };
      } catch (err) {
        if (err instanceof AppError) return { deleted: false, reason: err.message };
        throw err;
      }
    },

    /** Deactivated → active (the reactivation workflow). Already active is success for a retry. */
    async reactivateAccount(input: { userId: string; workflowId: string; requestedBy: { type?: Actor['type']; id?: string; email?: string } }): Promise<{ reactivated: boolean; status: string }> {
      const user = await leaverOrGone(input.userId);
      if (user.status === 'active') return { reactivated: false, status: 'active' };
      if (user.status !== 'deactivated') {
        // The same answer as the check before the start (user-admin.ts), should the status change in between.
        throw ApplicationFailure.create({ type: ErrorType.InvalidState, message: `${user.email} is ${user.status}; only deactivated users can be reactivated.`, nonRetryable: true, details: [{ status: 409, code: 'invalid_state', details: { status: user.status } }] });
      }
      const actor: Actor = input.requestedBy.id ? { type: input.requestedBy.type ?? 'user', id: input.requestedBy.id, email: input.requestedBy.email } : processActor(input.workflowId);
      try {
        await reactivateUser(models, user._id, actor, { processId: input.workflowId });
      } catch (err) {
        // The refusal's own code and status travel with it (plan_limit_reached stays a 422).
        if (err instanceof AppError) throw ApplicationFailure.create({ type: ErrorType.Conflict, message: err.message, nonRetryable: true, details: [{ status: err.status, code: err.code, details: err.details }] });
        throw err;
      }
      return { reactivated: true, status: 'active' };
    },
  };
}

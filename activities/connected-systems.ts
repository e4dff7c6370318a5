/**
 * Offboarding activities for the connected systems (src/connectors/). A system that cannot be
 * reached is retried by Temporal (the activity throws a retryable failure) until the attempt the
 * workflow names as final; that attempt reports the system as left behind instead of throwing,
 * so the process goes on and says which system still holds access. A system that refuses
 * (credentials, permissions) is reported at once: retrying cannot fix it.
 */
import { Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Types } from 'mongoose';
import { ConnectorRefusedError, SystemUnavailableError, type ActionOutcome, type Connector, type LeaverRef, type NewOwnerRef } from '../src/connectors/contract';
import { actInSystem, checkSystem, planInSystem, undoInSystem, type RoundScope } from '../src/connectors/run';
import type { Models } from '../src/db/models';
import { recordAudit, SYSTEM_ACTOR } from '../src/services/audit';
import { ErrorType } from '../workflows/errors';
import type { SystemActionOutcome, SystemActResult, SystemCheck, SystemPlan } from '../workflows/offboarding-messages';
import type { ActivityDeps, RunRef } from './deps';

/** The failure type of a system that could not be reached (retryable). */
const SYSTEM_UNAVAILABLE = 'SystemUnavailable';

/** Whether this is the attempt the workflow names as the last one before reporting the system. */
function finalAttempt(final: number): boolean {
  return Context.current().info.attempt >= final;
}

/** What to report of a system problem: a retryable failure before the final attempt, the reason on it. */
function systemProblem(err: unknown, final: number): string {
  if (err instanceof ConnectorRefusedError) return `refused: ${err.message}`;
  if (err instanceof SystemUnavailableError) {
    // A system's Retry-After sets the wait before Temporal's next attempt (else the activity's backoff).
    if (!finalAttempt(final)) throw ApplicationFailure.create({ type: SYSTEM_UNAVAILABLE, message: err.message, nonRetryable: false, ...(err.retryAfterMs ? { nextRetryDelay: err.retryAfterMs } : {}) });
    return `unreachable: ${err.message}`;
  }
  throw err;
}

/** What earlier attempts of this activity did, from their last heartbeat (none on a first attempt). */
function earlierOutcomes(): ActionOutcome[] {
  const details: unknown = Context.current().info.heartbeatDetails;
  return Array.isArray(details) ? details.filter((o): o is ActionOutcome => typeof o === 'object' && o !== null && typeof (o as ActionOutcome).key === 'string' && typeof (o as ActionOutcome).state === 'string') : [];
}

/** The leaver and the new owner as every system looks them up (by email). */
async function leaverOf(models: Models, userId: string): Promise<LeaverRef> {
  const user = Types.ObjectId.isValid(userId) ? await models.User.findById(userId, { email: 1 }).lean() : null;
  if (!user) throw ApplicationFailure.create({ type: ErrorType.UserGone, message: `The user ${userId} no longer exists.`, nonRetryable: true });
  return { userId, email: user.email };
}

async function ownerOf(models: Models, userId: string | null | undefined): Promise<NewOwnerRef | null> {
  if (!userId || !Types.ObjectId.isValid(userId)) return null;
  const user = await models.User.findById(userId, { email: 1 }).lean();
  return user ? { userId, email: user.email } : null;
}

/** How long reading one system for the plan may take before it is reported unreadable (OFFBOARDING_SYSTEM_READ_TIMEOUT). */
const DEFAULT_SYSTEM_READ_TIMEOUT_MS = 30_000;

/** Settles with the work's result, or with `undefined` once `ms` have passed (the work is then left to its own timeouts). */
async function within<T>(ms: number, work: Promise<T>): Promise<{ value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work.then((value) => ({ value })), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What each connected system holds and what would be done there; a system that cannot be read
 * (down, refusing, or not answering within `readTimeoutMs`) says so instead of holding up the
 * plan. `onRead` is called as each system's read ends (the activity heartbeats there).
 */
export async function planInSystems(
  deps: Pick<ActivityDeps, 'models' | 'connectors' | 'offboarding'>,
  userId: string,
  newOwnerId: string | null | undefined,
  onRead: () => void = () => {},
): Promise<SystemPlan[]> {
  const connectors = deps.connectors ?? [];
  if (!connectors.length) return [];
  const readTimeoutMs = deps.offboarding?.systemReadTimeoutMs ?? DEFAULT_SYSTEM_READ_TIMEOUT_MS;
  const [leaver, owner] = await Promise.all([leaverOf(deps.models, userId), ownerOf(deps.models, newOwnerId)]);
  const unreadable = (connector: Connector, why: string): SystemPlan => ({
    system: connector.id,
    label: connector.label,
    account: null,
    actions: [],
    error: `${why}; read again when the plan is carried out`,
  });
  return Promise.all(
    connectors.map(async (connector) => {
      try {
        const read = await within(readTimeoutMs, planInSystem(connector, leaver, owner));
        return read ? read.value : unreadable(connector, `could not be read: timed out after ${Math.round(readTimeoutMs / 1000)} s`);
      } catch (err) {
        if (!(err instanceof SystemUnavailableError || err instanceof ConnectorRefusedError)) throw err;
        return unreadable(connector, `${err instanceof ConnectorRefusedError ? 'refused' : 'unreachable'}: ${err.message}`);
      } finally {
        onRead();
      }
    }),
  );
}

export function connectedSystemActivities(deps: ActivityDeps) {
  const byId = new Map<string, Connector>((deps.connectors ?? []).map((c) => [c.id, c]));
  const notConfigured = (system: string) => `not configured on this worker: set its connector's settings (${system})`;

  /**
   * One round in one system (the approved plan, or an immediate lockout), audited once. Each
   * action's outcome is heartbeated with everything done so far, so a retried attempt, or the
   * final attempt that reports the system left behind, still carries what earlier attempts did
   * and the undo data it needs.
   */
  async function runRound(
    input: RunRef & { system: string; finalAttempt: number },
    scope: RoundScope,
    newOwnerId: string | null,
    audit: { action: 'offboarding.system_acted' | 'offboarding.system_locked_out'; eventKey: string },
  ): Promise<SystemActResult> {
    const connector = byId.get(input.system);
    if (!connector) return { system: input.system, label: input.system, outcomes: [], error: notConfigured(input.system) };
    const leaver = await leaverOf(deps.models, input.userId);
    let soFar = earlierOutcomes();
    let result: SystemActResult;
    try {
      result = await actInSystem(connector, leaver, await ownerOf(deps.models, newOwnerId), {
        scope,
        earlier: soFar,
        progress: (outcomes) => {
          soFar = outcomes;
          heartbeat(outcomes);
        },
      });
    } catch (err) {
      result = { system: connector.id, label: connector.label, outcomes: soFar, error: systemProblem(err, input.finalAttempt) };
    }
    await recordAudit(deps.models, {
      action: audit.action,
      actor: { ...SYSTEM_ACTOR, email: `process:${input.workflowId}` },
      target: { id: input.userId, email: leaver.email },
      processId: input.workflowId,
      eventKey: audit.eventKey,
      details: { system: input.system, error: result.error, outcomes: result.outcomes.map((o) => ({ summary: o.summary, state: o.state, detail: o.detail })) },
    });
    return result;
  }

  return {
    /** Carries out the offboarding in one system; audited once per round. */
    async actInConnectedSystem(input: RunRef & { system: string; newOwnerId: string | null; round: number; finalAttempt: number }): Promise<SystemActResult> {
      return runRound(input, 'plan', input.newOwnerId, { action: 'offboarding.system_acted', eventKey: `${input.workflowId}:${input.runId}:system:${input.system}:${input.round}` });
    },

    /**
     * Reads every connected system for the plan, in an activity of its own: it heartbeats as each
     * system's read ends (and while reads are under way), and each read is bounded, so a system
     * that hangs is reported unreadable in the plan instead of stalling it.
     */
    async readConnectedSystems(input: RunRef & { newOwnerId: string | null }): Promise<SystemPlan[]> {
      const ticker = setInterval(() => heartbeat(), 2_000);
      let systems: SystemPlan[];
      try {
        systems = await planInSystems(deps, input.userId, input.newOwnerId, () => heartbeat());
      } finally {
        clearInterval(ticker);
      }
      if (systems.length) {
        await recordAudit(deps.models, {
          action: 'offboarding.systems_read',
          actor: { ...SYSTEM_ACTOR, email: `process:${input.workflowId}` },
          target: { id: input.userId },
          processId: input.workflowId,
          eventKey: `${input.workflowId}:${input.runId}:systems_read`,
          details: { systems: systems.map((x) => ({ system: x.system, actions: x.actions.length, error: x.error })) },
        });
      }
      return systems;
    },

    /** The connected systems this worker reaches (an immediate lockout acts in each). */
    async listConnectedSystems(): Promise<Array<{ system: string; label: string }>> {
      return [...byId.values()].map((c) => ({ system: c.id, label: c.label }));
    },

    /**
     * An immediate lockout in one system: only its lockout-class actions (sign-in, sessions,
     * tokens), before the plan is approved. Idempotent (each action re-reads the system); a
     * system still down on the final attempt is reported, never thrown, so the process goes on.
     */
    async lockOutInConnectedSystem(input: RunRef & { system: string; finalAttempt: number }): Promise<SystemActResult> {
      return runRound(input, 'lockout', null, { action: 'offboarding.system_locked_out', eventKey: `${input.workflowId}:${input.runId}:lockout:${input.system}` });
    },

    /** Re-reads one system for the verification. */
    async checkConnectedSystem(input: { userId: string; system: string; finalAttempt: number }): Promise<SystemCheck> {
      const connector = byId.get(input.system);
      if (!connector) return { system: input.system, label: input.system, clean: false, remaining: [], error: notConfigured(input.system) };
      try {
        return await checkSystem(connector, await leaverOf(deps.models, input.userId));
      } catch (err) {
        return { system: connector.id, label: connector.label, clean: false, remaining: [], error: systemProblem(err, input.finalAttempt) };
      }
    },

    /** Undo in one system: reverses the done actions where the system allows it. */
    async undoInConnectedSystem(input: RunRef & { system: string; outcomes: SystemActionOutcome[]; finalAttempt: number }): Promise<{ undone: number; failed: string[] }> {
      const connector = byId.get(input.system);
      if (!connector) return { undone: 0, failed: [notConfigured(input.system)] };
      try {
        const results = await undoInSystem(connector, await leaverOf(deps.models, input.userId), input.outcomes, () => heartbeat());
        return { undone: results.filter((r) => r.state === 'undone').length, failed: results.filter((r) => r.state === 'failed').map((r) => `${r.key}: ${r.detail ?? 'failed'}`) };
      } catch (err) {
        return { undone: 0, failed: [systemProblem(err, input.finalAttempt)] };
      }
    },
  };
}

/**
 * What is asked of an offboarding, from every way in (API, Slack, SCIM, HR intake and its
 * reconciliation): the request goes to the process and lands in the audit log here, once, so every
 * way in leaves the same trail. The actor is the person's tenure account as that way in records it,
 * or the system that asked (the SCIM client, the HR provider); refusals of the process (not an
 * approver, the leaver, a stale plan, a finished process) are audited as refusals.
 */
import type { Client } from '@temporalio/client';
import type { Types } from 'mongoose';
import type { Requester } from '../../workflows/messages/caller';
import { planVersion, type ActionResult, type Caller, type OffboardingPlan } from '../../workflows/offboarding-messages';
import type { Models } from '../db/models';
import type { SiteRole } from '../domain/roles';
import { AppError } from '../errors';
import { offboardingOutcomes } from '../metrics/metrics';
import {
  actOnOffboarding,
  getOffboardingProgress,
  offboardingRunning,
  offboardingWorkflowId,
  startOffboarding,
  type OffboardingAction,
  type OffboardingRequest,
  type ProcessSource,
} from '../processes/offboarding';
import type { StartedProcess } from '../processes/process';
import { recordAudit, type Actor } from './audit';
import { buildOffboardingPlan } from './offboarding-plan';

export interface OffboardingRequestDeps {
  models: Models;
  temporal: Client;
  taskQueue: string;
}

/** A tenure user acting through one way in. */
export interface ActingUser {
  user: { _id: Types.ObjectId; siteRole: SiteRole; email: string };
  /** The actor as the audit log records it (its type names the way in: `user` for the API, `slack`). */
  actor: Actor;
  source: ProcessSource;
  /** What the way in adds to every audit entry (e.g. the Slack user id). */
  context?: Record<string, unknown>;
}

/** A system asking for an offboarding (the SCIM client, the HR provider): no tenure account of its own. */
export interface ActingSystem {
  requestedBy: Requester;
  /** The actor as the audit log records it (`scim`, `hr`, or the person behind an API token used for SCIM). */
  actor: Actor;
  source: ProcessSource;
  /** What the way in adds to the audit entry (e.g. the HR provider and event). */
  context?: Record<string, unknown>;
}

type Leaver = { _id: Types.ObjectId; email: string };

/** Refusals a caller caused (403, 409, 422) are audited; failures of ours (5xx) are not refusals. */
const REFUSAL_STATUSES = new Set([403, 409, 422]);

function requesterOf(by: ActingUser | ActingSystem): Requester {
  return 'user' in by ? { type: 'user', id: String(by.user._id), email: by.user.email } : by.requestedBy;
}

/** Starts (or joins) the offboarding of `leaver` for `by`, and audits it. */
export async function requestOffboarding(
  deps: OffboardingRequestDeps,
  leaver: Leaver,
  by: ActingUser | ActingSystem,
  request: Pick<OffboardingRequest, 'reason' | 'effectiveDate' | 'newOwnerId' | 'immediateLockout' | 'hrReceivedAt'>,
): Promise<StartedProcess> {
  const started = await startOffboarding(deps.temporal, deps.taskQueue, {
    ...request,
    userId: String(leaver._id),
    requestedBy: requesterOf(by),
    source: by.source,
  });
  await recordAudit(deps.models, {
    action: started.started ? 'offboarding.requested' : 'offboarding.request_joined',
    actor: by.actor,
    target: { id: leaver._id, email: leaver.email },
    processId: started.workflowId,
    details: { reason: request.reason, source: by.source, effectiveDate: request.effectiveDate, immediateLockout: !!request.immediateLockout, ...by.context },
  });
  return started;
}

/**
 * Sends one action to the running offboarding of `leaver` as `by` (the workflow's validators
 * decide who may) and audits the outcome: `offboarding.<action>`, or `offboarding.<action>_refused`
 * with the refusal's code. The typed AppError of a refusal is rethrown for the caller to answer.
 * An accepted reject or cancel settles the process that way: it is counted here, with its audit
 * entry (no activity of the process runs for it).
 */
export async function actOnOffboardingAs(
  deps: Omit<OffboardingRequestDeps, 'taskQueue'>,
  leaver: Leaver,
  by: ActingUser | (ActingSystem & { caller: Caller }),
  command: OffboardingAction,
): Promise<ActionResult> {
  const processId = offboardingWorkflowId(String(leaver._id));
  const event = `offboarding.${command.action.replace('-', '_')}`;
  const caller: Caller = 'user' in by ? { id: String(by.user._id), role: by.user.siteRole, email: by.user.email } : by.caller;
  const audit = (action: string, details: Record<string, unknown>) =>
    recordAudit(deps.models, { action, actor: by.actor, target: { id: leaver._id, email: leaver.email }, processId, details: { ...details, source: by.source, ...by.context } });
  let result: ActionResult;
  try {
    result = await actOnOffboarding(deps.temporal, String(leaver._id), caller, command);
  } catch (err) {
    if (err instanceof AppError && REFUSAL_STATUSES.has(err.status)) await audit(`${event}_refused`, { code: err.code, message: err.message });
    throw err;
  }
  await audit(event, { ...command, result });
  if (command.action === 'reject' || command.action === 'cancel') offboardingOutcomes.inc({ outcome: command.action === 'reject' ? 'rejected' : 'cancelled' });
  return result;
}

export type PlanView = OffboardingPlan & { version: string; assignments: Record<string, string> };

/**
 * The plan an approver reads. While an offboarding of the user runs, its own plan: the owners as
 * they stand after any change of owner, and the version to approve. Otherwise (or when asked
 * about another new owner) a dry run that changes nothing.
 */
export async function viewOffboardingPlan(models: Models, client: Client, userId: string, newOwnerId?: string): Promise<PlanView> {
  if (!newOwnerId && (await offboardingRunning(client, userId))) {
    const progress = await getOffboardingProgress(client, userId);
    if (progress.plan) return progress.plan;
  }
  const plan = await buildOffboardingPlan(models, { userId, newOwnerId });
  return { ...plan, version: planVersion(plan.newOwner?.id ?? null, {}), assignments: {} };
}

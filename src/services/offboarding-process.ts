/**
 * Starting and driving offboarding processes from any way in (API, Slack, HR intake, SCIM).
 * Contract shared by those callers; the workflow lives in workflows/offboarding.ts.
 * Failures of the process's updates come back as typed AppErrors (403, 404, 409, 422).
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ErrorType } from '../../workflows/errors';
import {
  approveUpdate,
  bulkProgressQuery,
  cancelUpdate,
  changeOwnerUpdate,
  progressQuery,
  rejectUpdate,
  undoUpdate,
  type ActionResult,
  type BulkOffboardingInput,
  type BulkOffboardingProgress,
  type Caller,
  type OffboardingInput,
  type OffboardingPlan,
  type OffboardingProgress,
  planVersion,
} from '../../workflows/offboarding-messages';
import { TENURE_PROCESS, TENURE_SUBJECT } from '../../workflows/search-attributes';
import type { Models } from '../db/models';
import { ConflictError, ForbiddenError, NotFoundError, UnprocessableError } from '../errors';
import { buildOffboardingPlan } from './offboarding-plan';
import { bulkOffboardingWorkflowId, offboardingWorkflowId, reactivationWorkflowId } from './process-ids';

export { offboardingWorkflowId, reactivationWorkflowId };

export type ProcessSource = 'slack' | 'hr' | 'api' | 'scim';

export interface OffboardingRequest {
  userId: string;
  reason: string;
  /** Who asked: a tenure user id when there is one. */
  requestedBy: { type: 'user' | 'system' | 'hr' | 'scim' | 'slack'; id?: string; email?: string };
  source: ProcessSource;
  /** ISO date (YYYY-MM-DD) or date-time; the process waits for it durably. */
  effectiveDate?: string;
  newOwnerId?: string;
  immediateLockout?: boolean;
}

export interface StartedProcess {
  workflowId: string;
  runId?: string;
  /** false when a running process with the same business key was joined instead. */
  started: boolean;
}

/**
 * Starts a workflow with `USE_EXISTING`: a second start joins the running one. A one-off
 * request id in the memo tells whether this call started it.
 */
async function startOrJoin(
  client: Client,
  workflowType: string,
  options: { workflowId: string; taskQueue: string; args: unknown[]; process: string; subject: string },
): Promise<StartedProcess> {
  const requestId = randomUUID();
  const handle = await client.workflow.start(workflowType, {
    workflowId: options.workflowId,
    taskQueue: options.taskQueue,
    args: options.args,
    workflowIdConflictPolicy: 'USE_EXISTING',
    memo: { requestId },
    typedSearchAttributes: [
      { key: TENURE_PROCESS, value: options.process },
      { key: TENURE_SUBJECT, value: options.subject },
    ],
  });
  const description = await handle.describe();
  return { workflowId: options.workflowId, runId: description.runId, started: description.memo?.requestId === requestId };
}

/** Starts `offboarding:<userId>`, or joins the running one. */
export async function startOffboarding(client: Client, taskQueue: string, request: OffboardingRequest): Promise<StartedProcess> {
  const input: OffboardingInput = { ...request };
  return startOrJoin(client, 'offboardingWorkflow', {
    workflowId: offboardingWorkflowId(request.userId),
    taskQueue,
    args: [input],
    process: 'offboarding',
    subject: request.userId,
  });
}

/** Starts `reactivation:<userId>`, or joins the running one. */
export async function startReactivation(client: Client, taskQueue: string, request: { userId: string; requestedBy: OffboardingRequest['requestedBy']; reason?: string }): Promise<StartedProcess> {
  return startOrJoin(client, 'reactivationWorkflow', {
    workflowId: reactivationWorkflowId(request.userId),
    taskQueue,
    args: [request],
    process: 'reactivation',
    subject: request.userId,
  });
}

/** Starts a bulk offboarding under a fresh id (or the caller's idempotency key). */
export async function startBulkOffboarding(client: Client, taskQueue: string, input: BulkOffboardingInput, requestKey?: string): Promise<StartedProcess> {
  return startOrJoin(client, 'bulkOffboardingWorkflow', {
    workflowId: bulkOffboardingWorkflowId(requestKey),
    taskQueue,
    args: [input],
    process: 'bulk-offboarding',
    subject: input.requestedBy.email ?? input.requestedBy.id ?? input.requestedBy.type,
  });
}

/** Maps a refused or failed update/query to the API's typed errors. */
async function asAppError(client: Client, workflowId: string, err: unknown): Promise<unknown> {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const { type, message } = err.cause;
    switch (type) {
      case ErrorType.NotAllowed:
        return new ForbiddenError(message, 'not_an_approver');
      case ErrorType.StalePlan:
        return new ConflictError(message, 'stale_plan');
      case ErrorType.InvalidState:
        return new ConflictError(message, 'invalid_process_state');
      case ErrorType.NewOwnerInactive:
        return new UnprocessableError(message, 'new_owner_inactive');
      default:
        return new ConflictError(message, 'process_refused');
    }
  }
  if (err instanceof WorkflowNotFoundError || (err as { name?: string })?.name === 'WorkflowNotFoundError' || /already completed|not found/i.test((err as Error)?.message ?? '')) {
    const exists = await client.workflow
      .getHandle(workflowId)
      .describe()
      .then((d) => d.status.name)
      .catch(() => undefined);
    if (exists && exists !== 'RUNNING') return new ConflictError(`The process ${workflowId} has already finished.`, 'process_closed');
    return new NotFoundError(`No process ${workflowId}.`, 'process_not_found');
  }
  return err;
}

async function mapped<T>(client: Client, workflowId: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw await asAppError(client, workflowId, err);
  }
}

export type OffboardingAction =
  | { action: 'approve'; planVersion: string }
  | { action: 'reject'; reason?: string }
  | { action: 'change-owner'; newOwnerId: string; resourceId?: string }
  | { action: 'cancel'; reason?: string }
  | { action: 'undo'; reason?: string };

/** Sends one action to the running offboarding; the update's validator decides who may. */
export async function actOnOffboarding(client: Client, userId: string, caller: Caller, command: OffboardingAction): Promise<ActionResult> {
  const workflowId = offboardingWorkflowId(userId);
  const handle = client.workflow.getHandle(workflowId);
  return mapped(client, workflowId, () => {
    switch (command.action) {
      case 'approve':
        return handle.executeUpdate(approveUpdate, { args: [{ caller, planVersion: command.planVersion }] });
      case 'reject':
        return handle.executeUpdate(rejectUpdate, { args: [{ caller, reason: command.reason }] });
      case 'change-owner':
        return handle.executeUpdate(changeOwnerUpdate, { args: [{ caller, newOwnerId: command.newOwnerId, resourceId: command.resourceId }] });
      case 'cancel':
        return handle.executeUpdate(cancelUpdate, { args: [{ caller, reason: command.reason }] });
      case 'undo':
        return handle.executeUpdate(undoUpdate, { args: [{ caller, reason: command.reason }] });
    }
  });
}

export async function getOffboardingProgress(client: Client, userId: string): Promise<OffboardingProgress> {
  const workflowId = offboardingWorkflowId(userId);
  return mapped(client, workflowId, () => client.workflow.getHandle(workflowId).query(progressQuery));
}

export async function getBulkOffboardingProgress(client: Client, id: string): Promise<BulkOffboardingProgress> {
  const workflowId = bulkOffboardingWorkflowId(id);
  return mapped(client, workflowId, () => client.workflow.getHandle(workflowId).query(bulkProgressQuery));
}

export type PlanView = OffboardingPlan & { version: string; assignments: Record<string, string> };

/**
 * The plan an approver reads. While an offboarding of the user runs, its own plan: the owners as
 * they stand after any change of owner, and the version to approve. Otherwise (or when asked
 * about another new owner) a dry run that changes nothing.
 */
export async function viewOffboardingPlan(models: Models, client: Client, userId: string, newOwnerId?: string): Promise<PlanView> {
  if (!newOwnerId) {
    const workflowId = offboardingWorkflowId(userId);
    const handle = client.workflow.getHandle(workflowId);
    const running = await handle
      .describe()
      .then((d) => d.status.name === 'RUNNING')
      .catch(() => false);
    if (running) {
      const progress = await mapped(client, workflowId, () => handle.query(progressQuery));
      if (progress.plan) return progress.plan;
    }
  }
  const plan = await buildOffboardingPlan(models, { userId, newOwnerId });
  return { ...plan, version: planVersion(plan.newOwner?.id ?? null, {}), assignments: {} };
}

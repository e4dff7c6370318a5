/**
 * The offboarding process (`offboarding:<userId>`, workflows/offboarding.ts) as every way in
 * talks to it: start or join, its updates, its progress. Failures come back as typed AppErrors
 * (failures.ts).
 */
import type { Client } from '@temporalio/client';
import {
  approveUpdate,
  cancelUpdate,
  changeOwnerUpdate,
  progressQuery,
  rejectUpdate,
  retrySystemsUpdate,
  undoUpdate,
  type ActionResult,
  type Caller,
  type OffboardingInput,
  type OffboardingProgress,
  type OffboardingSource,
  type OffboardingStatus,
} from '../../workflows/offboarding-messages';
import { TENURE_STATUS } from '../../workflows/search-attributes';
import { mapped } from './failures';
import { offboardingWorkflowId } from './ids';
import { isRunning, processSummary, startOrJoin, type StartedProcess } from './process';

export { offboardingWorkflowId };

export type ProcessSource = OffboardingSource;

/** What a way in asks for: the workflow's input. */
export type OffboardingRequest = OffboardingInput;

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

export type OffboardingAction =
  | { action: 'approve'; planVersion: string }
  | { action: 'reject'; reason?: string }
  | { action: 'change-owner'; newOwnerId: string; resourceId?: string }
  | { action: 'cancel'; reason?: string }
  | { action: 'undo'; reason?: string }
  | { action: 'retry-systems' };

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
      case 'retry-systems':
        return handle.executeUpdate(retrySystemsUpdate, { args: [{ caller }] });
    }
  });
}

/** The progress of the user's latest offboarding (404 `process_not_found` when none ever ran). */
export async function getOffboardingProgress(client: Client, userId: string): Promise<OffboardingProgress> {
  const workflowId = offboardingWorkflowId(userId);
  return mapped(client, workflowId, () => client.workflow.getHandle(workflowId).query(progressQuery));
}

/** Whether an offboarding of the user runs (waiting for its date or approval, executing, or in its undo window or retention). */
export async function offboardingRunning(client: Client, userId: string): Promise<boolean> {
  return isRunning(client, offboardingWorkflowId(userId));
}

/** The latest offboarding's status and, while it runs, its progress; undefined when none ever ran. */
export async function offboardingSummary(client: Client, userId: string) {
  return processSummary(client, offboardingWorkflowId(userId), progressQuery);
}

/**
 * The running offboardings that may wait for an approver, with their progress: those whose
 * `TenureStatus` says so, and those without one (started before the workflow published its
 * status). Only those are queried; an offboarding idling in its undo window or retention is not.
 */
export async function* offboardingsAwaitingApproval(client: Client, taskQueue: string): AsyncGenerator<OffboardingProgress> {
  for await (const execution of client.workflow.list({ query: awaitingApprovalQuery(taskQueue) })) {
    const progress = await client.workflow
      .getHandle(execution.workflowId)
      .query(progressQuery)
      .catch(() => undefined);
    if (progress?.status === 'awaiting_approval') yield progress;
  }
}

/** The visibility query behind `offboardingsAwaitingApproval`. */
export function awaitingApprovalQuery(taskQueue: string): string {
  const status: OffboardingStatus = 'awaiting_approval';
  return `WorkflowType = 'offboardingWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue.replace(/'/g, '')}' AND (${TENURE_STATUS.name} = '${status}' OR ${TENURE_STATUS.name} IS NULL)`;
}

/** The progress of the offboarding run `workflowId` names (running or closed), or undefined when it cannot be read. */
export async function offboardingProgressOf(client: Client, workflowId: string): Promise<OffboardingProgress | undefined> {
  return client.workflow
    .getHandle(workflowId)
    .query(progressQuery)
    .catch(() => undefined);
}

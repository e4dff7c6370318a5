/**
 * The reactivation process (`reactivation:<userId>`, workflows/reactivation.ts): start or join it,
 * and wait a while for its outcome. A refusal inside it comes back as the typed AppError its
 * activity refused with (failures.ts).
 */
import type { Client } from '@temporalio/client';
import type { ReactivationInput } from '../../workflows/offboarding-messages';
import { mapped } from './failures';
import { reactivationWorkflowId } from './ids';
import { processSummary, startOrJoin, type StartedProcess } from './process';

export { reactivationWorkflowId };

/** Starts `reactivation:<userId>`, or joins the running one. */
export async function startReactivation(client: Client, taskQueue: string, request: ReactivationInput): Promise<StartedProcess> {
  return startOrJoin(client, 'reactivationWorkflow', {
    workflowId: reactivationWorkflowId(request.userId),
    taskQueue,
    args: [request],
    process: 'reactivation',
    subject: request.userId,
  });
}

/**
 * Waits up to `waitMs` for the started run to finish: true when it did, false when it is still
 * running; a failed run throws its refusal as a typed error.
 */
export async function reactivationFinished(client: Client, started: StartedProcess, waitMs: number): Promise<boolean> {
  const result = client.workflow.getHandle(started.workflowId, started.runId).result();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), waitMs);
  });
  try {
    return (await mapped(client, started.workflowId, () => Promise.race([result.then(() => 'done' as const), timeout]))) === 'done';
  } finally {
    clearTimeout(timer);
    result.catch(() => undefined);
  }
}

/** The latest reactivation's status; undefined when none ever ran. */
export async function reactivationSummary(client: Client, userId: string) {
  return processSummary(client, reactivationWorkflowId(userId));
}

/**
 * The bulk offboarding process (`bulk-offboarding:<id>`, workflows/bulk-offboarding.ts): start it
 * (a caller's idempotency key joins the run it started) and read its progress.
 */
import type { Client } from '@temporalio/client';
import { bulkProgressQuery, type BulkOffboardingInput, type BulkOffboardingProgress } from '../../workflows/offboarding-messages';
import { mapped } from './failures';
import { bulkOffboardingWorkflowId } from './ids';
import { startOrJoin, type StartedProcess } from './process';

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

export async function getBulkOffboardingProgress(client: Client, id: string): Promise<BulkOffboardingProgress> {
  const workflowId = bulkOffboardingWorkflowId(id);
  return mapped(client, workflowId, () => client.workflow.getHandle(workflowId).query(bulkProgressQuery));
}

import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from './errors';
import { TENURE_PROCESS } from './search-attributes';

const { recordSystemCheck } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

export interface SystemCheckInput {
  checkId: string;
}

/** Proves the worker reaches MongoDB and Redis: one activity writes a document and enqueues a job. */
export async function systemCheckWorkflow(input: SystemCheckInput): Promise<{ checkId: string; jobId: string }> {
  upsertSearchAttributes([{ key: TENURE_PROCESS, value: 'system-check' }]);
  const { jobId } = await recordSystemCheck({ checkId: input.checkId, workflowId: workflowInfo().workflowId });
  return { checkId: input.checkId, jobId };
}

/**
 * Reactivation: deactivated → active at once. An offboarding of
 * the same user still waiting out its undo window or retention is told, so it never deletes
 * an account that is active again. Id `reactivation:<userId>`.
 */
import { getExternalWorkflowHandle, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from './errors';
import { reactivatedSignal, type ReactivationInput } from './offboarding-messages';
import { TENURE_PROCESS, TENURE_SUBJECT } from './search-attributes';

const { reactivateAccount } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

export async function reactivationWorkflow(input: ReactivationInput): Promise<{ reactivated: boolean; status: string; offboardingNotified: boolean }> {
  upsertSearchAttributes([
    { key: TENURE_PROCESS, value: 'reactivation' },
    { key: TENURE_SUBJECT, value: input.userId },
  ]);
  const result = await reactivateAccount({ userId: input.userId, workflowId: workflowInfo().workflowId, requestedBy: input.requestedBy });
  let offboardingNotified = false;
  try {
    await getExternalWorkflowHandle(`offboarding:${input.userId}`).signal(reactivatedSignal, { by: input.requestedBy.id });
    offboardingNotified = true;
  } catch {
    // No offboarding is running for this user: nothing to tell.
  }
  return { ...result, offboardingNotified };
}

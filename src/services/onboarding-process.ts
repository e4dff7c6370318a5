/**
 * Starting onboarding processes from any way in (API, Slack, HR intake, SCIM).
 * Contract shared by those callers; the workflow lives in workflows/onboarding.ts.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { OnboardingInput, OnboardingWorkflow } from '../../workflows/onboarding-messages';
import type { StartedProcess } from './offboarding-process';
import { onboardingWorkflowId } from './process-ids';

export { onboardingWorkflowId };

/** What a way in asks for: the workflow's own input (the email is normalised on start). */
export type OnboardingRequest = OnboardingInput;

/**
 * Starts `onboarding:<email>`, or joins the running one. The start itself refuses a duplicate
 * atomically on the server; `started: false` tells the caller it joined (the SDK does not
 * report that flag for a USE_EXISTING start, so the duplicate is detected this way).
 */
export async function startOnboarding(client: Client, taskQueue: string, request: OnboardingRequest): Promise<StartedProcess> {
  const workflowId = onboardingWorkflowId(request.email);
  const input: OnboardingInput = { ...request, email: request.email.trim().toLowerCase() };
  try {
    const handle = await client.workflow.start<OnboardingWorkflow>('onboardingWorkflow', {
      taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      // A finished onboarding of the same address may be followed by a new one (re-invite, sweep).
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
    return { workflowId, runId: handle.firstExecutionRunId, started: true };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const running = await client.workflow.getHandle(workflowId).describe();
    return { workflowId, runId: running.runId, started: false };
  }
}

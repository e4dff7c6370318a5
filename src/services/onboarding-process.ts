/**
 * Starting onboarding processes from any way in (API, Slack, HR intake, SCIM).
 * Contract shared by those callers; the workflow lives in workflows/onboarding.ts.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { SiteRole } from '../domain/roles';
import type { OnboardingInput, OnboardingWorkflow } from '../../workflows/onboarding-messages';
import type { StartedProcess } from './offboarding-process';
import { onboardingWorkflowId } from './process-ids';

export { onboardingWorkflowId };

export interface OnboardingRequest {
  email: string;
  firstName?: string;
  lastName?: string;
  preferredName?: string;
  title?: string;
  site?: string;
  division?: string;
  siteRole?: SiteRole;
  groups?: string[];
  managerId?: string;
  hrEmployeeId?: string;
  confirmDomainMismatch?: boolean;
  requestedBy: { type: 'user' | 'system' | 'hr' | 'scim' | 'slack'; id?: string; email?: string };
  /** 'sweep': restarted by the invitation-expiry sweep. */
  source: 'slack' | 'hr' | 'api' | 'scim' | 'sweep';
  /** Hash of a token the caller already handed out (see OnboardingInput.firstTokenHash). */
  firstTokenHash?: string;
}

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

/**
 * The onboarding process (`onboarding:<email>`, workflows/onboarding.ts) as every way in talks to
 * it: start or join, its admin updates, its signals, its progress. Failures come back as typed
 * AppErrors (failures.ts).
 */
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  accessEndedSignal,
  cancelOnboardingUpdate,
  completeRegistrationUpdate,
  invitationAcceptedSignal,
  issueInvitationLinkUpdate,
  onboardingProgressQuery,
  resendInvitationUpdate,
  type Caller,
  type CompleteRegistrationArgs,
  type InvitationIssued,
  type OnboardingInput,
  type OnboardingProgress,
  type OnboardingResult,
  type OnboardingWorkflow,
} from '../../workflows/onboarding-messages';
import { NotFoundError } from '../errors';
import { mapped } from './failures';
import { onboardingWorkflowId } from './ids';
import { isRunning, processStatus, processSummary, startedBy, startRequestId, type StartedProcess } from './process';

export { onboardingWorkflowId };

/** What a way in asks for: the workflow's own input (the email is normalised on start). */
export type OnboardingRequest = OnboardingInput;

const WORKFLOW_TYPE = 'onboardingWorkflow';

function inputOf(request: OnboardingRequest): OnboardingInput {
  return { ...request, email: request.email.trim().toLowerCase() };
}

/**
 * Starts `onboarding:<email>`, or joins the running one. The start itself refuses a duplicate
 * atomically on the server; `started: false` tells the caller it joined.
 */
export async function startOnboarding(client: Client, taskQueue: string, request: OnboardingRequest): Promise<StartedProcess> {
  const workflowId = onboardingWorkflowId(request.email);
  try {
    const handle = await client.workflow.start<OnboardingWorkflow>(WORKFLOW_TYPE, {
      taskQueue,
      workflowId,
      args: [inputOf(request)],
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

/**
 * "Copy invitation link": installs the link whose token hash is given, in one call whether an
 * onboarding runs or not (update-with-start). A new run takes the hash as its first invitation
 * and the update answers with that one; a running one installs it as its next send.
 */
export async function issueInvitationLink(
  client: Client,
  taskQueue: string,
  request: Pick<OnboardingRequest, 'email' | 'requestedBy' | 'source'> & { caller: Caller; tokenHash: string },
): Promise<{ invitation: InvitationIssued; process: StartedProcess }> {
  const workflowId = onboardingWorkflowId(request.email);
  const memo = startRequestId();
  const startWorkflowOperation = new WithStartWorkflowOperation<OnboardingWorkflow>(WORKFLOW_TYPE, {
    taskQueue,
    workflowId,
    args: [inputOf({ email: request.email, requestedBy: request.requestedBy, source: request.source, firstTokenHash: request.tokenHash })],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    memo,
  });
  const invitation = await mapped(client, workflowId, () =>
    client.workflow.executeUpdateWithStart(issueInvitationLinkUpdate, { args: [{ caller: request.caller, tokenHash: request.tokenHash }], startWorkflowOperation }),
  );
  return { invitation, process: await startedBy(client, workflowId, memo) };
}

/** Emails a fresh invitation now (the running onboarding's next send). */
export async function resendInvitation(client: Client, email: string, caller: Caller): Promise<InvitationIssued> {
  const workflowId = onboardingWorkflowId(email);
  return mapped(client, workflowId, () => client.workflow.getHandle(workflowId).executeUpdate(resendInvitationUpdate, { args: [{ caller }] }));
}

export async function completeRegistration(client: Client, email: string, args: CompleteRegistrationArgs): Promise<OnboardingResult> {
  const workflowId = onboardingWorkflowId(email);
  return mapped(client, workflowId, () => client.workflow.getHandle(workflowId).executeUpdate(completeRegistrationUpdate, { args: [args] }));
}

export async function cancelOnboarding(client: Client, email: string, caller: Caller, reason?: string): Promise<OnboardingResult> {
  const workflowId = onboardingWorkflowId(email);
  return mapped(client, workflowId, () => client.workflow.getHandle(workflowId).executeUpdate(cancelOnboardingUpdate, { args: [{ caller, reason }] }));
}

/** Tells the onboarding `workflowId` that its invitee accepted (the account is already active). */
export async function tellInvitationAccepted(client: Client, workflowId: string, accepted: { userId: string; at: string }): Promise<void> {
  await client.workflow.getHandle(workflowId).signal(invitationAcceptedSignal, accepted);
}

/** Tells the running onboarding of `email` that the account's access ended; false when none runs to hear it. */
export async function tellAccessEnded(client: Client, email: string, reason: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(onboardingWorkflowId(email)).signal(accessEndedSignal, { reason });
    return true;
  } catch {
    // None running (finished, or never started): nothing to tell. Any other failure is not fatal
    // either: the store already refuses the invitation, and the process ends at its next send.
    return false;
  }
}

export async function onboardingRunning(client: Client, email: string): Promise<boolean> {
  return isRunning(client, onboardingWorkflowId(email));
}

/** The status and progress of the latest onboarding of `email` (404 `onboarding_not_found` when none ever ran). */
export async function getOnboardingProgress(client: Client, email: string): Promise<{ status: string; progress: OnboardingProgress }> {
  const workflowId = onboardingWorkflowId(email);
  const status = await processStatus(client, workflowId);
  if (!status) throw new NotFoundError(`No onboarding process for ${email}.`, 'onboarding_not_found');
  const progress = await mapped(client, workflowId, () => client.workflow.getHandle(workflowId).query(onboardingProgressQuery));
  return { status, progress };
}

/** The latest onboarding's status and, while it runs, its progress; undefined when none ever ran. */
export async function onboardingSummary(client: Client, email: string) {
  return processSummary(client, onboardingWorkflowId(email), onboardingProgressQuery);
}

/**
 * A user's onboarding and offboarding as the detail page shows them, read through the process
 * services. Kept thin on purpose: where the process clients live may move, this only asks them.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { AppError } from '../../errors';
import { getOffboardingProgress } from '../../services/offboarding-process';
import { onboardingWorkflowId } from '../../services/onboarding-process';
import { onboardingProgressQuery, type OnboardingProgress } from '../../../workflows/onboarding-messages';
import type { OffboardingProgress } from '../../../workflows/offboarding-messages';

export interface UserProcesses {
  onboarding?: { status: string; progress: OnboardingProgress };
  offboarding?: OffboardingProgress;
  /** Set when the processes could not be read (server or worker not answering); the page says so instead of failing. */
  unavailable?: string;
}

/** A query waits for a worker to answer; without one the page says so after this long rather than hang. */
const PROCESS_READ_MS = 3000;

export async function userProcesses(temporal: Client, user: { _id: unknown; email: string }): Promise<UserProcesses> {
  try {
    const [onboarding, offboarding] = await temporal.withDeadline(Date.now() + PROCESS_READ_MS, () =>
      Promise.all([onboardingOf(temporal, user.email), offboardingOf(temporal, String(user._id))]),
    );
    return { onboarding, offboarding };
  } catch (err) {
    return { unavailable: (err as Error).message || 'no answer in time' };
  }
}

async function onboardingOf(temporal: Client, email: string): Promise<UserProcesses['onboarding']> {
  const handle = temporal.workflow.getHandle(onboardingWorkflowId(email));
  try {
    const status = (await handle.describe()).status.name;
    return { status, progress: await handle.query(onboardingProgressQuery) };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

async function offboardingOf(temporal: Client, userId: string): Promise<OffboardingProgress | undefined> {
  try {
    return await getOffboardingProgress(temporal, userId);
  } catch (err) {
    if (err instanceof AppError && (err.code === 'process_not_found' || err.code === 'process_closed')) return undefined;
    throw err;
  }
}

/**
 * A user's onboarding and offboarding as the detail page shows them, read through their process
 * clients (src/processes). A read that gets no answer in time (no worker polling) makes the page
 * say so instead of hanging.
 */
import type { Client } from '@temporalio/client';
import { AppError } from '../../errors';
import { getOffboardingProgress } from '../../processes/offboarding';
import { getOnboardingProgress } from '../../processes/onboarding';
import type { OnboardingProgress } from '../../../workflows/onboarding-messages';
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
      Promise.all([noneIfAbsent(getOnboardingProgress(temporal, user.email)), noneIfAbsent(getOffboardingProgress(temporal, String(user._id)))]),
    );
    return { onboarding, offboarding };
  } catch (err) {
    return { unavailable: (err as Error).message || 'no answer in time' };
  }
}

/** A process that never ran shows as none. */
async function noneIfAbsent<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof AppError && err.status === 404) return undefined;
    throw err;
  }
}

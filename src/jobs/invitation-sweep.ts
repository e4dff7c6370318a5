/**
 * The invitation-expiry sweep, a scheduled job: a safety net that finds pending
 * users whose invitation expired while no onboarding process covers them (a process that was
 * terminated, a worker outage past its retries, an import) and resends or marks them expired.
 */
import type { Client } from '@temporalio/client';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Models } from '../db/models';
import type { Logger } from '../logger';
import { recordAudit } from '../services/audit';
import { invitationPolicy, maxSends } from '../services/invitations';
import { offboardingRunning } from '../processes/offboarding';
import { onboardingRunning, startOnboarding } from '../processes/onboarding';
import type { StoredUser } from '../services/users';
import { keepScheduled, scheduleRepeating, type RepeatingJob } from './schedules';

export const INVITATION_SWEEP_SCHEDULER_ID = 'invitation-expiry-sweep';

const JOB: RepeatingJob = { id: INVITATION_SWEEP_SCHEDULER_ID, what: 'the invitation-expiry sweep' };

/** Creates or updates the repeating sweep job: one scheduler however many workers call this. */
export const scheduleInvitationSweep = (queue: Queue, everyMs: number): Promise<void> => scheduleRepeating(queue, JOB, everyMs);

/** Schedules the sweep now and again whenever Redis becomes ready; returns a function that stops listening. */
export const keepInvitationSweepScheduled = (queue: Queue, everyMs: number, connection: Redis, logger: Logger): Promise<() => void> => keepScheduled(queue, JOB, everyMs, connection, logger);

export interface InvitationSweepDeps {
  models: Models;
  temporal: Client;
  taskQueue: string;
  logger: Logger;
}

export interface InvitationSweepResult {
  scanned: number;
  resent: number;
  expired: number;
  skippedCovered: number;
}

/** Users looked at per run; the rest wait for the next run (the query is index-ordered by expiry). */
const BATCH = 500;

/** One sweep. Idempotent: running it twice (or on two workers at once) resends or expires each user once. */
export async function runInvitationSweep(deps: InvitationSweepDeps, now = new Date()): Promise<InvitationSweepResult> {
  const { models } = deps;
  const policy = await invitationPolicy(models);
  const candidates = await models.User.find({
    status: 'pending',
    'invitation.expiresAt': { $lte: now },
    'invitation.acceptedAt': { $exists: false },
    'invitation.expiredAt': { $exists: false },
    // An invitation withdrawn because access ended is not sent again by the sweep.
    'invitation.revokedAt': { $exists: false },
    lockout: null,
  })
    .sort({ 'invitation.expiresAt': 1 })
    .limit(BATCH)
    .lean<StoredUser[]>();

  const result: InvitationSweepResult = { scanned: candidates.length, resent: 0, expired: 0, skippedCovered: 0 };
  for (const user of candidates) {
    // Covered by a running onboarding, or by an offboarding (no new link for a leaver).
    if ((await onboardingRunning(deps.temporal, user.email)) || (await offboardingRunning(deps.temporal, String(user._id)))) {
      result.skippedCovered += 1;
      continue;
    }
    const sends = user.invitation?.sendCount ?? 0;
    if (sends < maxSends(policy)) {
      const invitedBy = user.invitation?.invitedBy ? String(user.invitation.invitedBy) : undefined;
      // A joined start (another sweep or an admin got there first) is not a second resend.
      const started = await startOnboarding(deps.temporal, deps.taskQueue, {
        email: user.email,
        requestedBy: invitedBy ? { type: 'user', id: invitedBy } : { type: 'system' },
        source: 'sweep',
      });
      if (started.started) result.resent += 1;
      else result.skippedCovered += 1;
      continue;
    }
    const marked = await models.User.updateOne(
      { _id: user._id, status: 'pending', 'invitation.expiredAt': { $exists: false }, 'invitation.acceptedAt': { $exists: false } },
      { $set: { 'invitation.expiredAt': now } },
    );
    if (marked.modifiedCount === 1) {
      result.expired += 1;
      await recordAudit(models, {
        action: 'invitation.expired',
        actor: { type: 'system' },
        target: { id: user._id, email: user.email },
        processId: 'invitation-expiry-sweep',
        eventKey: `sweep:invitation.expired:${String(user._id)}:${sends}`,
        details: { sends, by: 'sweep' },
      });
    }
  }
  deps.logger.info({ ...result }, 'invitation-expiry sweep finished');
  return result;
}

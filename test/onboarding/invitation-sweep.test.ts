/**
 * The invitation-expiry sweep on real Redis (BullMQ job scheduler and worker), Temporal and
 * MongoDB-wire: it resends or expires what no onboarding process covers, once.
 */
import type { Client } from '@temporalio/client';
import type { Queue, Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { INVITATION_SWEEP_SCHEDULER_ID, scheduleInvitationSweep } from '../../src/jobs/invitation-sweep';
import { createQueue, QUEUE_NAMES } from '../../src/jobs/queues';
import { startJobWorkers } from '../../src/jobs/workers';
import { onboardingWorkflowId, startOnboarding } from '../../src/processes/onboarding';
import { onboardingProgressQuery } from '../../workflows/onboarding-messages';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createClient, withWorker } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';
import { invitationsTo, setInvitationPolicy, tokenIn } from './helpers';

let ctx: TestContext;
let client: Client;
let smtp: TestSmtpServer;
let app: App;
let admin: SeededUser;
let queue: Queue;
let jobWorkers: Worker[];

const newEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;
const past = (ms: number) => new Date(Date.now() - ms);

beforeAll(async () => {
  ctx = await createTestContext('invitation-sweep');
  client = await createClient(ctx);
  smtp = await startSmtpServer();
  app = await createTestApp(ctx, client);
  admin = await seedUser(ctx.models, { siteRole: 'Administrators' });
  queue = createQueue(QUEUE_NAMES.invitationSweep, ctx.queue);
  jobWorkers = startJobWorkers({ models: ctx.models, queue: ctx.queue, logger: ctx.logger, invitationSweep: { temporal: client, taskQueue: ctx.taskQueue } });
  await setInvitationPolicy(ctx.models, { lifetimeMs: 60_000, resends: 1 });
});

afterAll(async () => {
  await Promise.all((jobWorkers ?? []).map((w) => w.close()));
  await queue?.close();
  await app?.close();
  await smtp?.close();
  await client?.connection.close();
  await ctx?.close();
});

/** A pending user whose invitation expired without any process around (what the sweep is for). */
async function strandedPending(email: string, sendCount: number) {
  return ctx.models.User.create({
    email,
    firstName: 'Stranded',
    status: 'pending',
    siteRole: 'Users',
    invitation: { tokenHash: 'f'.repeat(64), sentAt: past(120_000), expiresAt: past(60_000), sendCount, invitedBy: admin.user._id },
  });
}

async function runSweepJob() {
  const job = await queue.add('manual-sweep', {}, { jobId: `manual-${randomUUID()}` });
  return eventually('the sweep job to complete', async () => {
    const state = await queue.getJobState(job.id!);
    if (state === 'failed') throw new Error(`sweep failed: ${(await queue.getJob(job.id!))?.failedReason}`);
    return state === 'completed' ? (await queue.getJob(job.id!))!.returnvalue : undefined;
  }, 30_000);
}

describe('invitation-expiry sweep', () => {
  it('resends an uncovered expired invitation, expires an exhausted one, skips a covered one, and is idempotent', async () => {
    const resendable = newEmail('resendable');
    const exhausted = newEmail('exhausted');
    const covered = newEmail('covered');
    await strandedPending(resendable, 1);
    await strandedPending(exhausted, 2);
    await ctx.models.User.create({ email: newEmail('active'), status: 'active', siteRole: 'Users', invitation: { sentAt: past(120_000), expiresAt: past(60_000), sendCount: 1, acceptedAt: past(90_000) } });

    await withWorker(
      ctx,
      async () => {
        // A running process covers this one even though its stored expiry is past (a missed timer).
        await startOnboarding(client, ctx.taskQueue, { email: covered, requestedBy: { type: 'user', id: String(admin.user._id) }, source: 'api', confirmDomainMismatch: true });
        await eventually('the covered invitation', async () => invitationsTo(smtp.to(covered)).length === 1);
        await ctx.models.User.updateOne({ email: covered }, { $set: { 'invitation.expiresAt': past(1_000) } });

        const first = await runSweepJob();
        expect(first).toEqual({ scanned: 3, resent: 1, expired: 1, skippedCovered: 1 });

        // The resend is a fresh onboarding process whose link works; the requester is the original inviter.
        const [mail] = await eventually('the resent invitation', async () => (invitationsTo(smtp.to(resendable)).length ? invitationsTo(smtp.to(resendable)) : undefined));
        // The email can arrive before the send activity has reported back to the workflow.
        const progress = await eventually('the process to count the resend', async () => {
          const current = await client.workflow.getHandle(onboardingWorkflowId(resendable)).query(onboardingProgressQuery);
          return current.sends === 2 ? current : undefined;
        });
        expect(progress).toMatchObject({ source: 'sweep', sends: 2, state: 'invited', requestedBy: { id: String(admin.user._id) } });
        const exhaustedUser = await ctx.models.User.findOne({ email: exhausted }).lean();
        expect(exhaustedUser!.invitation!.expiredAt).toBeInstanceOf(Date);
        expect(exhaustedUser!.status).toBe('pending');
        expect(smtp.to(exhausted)).toHaveLength(0);

        // Again: nothing new is resent or expired.
        await ctx.models.User.updateOne({ email: resendable }, { $set: { 'invitation.expiresAt': past(1_000) } });
        const second = await runSweepJob();
        expect(second).toEqual({ scanned: 2, resent: 0, expired: 0, skippedCovered: 2 });
        expect(invitationsTo(smtp.to(resendable))).toHaveLength(1);
        expect(await ctx.models.AuditEvent.countDocuments({ action: 'invitation.expired', targetEmail: exhausted })).toBe(1);

        // The stored expiry was moved back only to make it a candidate again; the link itself is live.
        await ctx.models.User.updateOne({ email: resendable }, { $set: { 'invitation.expiresAt': new Date(Date.now() + 60_000) } });
        const accepted = await app.inject({ method: 'POST', url: `/v1/invitations/${tokenIn(mail!)}/accept` });
        expect(accepted.statusCode).toBe(200);
      },
      { smtpUrl: smtp.url },
    );
  });

  it('upserts one scheduler however often it is scheduled, and the scheduler runs the sweep', async () => {
    await scheduleInvitationSweep(queue, 60_000);
    await scheduleInvitationSweep(queue, 400);
    await scheduleInvitationSweep(queue, 400);
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: INVITATION_SWEEP_SCHEDULER_ID, every: 400 });
    try {
      await eventually('two scheduled sweeps to complete', async () => (await queue.getJobs(['completed'])).filter((j) => j.repeatJobKey === INVITATION_SWEEP_SCHEDULER_ID).length >= 2, 20_000);
      const runs = (await queue.getJobs(['completed'])).filter((j) => j.repeatJobKey === INVITATION_SWEEP_SCHEDULER_ID);
      expect(runs[0]!.returnvalue).toMatchObject({ resent: 0, expired: 0 });
    } finally {
      await queue.removeJobScheduler(INVITATION_SWEEP_SCHEDULER_ID);
    }
  });
});

/**
 * The sweep survives a Redis restart: BullMQ's connections reconnect and the scheduler, lost with
 * Redis's in-memory data, is re-created on reconnection. Runs against a Redis of its own.
 */
import type { Client } from '@temporalio/client';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVITATION_SWEEP_SCHEDULER_ID, keepInvitationSweepScheduled } from '../../src/jobs/invitation-sweep';
import { createQueue, createRedisConnection, QUEUE_NAMES } from '../../src/jobs/queues';
import { startJobWorkers } from '../../src/jobs/workers';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createClient } from '../helpers/temporal';
import { setInvitationPolicy } from './helpers';
import { createPrivateRedis, type PrivateRedis } from '../helpers/private-redis';

let ctx: TestContext;
let client: Client;
let privateRedis: PrivateRedis;

function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))]);
}


beforeAll(async () => {
  ctx = await createTestContext('sweep-redis');
  client = await createClient(ctx);
  privateRedis = await createPrivateRedis();
  await privateRedis.start();
  await setInvitationPolicy(ctx.models, { lifetimeMs: 60_000, resends: 0 });
});

afterAll(async () => {
  await privateRedis?.close();
  await client?.connection.close();
  await ctx?.close();
});

describe('invitation sweep across a Redis restart', () => {
  it('keeps sweeping after Redis restarts empty', { timeout: 90_000 }, async () => {
    const redis = createRedisConnection(privateRedis.url);
    redis.on('error', () => undefined);
    const queueContext = { connection: redis, prefix: ctx.queue.prefix };
    const queue = createQueue(QUEUE_NAMES.invitationSweep, queueContext);
    const stopRescheduling = await keepInvitationSweepScheduled(queue, 300, redis, ctx.logger);
    const workers: Worker[] = startJobWorkers({ models: ctx.models, queue: queueContext, logger: ctx.logger, invitationSweep: { temporal: client, taskQueue: ctx.taskQueue } });
    // Bounded reads: while Redis is away a command waits for the reconnection instead of failing.
    const sweeps = async () => (await within(5_000, queue.getJobs(['completed']))).filter((j) => j.repeatJobKey === INVITATION_SWEEP_SCHEDULER_ID);
    // Milestones, reported only when the test fails.
    const t0 = Date.now();
    const milestones: string[] = [];
    const mark = (what: string) => milestones.push(`${what} at ${Date.now() - t0} ms`);
    try {
      await eventually('a sweep before the restart', async () => (await sweeps()).length >= 1, 20_000);

      mark('first sweep');
      await privateRedis.stop();
      mark('redis stopped');
      await new Promise((r) => setTimeout(r, 1_000));
      await privateRedis.start();
      mark('redis restarted');

      // An expired invitation nobody covers, created while Redis was away: the sweep after the restart expires it.
      await ctx.models.User.create({
        email: 'after-restart@example.com',
        status: 'pending',
        siteRole: 'Users',
        invitation: { tokenHash: 'e'.repeat(64), sentAt: new Date(Date.now() - 120_000), expiresAt: new Date(Date.now() - 60_000), sendCount: 1 },
      });
      mark('user created');
      await eventually('the scheduler to be re-created', async () => (await within(5_000, queue.getJobSchedulers())).length === 1, 30_000);
      mark('scheduler back');
      await eventually('a sweep after the restart', async () => (await sweeps()).length >= 1, 30_000);
      mark('sweep after restart');
      await eventually('the stranded invitation to be marked expired', async () => (await ctx.models.User.findOne({ email: 'after-restart@example.com' }).lean())?.invitation?.expiredAt, 30_000);
      expect(await ctx.models.AuditEvent.countDocuments({ action: 'invitation.expired', targetEmail: 'after-restart@example.com' })).toBe(1);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nmilestones: ${milestones.join(', ')}`);
    } finally {
      mark('closing');
      stopRescheduling();
      await within(10_000, Promise.all(workers.map((w) => w.close(true)))).catch(() => undefined);
      await within(5_000, queue.close()).catch(() => undefined);
      redis.disconnect();
    }
  });
});

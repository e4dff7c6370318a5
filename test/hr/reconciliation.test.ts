/**
 * The reconciliation sweep finds users the HR system reports terminated who are still active
 * (or pending) with no running offboarding, however long ago the termination was, and starts one.
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HR_RECONCILIATION_SCHEDULER_ID, keepHrReconciliationScheduled, scheduleHrReconciliation } from '../../src/jobs/hr-reconciliation-schedule';
import { reconcileHrTerminations } from '../../src/jobs/processors/hr-reconciliation';
import { createQueue, QUEUE_NAMES } from '../../src/jobs/queues';
import { startJobWorkers } from '../../src/jobs/workers';
import { offboardingWorkflowId } from '../../src/processes/offboarding';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createClient, withWorker } from '../helpers/temporal';
import { seedUser } from '../helpers/users';

let ctx: TestContext;
let client: Client;

beforeAll(async () => {
  ctx = await createTestContext('hrrecon');
  client = await createClient(ctx);
});

afterAll(async () => {
  await client?.connection.close();
  await ctx?.close();
});

const deps = () => ({ models: ctx.models, temporal: client, taskQueue: ctx.taskQueue, terminationLockout: true, logger: ctx.logger });

describe('HR reconciliation', () => {
  it('starts one offboarding for a terminated-but-active user and leaves everyone else alone', async () => {
    const missed = await seedUser(ctx.models, { hrEmployeeId: 'R-1' });
    // Terminated years ago: there is no catch-up window.
    await ctx.models.User.updateOne({ _id: missed.user._id }, { $set: { hrStatus: 'terminated', updatedAt: new Date('2019-01-01') } }, { timestamps: false });
    const gone = await seedUser(ctx.models, { hrEmployeeId: 'R-2', status: 'deactivated' });
    await ctx.models.User.updateOne({ _id: gone.user._id }, { $set: { hrStatus: 'terminated' } });
    const employed = await seedUser(ctx.models, { hrEmployeeId: 'R-3' });
    await ctx.models.User.updateOne({ _id: employed.user._id }, { $set: { hrStatus: 'employed' } });
    await seedUser(ctx.models, { siteRole: 'Administrators' });

    await withWorker(ctx, async () => {
      const first = await reconcileHrTerminations(deps());
      expect(first).toMatchObject({ scanned: 1, started: 1, alreadyRunning: 0, failed: 0, startedUserIds: [String(missed.user._id)] });
      const description = await client.workflow.getHandle(offboardingWorkflowId(String(missed.user._id))).describe();
      expect(description.status.name).toBe('RUNNING');
      expect(await ctx.models.AuditEvent.find({ processId: offboardingWorkflowId(String(missed.user._id)), action: 'offboarding.requested' }).lean()).toMatchObject([
        { actorType: 'hr', targetUserId: missed.user._id, details: { source: 'hr', by: 'reconciliation' } },
      ]);

      // A second run sees the running process and starts nothing.
      const second = await reconcileHrTerminations(deps());
      expect(second).toMatchObject({ scanned: 1, started: 0, alreadyRunning: 1, failed: 0 });
      await client.workflow.getHandle(offboardingWorkflowId(String(missed.user._id))).terminate('test over');
    });
  }, 60_000);

  it('runs from a BullMQ job scheduler and reports what it found', async () => {
    const queue = createQueue(QUEUE_NAMES.hrReconciliation, ctx.queue);
    const workers = startJobWorkers({ models: ctx.models, queue: ctx.queue, logger: ctx.logger, hr: { temporal: client, taskQueue: ctx.taskQueue, terminationLockout: true } });
    try {
      await scheduleHrReconciliation(queue, 500);
      await scheduleHrReconciliation(queue, 500);
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => s.key)).toEqual([HR_RECONCILIATION_SCHEDULER_ID]);
      const done = await eventually('a scheduled run to complete', async () => (await queue.getJobs(['completed']))[0]);
      expect(done.returnvalue).toMatchObject({ scanned: expect.any(Number), started: expect.any(Number), alreadyRunning: expect.any(Number) });
    } finally {
      await queue.removeJobScheduler(HR_RECONCILIATION_SCHEDULER_ID);
      await Promise.all(workers.map((w) => w.close()));
      await queue.close();
    }
  });

  it('re-creates the scheduler when the Redis connection comes back (a restarted Redis may have lost it)', async () => {
    const queue = createQueue(QUEUE_NAMES.hrReconciliation, ctx.queue);
    const stop = await keepHrReconciliationScheduled(queue, 60_000, ctx.redis, ctx.logger);
    try {
      await queue.removeJobScheduler(HR_RECONCILIATION_SCHEDULER_ID);
      expect(await queue.getJobSchedulers()).toEqual([]);
      ctx.redis.emit('ready');
      await eventually('the scheduler to be back', async () => (await queue.getJobSchedulers()).length === 1);
    } finally {
      stop();
      await queue.removeJobScheduler(HR_RECONCILIATION_SCHEDULER_ID);
      await queue.close();
    }
  });
});

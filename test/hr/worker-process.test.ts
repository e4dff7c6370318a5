/**
 * The real worker process (src/main/worker.ts) runs the HR intake and schedules the
 * reconciliation sweep: a webhook accepted by the API is applied by it, and a termination whose
 * webhook never arrived is found by the sweep on its own.
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { HR_RECONCILIATION_SCHEDULER_ID } from '../../src/jobs/hr-reconciliation-schedule';
import { createQueue, QUEUE_NAMES } from '../../src/jobs/queues';
import { offboardingWorkflowId } from '../../src/processes/offboarding';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { createClient } from '../helpers/temporal';
import { seedUser } from '../helpers/users';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';
import { HR_TEST_CONFIG, hrEvent, signedGeneric } from './hr-test-kit';

let ctx: TestContext;
let client: Client;
let app: App;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  ctx = await createTestContext('hrworker');
  client = await createClient(ctx);
  app = await createTestApp(ctx, client, HR_TEST_CONFIG);
});

afterAll(async () => {
  // Like the crash tests: the worker is killed outright; its graceful shutdown is not under test here.
  await worker?.kill();
  await app?.close();
  await client?.connection.close();
  await ctx?.close();
});

describe('worker process', () => {
  it('applies queued HR events and runs the scheduled reconciliation', async () => {
    const missed = await seedUser(ctx.models, { email: 'missed.webhook@example.com', hrEmployeeId: 'W-1' });
    await ctx.models.User.updateOne({ _id: missed.user._id }, { $set: { hrStatus: 'terminated' } });
    const leaver = await seedUser(ctx.models, { email: 'webhook.leaver@example.com', hrEmployeeId: 'W-2' });
    const event = hrEvent('employee.terminated', { id: 'W-2', lastDay: '2031-12-31' });
    expect((await app.inject(signedGeneric(event))).statusCode).toBe(202);

    worker = await startWorkerProcess(ctx, { env: { RECONCILIATION_INTERVAL: '1s' } });

    const viaWebhook = client.workflow.getHandle(offboardingWorkflowId(String(leaver.user._id)));
    const viaSweep = client.workflow.getHandle(offboardingWorkflowId(String(missed.user._id)));
    await eventually('the webhook offboarding', async () => (await viaWebhook.describe()).status.name === 'RUNNING', 45_000);
    await eventually('the swept offboarding', async () => (await viaSweep.describe()).status.name === 'RUNNING', 45_000);
    const queue = createQueue(QUEUE_NAMES.hrReconciliation, ctx.queue);
    try {
      expect((await queue.getJobSchedulers()).map((s) => s.key)).toEqual([HR_RECONCILIATION_SCHEDULER_ID]);
      const run = await eventually('a reconciliation run that found the missed user', async () =>
        (await queue.getJobs(['completed'])).find((j) => (j.returnvalue as { startedUserIds?: string[] })?.startedUserIds?.includes(String(missed.user._id))),
      );
      expect(run.returnvalue).toMatchObject({ started: 1 });
    } finally {
      await queue.removeJobScheduler(HR_RECONCILIATION_SCHEDULER_ID);
      await queue.close();
    }
    await viaWebhook.terminate('test over');
    await viaSweep.terminate('test over');
  }, 90_000);
});

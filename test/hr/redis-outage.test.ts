/**
 * Redis unavailable: the webhook answers 503 (so the HR system retries) instead of acknowledging
 * an event it could not store; once Redis is back, the redelivery is queued and processed.
 * Runs against a Redis of its own, so stopping it does not disturb other test files.
 */
import type { Client } from '@temporalio/client';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { createQueue, createRedisConnection, QUEUE_NAMES } from '../../src/jobs/queues';
import { startJobWorkers } from '../../src/jobs/workers';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { createClient } from '../helpers/temporal';
import { seedUser } from '../helpers/users';
import { HR_TEST_CONFIG, hrEvent, signedGeneric } from './hr-test-kit';
import { createPrivateRedis, type PrivateRedis } from '../helpers/private-redis';

let ctx: TestContext;
let client: Client;
let privateRedis: PrivateRedis;


beforeAll(async () => {
  ctx = await createTestContext('hroutage');
  client = await createClient(ctx);
  privateRedis = await createPrivateRedis();
  await privateRedis.start();
});

afterAll(async () => {
  await privateRedis?.close();
  await client?.connection.close();
  await ctx?.close();
});

describe('HR webhook while Redis is down', () => {
  it('answers 503 queue_unavailable while Redis is down, then queues and processes the redelivery after Redis restarts', async () => {
    const redisUrl = privateRedis.url;
    const app: App = await createTestApp(ctx, client, { ...HR_TEST_CONFIG, REDIS_URL: redisUrl });
    const workerRedis = createRedisConnection(redisUrl);
    workerRedis.on('error', () => undefined);
    const queueContext = { connection: workerRedis, prefix: ctx.queue.prefix };
    const workers: Worker[] = startJobWorkers({ models: ctx.models, queue: queueContext, logger: ctx.logger, hr: { temporal: client, taskQueue: ctx.taskQueue, terminationLockout: true } });
    try {
      const boss = await seedUser(ctx.models, { email: 'boss.one@example.com' });
      const newBoss = await seedUser(ctx.models, { email: 'boss.two@example.com' });
      const employee = await seedUser(ctx.models, { email: 'worker.bee@example.com', hrEmployeeId: 'HR-77' });

      const first = hrEvent('employee.updated', { id: 'HR-77', managerEmail: boss.user.email });
      expect((await app.inject(signedGeneric(first))).statusCode).toBe(202);
      await eventually('the first manager change', async () => (await ctx.models.User.findById(employee.user._id).lean())?.managerId?.equals(boss.user._id));

      await privateRedis.stop();
      const second = hrEvent('employee.updated', { id: 'HR-77', managerEmail: newBoss.user.email });
      const refused = await app.inject(signedGeneric(second));
      expect(refused.statusCode).toBe(503);
      expect(refused.json().error.code).toBe('queue_unavailable');
      expect((await ctx.models.User.findById(employee.user._id).lean())?.managerId?.equals(boss.user._id)).toBe(true);

      await privateRedis.start();
      // The HR system retries until it gets a 2xx; each retry is signed afresh.
      const accepted = await eventually('the redelivery to be accepted', async () => {
        const res = await app.inject(signedGeneric(second));
        return res.statusCode === 202 ? res : undefined;
      });
      expect(accepted.json().events[0].eventId).toBe(second.eventId);
      await eventually('the redelivered manager change', async () => (await ctx.models.User.findById(employee.user._id).lean())?.managerId?.equals(newBoss.user._id));
      const queue = createQueue(QUEUE_NAMES.hrIntake, queueContext);
      expect(await queue.getJobState(accepted.json().events[0].jobId)).toBe('completed');
      await queue.close();
    } finally {
      await Promise.all(workers.map((w) => w.close()));
      await app.close();
      workerRedis.disconnect();
    }
  }, 60_000);
});

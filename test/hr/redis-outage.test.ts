/**
 * Redis unavailable: the webhook answers 503 (so the HR system retries) instead of acknowledging
 * an event it could not store; once Redis is back, the redelivery is queued and processed.
 * Runs against a Redis of its own, so stopping it does not disturb other test files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrInstallRedis } from '../../src/devstack/binaries';
import { freePort } from '../../src/devstack/ports';
import { terminate } from '../../src/devstack/stack';
import type { App } from '../../src/http/app';
import { createQueue, createRedisConnection, QUEUE_NAMES } from '../../src/jobs/queues';
import { startJobWorkers } from '../../src/jobs/workers';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { createClient } from '../helpers/temporal';
import { seedUser } from '../helpers/users';
import { HR_TEST_CONFIG, hrEvent, signedGeneric } from './hr-test-kit';

let ctx: TestContext;
let client: Client;
let port: number;
let dataDir: string;
let redisServer: ChildProcess | undefined;

async function startRedis(): Promise<void> {
  redisServer = spawn(findOrInstallRedis(), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dataDir], { stdio: 'ignore', detached: true });
  await eventually('the test Redis to answer', async () => {
    const probe = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } finally {
      probe.disconnect();
    }
  });
}

beforeAll(async () => {
  ctx = await createTestContext('hroutage');
  client = await createClient(ctx);
  port = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), 'tenure-redis-outage-'));
  await startRedis();
});

afterAll(async () => {
  if (redisServer) await terminate(redisServer);
  rmSync(dataDir, { recursive: true, force: true });
  await client?.connection.close();
  await ctx?.close();
});

describe('HR webhook while Redis is down', () => {
  it('answers 503 queue_unavailable fast, then queues and processes the redelivery after Redis restarts', async () => {
    const redisUrl = `redis://127.0.0.1:${port}`;
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

      await terminate(redisServer!);
      const second = hrEvent('employee.updated', { id: 'HR-77', managerEmail: newBoss.user.email });
      const started = Date.now();
      const refused = await app.inject(signedGeneric(second));
      expect(refused.statusCode).toBe(503);
      expect(refused.json().error.code).toBe('queue_unavailable');
      expect(Date.now() - started).toBeLessThan(3_000);
      expect((await ctx.models.User.findById(employee.user._id).lean())?.managerId?.equals(boss.user._id)).toBe(true);

      await startRedis();
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

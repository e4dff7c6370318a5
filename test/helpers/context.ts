/**
 * Per-file isolation on shared servers: each test file gets its own database, Redis key prefix
 * and Temporal task queue, so files run in parallel without seeing each other's data.
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import { inject } from 'vitest';
import { connectMongo } from '../../src/db/connection';
import { createModels, ensureIndexes, type Models } from '../../src/db/models';
import { createRedisConnection, type QueueContext } from '../../src/jobs/queues';
import { createLogger, type Logger } from '../../src/logger';
import type { StackAddresses } from '../../src/devstack/stack';

export interface TestContext {
  id: string;
  stack: StackAddresses;
  dbName: string;
  conn: Connection;
  models: Models;
  redis: Redis;
  queue: QueueContext;
  taskQueue: string;
  workflowBundlePath: string;
  logger: Logger;
  close(): Promise<void>;
}

export async function createTestContext(label: string): Promise<TestContext> {
  const stack = inject('stack');
  const id = `${label.replace(/[^a-z0-9]/gi, '').slice(0, 20)}${randomUUID().slice(0, 8)}`;
  const dbName = `t_${id}`;
  const conn = await connectMongo(stack.mongoUri, dbName);
  const models = createModels(conn);
  await ensureIndexes(models);
  const redis = createRedisConnection(stack.redisUrl);
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', name: `test-${label}` });
  return {
    id,
    stack,
    dbName,
    conn,
    models,
    redis,
    queue: { connection: redis, prefix: `t-${id}` },
    taskQueue: `tq-${id}`,
    workflowBundlePath: inject('workflowBundlePath'),
    logger,
    async close() {
      await conn.dropDatabase().catch(() => undefined);
      await conn.close();
      const keys = await redis.keys(`t-${id}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  };
}

/** Polls until `fn` returns a truthy value; fails with `what` after the timeout. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { App } from '../../src/http/app';
import { buildApiApp } from '../../src/main/api-app';
import { loadConfig, type Config } from '../../src/config/env';
import type { Logger } from '../../src/logger';
import type { TestContext } from './context';

/** The key that seals webhook signing secrets in this test run (the workers a test starts use it too). */
export const TEST_ENCRYPTION_KEY = randomBytes(32).toString('base64');
/** Tests deliver webhooks to receivers on loopback. */
export const TEST_ALLOWED_PRIVATE_NETWORKS = '127.0.0.0/8,::1';

/** The real fastify app on the file's database, Redis and Temporal (logging to `options.logger` when given, with `options.beforeReady`'s routes added); drive it with app.inject(). */
export async function createTestApp(ctx: TestContext, temporal: Client, overrides: Partial<Config> = {}, options: { logger?: Logger; beforeReady?: (app: App) => void } = {}): Promise<App> {
  const config = {
    ...loadConfig({
      MONGODB_URI: ctx.stack.mongoUri,
      REDIS_URL: ctx.stack.redisUrl,
      TEMPORAL_ADDRESS: ctx.stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: ctx.taskQueue,
      MONGODB_DB: ctx.dbName,
      REDIS_PREFIX: ctx.queue.prefix,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      // Suites send bursts from one address and run on a loaded machine: the limits and load
      // shedding stay on but out of reach unless a test sets them (test/http/protection.test.ts).
      RATE_LIMIT_INVITATIONS: '1000000',
      RATE_LIMIT_CONSOLE_SIGN_IN: '1000000',
      RATE_LIMIT_HR_WEBHOOKS: '1000000',
      RATE_LIMIT_SCIM: '1000000',
      RATE_LIMIT_AUTH_FAILURES: '1000000',
      HTTP_SHED_EVENT_LOOP_DELAY_MS: '60000',
      TENURE_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      WEBHOOK_ALLOWED_PRIVATE_NETWORKS: TEST_ALLOWED_PRIVATE_NETWORKS,
    }),
    ...overrides,
  };
  const app = await buildApiApp({ config, logger: options.logger ?? ctx.logger, conn: ctx.conn, models: ctx.models, redis: ctx.redis, temporal });
  // A test may add routes of its own, under the app's rules, before it starts.
  options.beforeReady?.(app);
  await app.ready();
  return app;
}

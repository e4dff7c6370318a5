/**
 * A whole tenure back end in a scratch database, for scripts that drive real workflows outside the
 * test runner (history recorders, benchmarks): local servers (or those of TEMPORAL_ADDRESS /
 * REDIS_URL / MONGODB_URI), a fresh database, Redis prefix and task queue, an SMTP catcher, a
 * Temporal client, and a worker with the real activities on a freshly built bundle (of the
 * production workflows, or of a benchmark's own entry with its extra activities).
 */
import { Client, Connection } from '@temporalio/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import type { Connection as MongoConnection } from 'mongoose';
import { createActivities, type ActivityDeps } from '../../activities';
import { connectMongo } from '../../src/db/connection';
import { createModels, ensureIndexes, type Models } from '../../src/db/models';
import { startStack, type RunningStack } from '../../src/devstack/stack';
import { createQueue, createRedisConnection, QUEUE_NAMES } from '../../src/jobs/queues';
import { createLogger, type Logger } from '../../src/logger';
import { createMailer, type Mailer } from '../../src/mail/mailer';
import { buildWorkflowBundle } from '../../src/temporal/bundle';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { createTemporalWorker } from '../../src/temporal/worker';
import { startSmtpServer, type TestSmtpServer } from '../../test/helpers/smtp';

export interface ScratchSystem {
  stack: RunningStack;
  run: string;
  logger: Logger;
  conn: MongoConnection;
  models: Models;
  smtp: TestSmtpServer;
  mailer: Mailer;
  queues: { systemCheck: Queue };
  client: Client;
  taskQueue: string;
  /** Runs `fn` while a worker with the real activities (plus `deps`) polls the task queue. */
  withWorker<T>(deps: Partial<ActivityDeps>, fn: () => Promise<T>): Promise<T>;
  /** Drops the scratch database and stops everything this system started. */
  close(): Promise<void>;
}

export interface ScratchSystemOptions {
  /** The worker's bundle entry (default: the production workflows/index.ts). */
  workflowsPath?: string;
  /** Activities the worker registers beside the real ones (those of `workflowsPath`'s own workflows). */
  activities?: object;
}

export async function startScratchSystem(label: string, options: ScratchSystemOptions = {}): Promise<ScratchSystem> {
  const stack = await startStack();
  const scratch = mkdtempSync(join(tmpdir(), `tenure-${label}-`));
  const logger = createLogger({ level: 'warn', name: label });
  installTemporalRuntime(logger);
  const run = `${label.replace(/[^a-z0-9]/gi, '')}${Date.now().toString(36)}`;
  const conn = await connectMongo(stack.mongoUri, `scratch_${run}`);
  const models = createModels(conn);
  await ensureIndexes(models);
  const redis = createRedisConnection(stack.redisUrl);
  const smtp = await startSmtpServer();
  const mailer = createMailer({ smtpUrl: smtp.url, from: 'tenure <no-reply@tenure.test>' });
  const queues = { systemCheck: createQueue(QUEUE_NAMES.systemCheck, { connection: redis, prefix: run }) };
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = `${label}-${run}`;
  let bundle: string | undefined;

  return {
    stack,
    run,
    logger,
    conn,
    models,
    smtp,
    mailer,
    queues,
    client,
    taskQueue,
    async withWorker(deps, fn) {
      bundle ??= await buildWorkflowBundle(join(scratch, 'workflows.js'), options.workflowsPath);
      const { worker, connection: workerConnection } = await createTemporalWorker({
        address: stack.temporalAddress,
        namespace: 'default',
        taskQueue,
        activities: { ...createActivities({ models, queues, logger, mailer, publicBaseUrl: 'http://tenure.test', ...deps }), ...options.activities },
        workflowBundlePath: bundle,
      });
      try {
        return await worker.runUntil(fn);
      } finally {
        await workerConnection.close();
      }
    },
    async close() {
      await connection.close();
      mailer.close();
      await smtp.close();
      await queues.systemCheck.close();
      redis.disconnect();
      await conn.dropDatabase().catch(() => undefined);
      await conn.close();
      await stack.stop();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

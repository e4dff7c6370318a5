import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { Queue } from 'bullmq';
import { createActivities, type ActivityDeps } from '../../activities';
import { createQueue, QUEUE_NAMES } from '../../src/jobs/queues';
import { createMailer } from '../../src/mail/mailer';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { createTemporalWorker } from '../../src/temporal/worker';
import type { TestContext } from './context';

export async function createClient(ctx: TestContext): Promise<Client> {
  const connection = await Connection.connect({ address: ctx.stack.temporalAddress });
  return new Client({ connection, namespace: 'default' });
}

function createQueues(ctx: TestContext): { systemCheck: Queue } {
  return { systemCheck: createQueue(QUEUE_NAMES.systemCheck, ctx.queue) };
}

export interface WorkerOptions {
  /** SMTP server the activities send through (a test SMTP server); a closed port when omitted. */
  smtpUrl?: string;
  publicBaseUrl?: string;
  /** Replace individual deps (never the servers: those stay real). */
  deps?: Partial<ActivityDeps>;
}

/** The real activity dependencies of a test file. Close with closeDeps(). */
export function createActivityDeps(ctx: TestContext, options: WorkerOptions = {}): ActivityDeps {
  return {
    models: ctx.models,
    queues: createQueues(ctx),
    logger: ctx.logger,
    mailer: createMailer({ smtpUrl: options.smtpUrl ?? 'smtp://127.0.0.1:9', from: 'tenure <no-reply@tenure.test>' }),
    publicBaseUrl: options.publicBaseUrl ?? 'http://tenure.test',
    ...options.deps,
  };
}

export async function closeDeps(deps: ActivityDeps): Promise<void> {
  deps.mailer.close();
  await Promise.all(Object.values(deps.queues).map((q) => q.close()));
}

/** Runs `fn` while a real Temporal worker polls the file's task queue with the real activities. */
export async function withWorker<T>(ctx: TestContext, fn: (worker: Worker) => Promise<T>, options: WorkerOptions = {}): Promise<T> {
  installTemporalRuntime(ctx.logger);
  const deps = createActivityDeps(ctx, options);
  const { worker, connection } = await createTemporalWorker({
    address: ctx.stack.temporalAddress,
    namespace: 'default',
    taskQueue: ctx.taskQueue,
    activities: createActivities(deps),
    workflowBundlePath: ctx.workflowBundlePath,
  });
  try {
    return await worker.runUntil(fn(worker));
  } finally {
    await connection.close();
    await closeDeps(deps);
  }
}

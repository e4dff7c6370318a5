import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { Queue } from 'bullmq';
import { createActivities } from '../../activities';
import { createQueue, QUEUE_NAMES } from '../../src/jobs/queues';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { createTemporalWorker } from '../../src/temporal/worker';
import type { TestContext } from './context';

export async function createClient(ctx: TestContext): Promise<Client> {
  const connection = await Connection.connect({ address: ctx.stack.temporalAddress });
  return new Client({ connection, namespace: 'default' });
}

export function createQueues(ctx: TestContext): { systemCheck: Queue } {
  return { systemCheck: createQueue(QUEUE_NAMES.systemCheck, ctx.queue) };
}

/** Runs `fn` while a real Temporal worker polls the file's task queue with the real activities. */
export async function withWorker<T>(ctx: TestContext, fn: (worker: Worker) => Promise<T>): Promise<T> {
  installTemporalRuntime(ctx.logger);
  const queues = createQueues(ctx);
  const { worker, connection } = await createTemporalWorker({
    address: ctx.stack.temporalAddress,
    namespace: 'default',
    taskQueue: ctx.taskQueue,
    activities: createActivities({ models: ctx.models, queues, logger: ctx.logger }),
    workflowBundlePath: ctx.workflowBundlePath,
  });
  try {
    return await worker.runUntil(fn(worker));
  } finally {
    await connection.close();
    await Promise.all(Object.values(queues).map((q) => q.close()));
  }
}

import { Worker } from 'bullmq';
import type { Logger } from '../logger';
import type { Models } from '../db/models';
import { QUEUE_NAMES, type QueueContext } from './queues';
import { systemCheckProcessor } from './processors/system-check';

/** Starts every BullMQ worker of the process; close them with `Promise.all(workers.map(w => w.close()))`. */
export function startJobWorkers(deps: { models: Models; queue: QueueContext; logger: Logger }): Worker[] {
  const workers = [
    new Worker(QUEUE_NAMES.systemCheck, systemCheckProcessor(deps.models), {
      connection: deps.queue.connection,
      prefix: deps.queue.prefix,
      concurrency: 4,
    }),
  ];
  for (const worker of workers) {
    worker.on('failed', (job, err) => deps.logger.warn({ queue: worker.name, jobId: job?.id, err }, 'job failed'));
    worker.on('error', (err) => deps.logger.error({ queue: worker.name, err }, 'job worker error'));
  }
  return workers;
}

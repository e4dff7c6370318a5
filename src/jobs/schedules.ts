/**
 * The repeating jobs (the HR reconciliation, the invitation and Idempotency-Key sweeps, the
 * webhook outbox): one BullMQ job scheduler each, upserted under a fixed id so that however many
 * workers start there is one, and created again whenever the Redis connection becomes ready (a
 * Redis restarted without its data has lost its schedulers, and the upsert is idempotent).
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger';

export interface RepeatingJob {
  /** The scheduler's id, which is also the name of the jobs it adds. */
  id: string;
  /** What a person reads in a log line ("the invitation-expiry sweep"). */
  what: string;
}

/** Creates or updates the job's scheduler: one however often it is called. */
export async function scheduleRepeating(queue: Queue, job: RepeatingJob, everyMs: number): Promise<void> {
  await queue.upsertJobScheduler(job.id, { every: everyMs }, { name: job.id, data: {}, opts: { removeOnComplete: 50, removeOnFail: 50 } });
}

/** Schedules the job now and again whenever Redis becomes ready; returns a function that stops listening. */
export async function keepScheduled(queue: Queue, job: RepeatingJob, everyMs: number, connection: Redis, logger: Logger): Promise<() => void> {
  await scheduleRepeating(queue, job, everyMs);
  const reschedule = () => {
    scheduleRepeating(queue, job, everyMs).catch((err: unknown) => logger.warn({ err }, `could not re-create the scheduler of ${job.what}`));
  };
  connection.on('ready', reschedule);
  return () => {
    connection.off('ready', reschedule);
  };
}

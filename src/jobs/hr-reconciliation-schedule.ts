import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger';

export const HR_RECONCILIATION_SCHEDULER_ID = 'hr-reconciliation';

/** Creates or updates the repeating reconciliation job (one scheduler however many workers call this). */
export async function scheduleHrReconciliation(queue: Queue, everyMs: number): Promise<void> {
  await queue.upsertJobScheduler(HR_RECONCILIATION_SCHEDULER_ID, { every: everyMs }, { name: 'hr-reconciliation', data: {}, opts: { removeOnComplete: 50, removeOnFail: 50 } });
}

/**
 * Schedules the sweep now and again on every reconnection to Redis: a Redis that restarted
 * without its data would otherwise lose the scheduler, and missed terminations would go unseen.
 * Returns a function that stops re-scheduling.
 */
export async function keepHrReconciliationScheduled(queue: Queue, everyMs: number, connection: Redis, logger: Logger): Promise<() => void> {
  await scheduleHrReconciliation(queue, everyMs);
  const reschedule = () => {
    scheduleHrReconciliation(queue, everyMs).catch((err: unknown) => logger.warn({ err }, 'could not re-create the HR reconciliation scheduler'));
  };
  connection.on('ready', reschedule);
  return () => {
    connection.off('ready', reschedule);
  };
}

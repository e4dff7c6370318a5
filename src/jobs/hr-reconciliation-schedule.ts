import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger';
import { keepScheduled, scheduleRepeating, type RepeatingJob } from './schedules';

export const HR_RECONCILIATION_SCHEDULER_ID = 'hr-reconciliation';
const JOB: RepeatingJob = { id: HR_RECONCILIATION_SCHEDULER_ID, what: 'the HR reconciliation' };

/** Creates or updates the repeating reconciliation job (one scheduler however many workers call this). */
export const scheduleHrReconciliation = (queue: Queue, everyMs: number): Promise<void> => scheduleRepeating(queue, JOB, everyMs);

/**
 * Schedules the reconciliation now and again on every reconnection to Redis: a Redis that
 * restarted without its data would otherwise lose the scheduler, and missed terminations would go
 * unseen. Returns a function that stops re-scheduling.
 */
export const keepHrReconciliationScheduled = (queue: Queue, everyMs: number, connection: Redis, logger: Logger): Promise<() => void> => keepScheduled(queue, JOB, everyMs, connection, logger);

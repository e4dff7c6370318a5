/**
 * The Idempotency-Key expiry sweep, a scheduled job: deletes the records of keys older than
 * IDEMPOTENCY_KEY_TTL, a bounded batch at a time, so the collection does not only grow. Whether a
 * key is still remembered is decided when a request reads it (src/services/idempotency.ts); the
 * sweep only tidies up, and a late or missed run changes no answer.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Models } from '../db/models';
import type { Logger } from '../logger';
import { idempotencyKeysExpired } from '../metrics/metrics';
import { deleteExpiredIdempotencyKeys, type IdempotencySweepResult } from '../services/idempotency';
import { keepScheduled, scheduleRepeating, type RepeatingJob } from './schedules';

export const IDEMPOTENCY_SWEEP_SCHEDULER_ID = 'idempotency-key-sweep';

const JOB: RepeatingJob = { id: IDEMPOTENCY_SWEEP_SCHEDULER_ID, what: 'the idempotency-key sweep' };

/** Creates or updates the repeating sweep job: one scheduler however many workers call this. */
export const scheduleIdempotencySweep = (queue: Queue, everyMs: number): Promise<void> => scheduleRepeating(queue, JOB, everyMs);

/** Schedules the sweep now and again whenever Redis becomes ready; returns a function that stops listening. */
export const keepIdempotencySweepScheduled = (queue: Queue, everyMs: number, connection: Redis, logger: Logger): Promise<() => void> => keepScheduled(queue, JOB, everyMs, connection, logger);

export interface IdempotencySweepDeps {
  models: Models;
  /** IDEMPOTENCY_KEY_TTL in milliseconds. */
  ttlMs: number;
  logger: Logger;
}

/** Runs one sweep per scheduled job; its counts are the job's return value. */
export function idempotencySweepProcessor(deps: IdempotencySweepDeps) {
  return async (): Promise<IdempotencySweepResult> => {
    const result = await deleteExpiredIdempotencyKeys(deps.models, deps.ttlMs);
    idempotencyKeysExpired.inc(result.deleted);
    deps.logger.info({ ...result }, 'idempotency-key sweep finished');
    return result;
  };
}

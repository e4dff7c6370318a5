/**
 * Putting HR events into the intake queue from the webhook handler. The handler answers 202
 * only after this resolves, so it must fail fast when Redis is down (the HR system then
 * retries) instead of waiting for a reconnection while the sender times out.
 */
import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { HrEvent, HrIntakeJob, HrProvider } from '../hr/events';
import { currentTraceCarrier } from '../telemetry/tracing';
import { jobIdFor, QUEUE_NAMES } from './queues';

/** Jobs stay this long after they finish so a late redelivery of the same event is still a no-op. */
const HR_JOB_RETENTION_SECONDS = 30 * 86_400;
const ENQUEUE_TIMEOUT_MS = 2_000;

export class QueueUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the HR intake queue is unavailable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'QueueUnavailableError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** A connection whose commands fail at once while Redis is unreachable (no offline queue, one retry). */
export function createFailFastRedis(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: ENQUEUE_TIMEOUT_MS,
    connectTimeout: ENQUEUE_TIMEOUT_MS,
    // Keep reconnecting in the background, at most every two seconds.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
}

/** The idempotency key of a delivery: `hr-<provider>-<SHA-256 of the event id>` (BullMQ forbids ':'). */
export function hrJobId(provider: HrProvider, eventId: string): string {
  return jobIdFor(`hr-${provider}`, eventId);
}

export function hrIntakeJobOptions(attempts: number, backoffMs: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: backoffMs },
    removeOnComplete: { age: HR_JOB_RETENTION_SECONDS },
    removeOnFail: { age: HR_JOB_RETENTION_SECONDS },
  };
}

export class HrIntakeQueue {
  readonly queue: Queue<HrIntakeJob>;

  constructor(
    private readonly connection: Redis,
    prefix: string,
    private readonly jobOptions: JobsOptions,
  ) {
    this.queue = new Queue<HrIntakeJob>(QUEUE_NAMES.hrIntake, { connection, prefix });
    // Errors surface on add(); the queue's own error events are only noise here.
    this.queue.on('error', () => undefined);
  }

  /**
   * Adds every event atomically (one MULTI); an event already queued under the same job id is
   * left as it is. Resolves only when Redis has stored them.
   */
  async enqueue(provider: HrProvider, events: HrEvent[], receivedAt = new Date()): Promise<string[]> {
    // With tracing on, the job carries the request's trace context (telemetry/tracing.ts).
    const trace = currentTraceCarrier();
    return this.add(events.map((event) => ({ data: { provider, event, receivedAt: receivedAt.toISOString(), ...(trace ? { trace } : {}) }, jobId: hrJobId(provider, event.eventId) })));
  }

  /**
   * Queues a stored event again under a new job id (a dead letter's replay: the first id is kept
   * by the queue, which would take the event for a redelivery). Resolves once Redis has it.
   */
  async replay(job: HrIntakeJob, jobId: string): Promise<string> {
    const [added] = await this.add([{ data: job, jobId }]);
    return added!;
  }

  private async add(jobs: Array<{ data: HrIntakeJob; jobId: string }>): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const added = await Promise.race([
        this.queue.addBulk(jobs.map(({ data, jobId }) => ({ name: data.event.type, data, opts: { ...this.jobOptions, jobId } }))),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
        }),
      ]);
      return added.map((job) => job.id!);
    } catch (err) {
      throw new QueueUnavailableError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    this.connection.disconnect();
  }
}

/**
 * The process's Prometheus metrics (prom-client), every name `tenure_*`. One registry per
 * process: the API serves it at `GET /metrics`, the worker on its health port. Counters are
 * counted where the event happens (an HTTP response, a finished job, the activity that settles
 * an offboarding); queue depths are read from Redis when scraped. Labels never hold a raw URL,
 * a token or an id: routes are their patterns, queues their names, outcomes a fixed set.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'tenure_' });
const registers = [registry];

export const httpRequests = new Counter({
  name: 'tenure_http_requests_total',
  help: 'HTTP requests answered, by method, route pattern and status.',
  labelNames: ['method', 'route', 'status'] as const,
  registers,
});

export const httpRequestDuration = new Histogram({
  name: 'tenure_http_request_duration_seconds',
  help: 'Time from receiving an HTTP request to sending its answer, by method, route pattern and status.',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers,
});

export const httpRefused = new Counter({
  name: 'tenure_http_refused_total',
  help: 'Requests refused before their route ran: rate limits (reason rate_limit, limit the name of the limit) and load shedding (reason overloaded).',
  labelNames: ['reason', 'limit'] as const,
  registers,
});

export const jobOutcomes = new Counter({
  name: 'tenure_jobs_total',
  help: 'BullMQ jobs finished by the workers of this process, by queue and outcome (completed, failed for good, retried after a failed attempt).',
  labelNames: ['queue', 'outcome'] as const,
  registers,
});

export const idempotencyKeysExpired = new Counter({
  name: 'tenure_idempotency_keys_expired_total',
  help: 'Idempotency-Key records deleted by the expiry sweep (older than IDEMPOTENCY_KEY_TTL).',
  registers,
});

export const offboardingOutcomes = new Counter({
  name: 'tenure_offboardings_total',
  help: 'Offboardings settled, by outcome.',
  labelNames: ['outcome'] as const,
  registers,
});

export const hrTerminationToLockout = new Histogram({
  name: 'tenure_hr_termination_to_lockout_seconds',
  help: "Time from receiving an HR termination event to the leaver's lockout (all sessions ended, all tokens revoked).",
  buckets: [1, 5, 15, 30, 60, 300, 900, 3600, 4 * 3600, 86_400, 3 * 86_400, 7 * 86_400, 30 * 86_400],
  registers,
});

/** The states of a BullMQ queue reported as depths. */
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** What a queue depth is read from: a BullMQ Queue (its `getJobCounts`). */
export interface CountableQueue {
  readonly name: string;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}

const watchedQueues = new Set<CountableQueue>();

new Gauge({
  name: 'tenure_queue_jobs',
  help: 'Jobs in each BullMQ queue by state (waiting, active, delayed, failed), read from Redis when scraped.',
  labelNames: ['queue', 'state'] as const,
  registers,
  async collect() {
    this.reset();
    await Promise.all(
      [...watchedQueues].map(async (queue) => {
        // A queue Redis cannot answer for is left out of this scrape rather than reported as empty.
        const counts = await queue.getJobCounts(...QUEUE_STATES).catch(() => undefined);
        if (!counts) return;
        for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
      }),
    );
  },
});

/** Reports the depths of these queues on every scrape until the returned function is called. */
export function watchQueueDepths(queues: CountableQueue[]): () => void {
  for (const queue of queues) watchedQueues.add(queue);
  return () => {
    for (const queue of queues) watchedQueues.delete(queue);
  };
}

export const METRICS_CONTENT_TYPE = registry.contentType;

/** The process's metrics in the Prometheus text format. */
export function renderMetrics(): Promise<string> {
  return registry.metrics();
}

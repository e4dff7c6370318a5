import { Worker, type Job } from 'bullmq';
import { withJobTrace, type TraceCarrier } from '../telemetry/tracing';
import type { Logger } from '../logger';
import type { Models } from '../db/models';
import { jobOutcomes } from '../metrics/metrics';
import { QUEUE_NAMES, type QueueContext } from './queues';
import { systemCheckProcessor } from './processors/system-check';
import { invitationSweepProcessor } from './processors/invitation-sweep';
import { hrIntakeProcessor } from './processors/hr-intake';
import { hrReconciliationProcessor } from './processors/hr-reconciliation';
import { idempotencySweepProcessor } from './idempotency-sweep';
import { webhookDeliveryProcessor, webhookOutboxProcessor, type WebhookDeliveryJob, type WebhookSettings } from './webhooks';
import type { WebhookProtection } from '../services/webhook-subscriptions';

/** What the HR intake and reconciliation workers need to start processes (optional: without it they do not run). */
export interface HrJobDeps {
  temporal: import('@temporalio/client').Client;
  taskQueue: string;
  terminationLockout: boolean;
  /** ORGANIZATION_TIME_ZONE: an HR last day ends at the end of that day there (default UTC). */
  timeZone?: string;
}

/** A processor whose job runs in a span continuing the trace its data carries (`trace`), when tracing is on. */
function traced<T, R>(queue: string, processor: (job: Job<T>) => Promise<R>): (job: Job<T>) => Promise<R> {
  return (job) => withJobTrace(queue, job.name, (job.data as { trace?: TraceCarrier } | undefined)?.trace, () => processor(job));
}

/** Starts every BullMQ worker of the process; close them with `Promise.all(workers.map(w => w.close()))`. */
export function startJobWorkers(deps: { models: Models; queue: QueueContext; logger: Logger; hr?: HrJobDeps; invitationSweep?: { temporal: import('@temporalio/client').Client; taskQueue: string };
  /** Outbound webhooks: the outbox and the deliveries (the queue the outbox puts deliveries on; the keyring and receiver rule deliveries use). */
  webhooks?: { settings: WebhookSettings; deliveryQueue: import('bullmq').Queue<WebhookDeliveryJob>; protection: WebhookProtection };
  /** The Idempotency-Key expiry sweep, with IDEMPOTENCY_KEY_TTL in milliseconds. */
  idempotencySweep?: { ttlMs: number };
}): Worker[] {
  const workers: Worker[] = [
    new Worker(QUEUE_NAMES.systemCheck, traced(QUEUE_NAMES.systemCheck, systemCheckProcessor(deps.models)), {
      connection: deps.queue.connection,
      prefix: deps.queue.prefix,
      concurrency: 4,
    }),
  ];
  if (deps.hr) {
    const hrDeps = { ...deps.hr, models: deps.models, logger: deps.logger.child({ component: 'hr-intake' }) };
    workers.push(
      new Worker(QUEUE_NAMES.hrIntake, traced(QUEUE_NAMES.hrIntake, hrIntakeProcessor(hrDeps)), { connection: deps.queue.connection, prefix: deps.queue.prefix, concurrency: 8 }),
      new Worker(QUEUE_NAMES.hrReconciliation, traced(QUEUE_NAMES.hrReconciliation, hrReconciliationProcessor(hrDeps)), { connection: deps.queue.connection, prefix: deps.queue.prefix, concurrency: 1 }),
    );
  }
  if (deps.invitationSweep) {
    const sweepDeps = { ...deps.invitationSweep, models: deps.models, logger: deps.logger.child({ component: 'invitation-sweep' }) };
    // One sweep at a time: a slow run is never overlapped by the next tick.
    workers.push(new Worker(QUEUE_NAMES.invitationSweep, traced(QUEUE_NAMES.invitationSweep, invitationSweepProcessor(sweepDeps)), { connection: deps.queue.connection, prefix: deps.queue.prefix, concurrency: 1 }));
  }
  if (deps.idempotencySweep) {
    const sweepDeps = { ...deps.idempotencySweep, models: deps.models, logger: deps.logger.child({ component: 'idempotency-sweep' }) };
    workers.push(new Worker(QUEUE_NAMES.idempotencySweep, traced(QUEUE_NAMES.idempotencySweep, idempotencySweepProcessor(sweepDeps)), { connection: deps.queue.connection, prefix: deps.queue.prefix, concurrency: 1 }));
  }
  if (deps.webhooks) {
    const logger = deps.logger.child({ component: 'webhooks' });
    const { settings, deliveryQueue, protection } = deps.webhooks;
    // One outbox run at a time; deliveries in parallel.
    workers.push(
      new Worker(QUEUE_NAMES.webhookOutbox, webhookOutboxProcessor({ models: deps.models, deliveryQueue, settings, logger }), { connection: deps.queue.connection, prefix: deps.queue.prefix, concurrency: 1 }),
      new Worker(QUEUE_NAMES.webhookDelivery, webhookDeliveryProcessor({ models: deps.models, settings, protection, logger }), { connection: deps.queue.connection, prefix: deps.queue.prefix, concurrency: 8 }),
    );
  }
  for (const worker of workers) {
    worker.on('completed', () => jobOutcomes.inc({ queue: worker.name, outcome: 'completed' }));
    worker.on('failed', (job, err) => {
      // A job that will be tried again has no finishing time yet.
      jobOutcomes.inc({ queue: worker.name, outcome: !job || job.finishedOn ? 'failed' : 'retried' });
      deps.logger.warn({ queue: worker.name, jobId: job?.id, err }, 'job failed');
    });
    worker.on('error', (err) => deps.logger.error({ queue: worker.name, err }, 'job worker error'));
  }
  return workers;
}

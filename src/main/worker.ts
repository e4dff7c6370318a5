/** The worker process: the Temporal worker (workflows and activities) and the BullMQ workers. */
import { createActivities } from '../../activities';
import type { OffboardingTimings } from '../../activities/deps';
import { loadConfig, type Config } from '../config/env';
import { connectMongo } from '../db/connection';
import { createModels, ensureIndexes } from '../db/models';
import { createQueue, createRedisConnection, QUEUE_NAMES } from '../jobs/queues';
import { startJobWorkers } from '../jobs/workers';
import { keepHrReconciliationScheduled } from '../jobs/hr-reconciliation-schedule';
import { keepInvitationSweepScheduled } from '../jobs/invitation-sweep';
import { keepIdempotencySweepScheduled } from '../jobs/idempotency-sweep';
import { keepWebhookOutboxScheduled, type WebhookDeliveryJob } from '../jobs/webhooks';
import { sealStoredSigningSecrets, webhookProtectionFrom } from '../services/webhook-subscriptions';
import { createTemporalClient } from '../temporal/client';
import { startTracing } from '../telemetry/tracing';
import { createLogger } from '../logger';
import { createMailer } from '../mail/mailer';
import { installTemporalRuntime, temporalRuntimeMetrics } from '../temporal/runtime';
import { METRICS_CONTENT_TYPE, renderMetrics, watchQueueDepths } from '../metrics/metrics';
import { freePort } from '../devstack/ports';
import { createTemporalWorker } from '../temporal/worker';
import { builtWorkflowBundle } from '../temporal/paths';
import { serveWorkerHealth } from '../health/worker-health';
import { exitOnStartupError, onShutdown } from './lifecycle';
import { checkConnectors, connectorsFromConfig } from '../connectors/registry';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'tenure-worker', production: config.NODE_ENV === 'production' });
  // Before any client or worker is made: they pick their tracing interceptors then (off without an endpoint).
  const stopTracing = startTracing(config, 'tenure-worker');
  // The SDK runtime's Prometheus exporter: on the given port, or on a free one when the health port
  // serves /metrics (which includes its series).
  const temporalMetricsPort = config.TEMPORAL_METRICS_PORT ?? (config.WORKER_HEALTH_PORT ? await freePort() : undefined);
  installTemporalRuntime(logger, { metricsPort: temporalMetricsPort });
  const conn = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
  const models = createModels(conn);
  await ensureIndexes(models);

  const redis = createRedisConnection(config.REDIS_URL);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const queueContext = { connection: redis, prefix: config.REDIS_PREFIX };
  const queues = { systemCheck: createQueue(QUEUE_NAMES.systemCheck, queueContext) };
  // Every queue's depth is read from Redis when /metrics is scraped.
  const countedQueues = Object.values(QUEUE_NAMES).map((name) => createQueue(name, queueContext));
  watchQueueDepths(countedQueues);
  // HR intake and reconciliation start processes through a Temporal client of their own.
  const temporalClient = await createTemporalClient({ address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE });
  const hrReconciliationQueue = createQueue(QUEUE_NAMES.hrReconciliation, queueContext);
  await keepHrReconciliationScheduled(hrReconciliationQueue, config.RECONCILIATION_INTERVAL, redis, logger);
  const invitationSweepQueue = createQueue(QUEUE_NAMES.invitationSweep, queueContext);
  await keepInvitationSweepScheduled(invitationSweepQueue, config.INVITATION_SWEEP_INTERVAL, redis, logger);
  const idempotencySweepQueue = createQueue(QUEUE_NAMES.idempotencySweep, queueContext);
  await keepIdempotencySweepScheduled(idempotencySweepQueue, config.IDEMPOTENCY_SWEEP_INTERVAL, redis, logger);
  const webhookOutboxQueue = createQueue(QUEUE_NAMES.webhookOutbox, queueContext);
  await keepWebhookOutboxScheduled(webhookOutboxQueue, config.WEBHOOK_OUTBOX_INTERVAL, redis, logger);
  const webhookDeliveryQueue = createQueue<WebhookDeliveryJob>(QUEUE_NAMES.webhookDelivery, queueContext);
  // Signing secrets kept in clear, or sealed with a retired key, are sealed with the current key once, here.
  const webhookProtection = webhookProtectionFrom(config);
  await sealStoredSigningSecrets(models, webhookProtection.keyring, logger.child({ component: 'webhooks' }));
  const jobWorkers = startJobWorkers({
    models,
    queue: queueContext,
    logger,
    hr: { temporal: temporalClient, taskQueue: config.TEMPORAL_TASK_QUEUE, terminationLockout: config.HR_TERMINATION_LOCKOUT, timeZone: config.ORGANIZATION_TIME_ZONE },
    invitationSweep: { temporal: temporalClient, taskQueue: config.TEMPORAL_TASK_QUEUE },
    idempotencySweep: { ttlMs: config.IDEMPOTENCY_KEY_TTL },
    webhooks: { settings: webhookSettings(config), deliveryQueue: webhookDeliveryQueue, protection: webhookProtection },
  });
  const mailer = createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM });
  const workflowBundle = config.TEMPORAL_WORKFLOW_BUNDLE ?? builtWorkflowBundle();
  const connectors = connectorsFromConfig(config);
  await checkConnectors(connectors, logger);

  const { worker, connection } = await createTemporalWorker({
    address: config.TEMPORAL_ADDRESS,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities: createActivities({ models, queues, logger, mailer, publicBaseUrl: config.PUBLIC_BASE_URL, offboarding: offboardingTimings(config), connectors }),
    workflowBundlePath: workflowBundle,
  });
  const running = worker.run();
  const health = config.WORKER_HEALTH_PORT
    ? await serveWorkerHealth(
        config.WORKER_HEALTH_PORT,
        {
          temporalWorker: worker,
          temporal: temporalClient.connection,
          redis,
          mongo: conn,
          metrics: { contentType: METRICS_CONTENT_TYPE, render: async () => (await renderMetrics()) + (await temporalRuntimeMetrics()) },
        },
        config.WORKER_HEALTH_HOST,
      )
    : undefined;
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, connectedSystems: connectors.map((c) => c.id), healthPort: health?.port, temporalMetricsPort, workflowBundle }, 'worker started');

  onShutdown(logger, async () => {
    await health?.close();
    // The Temporal runtime starts the drain itself on SIGINT/SIGTERM; a second shutdown() throws.
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    await connection.close();
    await Promise.all(jobWorkers.map((w) => w.close()));
    mailer.close();
    await Promise.all([...Object.values(queues), ...countedQueues].map((q) => q.close()));
    await hrReconciliationQueue.close();
    await invitationSweepQueue.close();
    await idempotencySweepQueue.close();
    await webhookOutboxQueue.close();
    await webhookDeliveryQueue.close();
    redis.disconnect();
    await temporalClient.connection.close();
    await conn.close();
    await stopTracing();
  });
  await running.catch((err) => {
    logger.fatal({ err }, 'temporal worker stopped');
    process.exit(1);
  });
}

/** Outbound webhook delivery settings, from the configuration. */
function webhookSettings(config: Config) {
  return { attempts: config.WEBHOOK_ATTEMPTS, backoffMs: config.WEBHOOK_BACKOFF, timeoutMs: config.WEBHOOK_TIMEOUT };
}

/** The offboarding timings the activities use, from the configuration. */
function offboardingTimings(config: Config): OffboardingTimings {
  return {
    approvalReminderMs: config.OFFBOARDING_APPROVAL_REMINDER,
    approvalEscalationMs: config.OFFBOARDING_APPROVAL_ESCALATION,
    undoGraceMs: config.OFFBOARDING_UNDO_GRACE,
    systemRetryMs: config.OFFBOARDING_SYSTEM_RETRY,
    systemReadTimeoutMs: config.OFFBOARDING_SYSTEM_READ_TIMEOUT,
  };
}

main().catch(exitOnStartupError);

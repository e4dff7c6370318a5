/** The HTTP API process (and, when configured, the Slack bot). */
import { loadConfig } from '../config/env';
import { connectMongo } from '../db/connection';
import { createModels, ensureIndexes } from '../db/models';
import { buildApiApp } from './api-app';
import { createRedisConnection } from '../jobs/queues';
import { createLogger } from '../logger';
import { startTracing } from '../telemetry/tracing';
import { createTemporalClient } from '../temporal/client';
import { startSlackSync } from '../slack/sync-scheduler';
import { exitOnStartupError, onShutdown } from './lifecycle';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'tenure-api', production: config.NODE_ENV === 'production' });
  // Before any client is made: they pick their tracing interceptors then (off without an endpoint).
  const stopTracing = startTracing(config, 'tenure-api');
  const conn = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
  const models = createModels(conn);
  await ensureIndexes(models);
  const redis = createRedisConnection(config.REDIS_URL);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const temporal = await createTemporalClient({ address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE });

  const app = await buildApiApp({ config, logger, conn, models, redis, temporal });
  await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });
  // The Slack bot joins when credentials are configured: Socket Mode connects out; the sync job
  // keeps approval requests and progress messages up to date.
  await app.slack?.start();
  const slackSync = app.slack ? await startSlackSync(app.slack, { connection: redis, prefix: config.REDIS_PREFIX }, config.SLACK_SYNC_INTERVAL) : undefined;

  onShutdown(logger, async () => {
    await slackSync?.close();
    await app.slack?.stop();
    await app.close();
    await temporal.connection.close();
    redis.disconnect();
    await conn.close();
    await stopTracing();
  });
}

main().catch(exitOnStartupError);

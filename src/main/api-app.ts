/**
 * The API process's app with the connections it owns: the HR intake queue on a Redis
 * connection of its own that fails fast, and the Slack bot when Slack is configured. Both are
 * opened here, not in the routes; closing the app closes the intake connection.
 */
import { slackEnabled } from '../config/env';
import { buildApp, type App } from '../http/app';
import type { AppDeps } from '../http/deps';
import { createFailFastRedis, HrIntakeQueue, hrIntakeJobOptions } from '../jobs/hr-intake-queue';
import { createSlackBot } from '../slack/bot';

export async function buildApiApp(deps: Omit<AppDeps, 'hrIntake' | 'slack' | 'rateLimitRedis'>): Promise<App> {
  const { config, logger } = deps;
  // Bolt connects nothing until start() (Socket Mode); in HTTP mode the API serves its requests.
  const slack = slackEnabled(config) ? createSlackBot(deps) : undefined;
  const intakeRedis = createFailFastRedis(config.REDIS_URL);
  intakeRedis.on('error', (err) => logger.debug({ err: err.message }, 'hr intake redis connection error'));
  const hrIntake = new HrIntakeQueue(intakeRedis, config.REDIS_PREFIX, hrIntakeJobOptions(config.HR_INTAKE_ATTEMPTS, config.HR_INTAKE_BACKOFF));
  try {
    // Rate limits are counted on the same fail-fast connection: a Redis outage lets requests through.
    const app = await buildApp({ ...deps, hrIntake, slack, rateLimitRedis: intakeRedis });
    app.addHook('onClose', async () => hrIntake.close());
    return app;
  } catch (err) {
    await hrIntake.close();
    throw err;
  }
}

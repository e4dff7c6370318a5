import type { Client } from '@temporalio/client';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Config } from '../config/env';
import type { Models } from '../db/models';
import type { HrIntakeQueue } from '../jobs/hr-intake-queue';
import type { Logger } from '../logger';
import type { SlackBot } from '../slack/bot';

/**
 * What the API process hands to the app and to each route plugin. Every connection is opened
 * by the process (src/main/) and passed in; routes open none of their own.
 */
export interface AppDeps {
  config: Config;
  logger: Logger;
  conn: Connection;
  models: Models;
  redis: Redis;
  temporal: Client;
  /** Where HR webhooks put the events they accept (on a connection that fails fast). */
  hrIntake: HrIntakeQueue;
  /** The Slack bot, when Slack credentials are configured. */
  slack: SlackBot | undefined;
  /** Where rate limits are counted (a connection that fails fast); without it, in this process only. */
  rateLimitRedis?: Redis;
}

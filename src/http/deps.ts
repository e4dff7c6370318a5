import type { Client } from '@temporalio/client';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Config } from '../config/env';
import type { Models } from '../db/models';
import type { Logger } from '../logger';

/** What the API process hands to the app and to each route plugin. */
export interface AppDeps {
  config: Config;
  logger: Logger;
  conn: Connection;
  models: Models;
  redis: Redis;
  temporal: Client;
}

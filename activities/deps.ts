import type { Queue } from 'bullmq';
import type { Models } from '../src/db/models';
import type { Logger } from '../src/logger';

/** What the worker injects into the activities. */
export interface ActivityDeps {
  models: Models;
  queues: { systemCheck: Queue };
  logger: Logger;
}

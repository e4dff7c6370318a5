import { createHash } from 'node:crypto';
import { Queue, type ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

/** Every BullMQ queue tenure uses. */
export const QUEUE_NAMES = {
  systemCheck: 'system-check',
  invitationSweep: 'invitation-sweep',
  idempotencySweep: 'idempotency-sweep',
  slackSync: 'slack-sync',
  hrIntake: 'hr-intake',
  hrReconciliation: 'hr-reconciliation',
  webhookOutbox: 'webhook-outbox',
  webhookDelivery: 'webhook-delivery',
} as const;

export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

/**
 * A Redis connection suitable for BullMQ workers (which block) and queues: commands wait for
 * reconnection instead of failing after a fixed number of retries.
 */
export function createRedisConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
}

export interface QueueContext {
  connection: ConnectionOptions;
  /** Redis key prefix, so several deployments (or test files) share one Redis. */
  prefix: string;
}

export function createQueue<T = unknown>(name: QueueName, ctx: QueueContext): Queue<T> {
  return new Queue<T>(name, { connection: ctx.connection, prefix: ctx.prefix });
}

/**
 * A BullMQ custom job id for a business key. Custom ids may not contain ':' and business keys do,
 * so the key is hashed: `<namespace>-<SHA-256 hex of the key>`. Two different keys never share an
 * id (replacing ':' by '_' made `a:1` and `a_1` one job), and the same key always gives the same
 * id, so a redelivery is still recognised.
 */
export function jobIdFor(namespace: string, key: string): string {
  return `${namespace}-${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

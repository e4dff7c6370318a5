/**
 * Outbound webhooks: lifecycle events from the audit log to the platform's services.
 *
 * The outbox is the audit log itself. A scheduled job reads the lifecycle entries past a stored
 * cursor (re-reading an overlap, so an entry written late by a slow writer is still seen) and
 * records each as a webhook event keyed by its audit entry's id (a unique key: read twice, kept
 * once). An event is then fanned out: one delivery per matching subscription (unique per event
 * and subscription) and one BullMQ job per delivery under a job id derived from both; only then is
 * the event marked fanned out, so a crash in between is redone by the next run without doubles.
 * The delivery job POSTs the signed payload (Standard Webhooks) and retries with exponential
 * backoff; a delivery that fails every attempt goes to the dead-letter list, from which an
 * Administrator replays it (services/dead-letters.ts, the mechanism of the HR intake's list).
 */
import { UnrecoverableError, type Job, type JobsOptions, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { Webhook } from 'standardwebhooks';
import { LIFECYCLE_AUDIT_ACTIONS, lifecycleEventOf } from '../domain/lifecycle-events';
import type { Models } from '../db/models';
import type { WebhookDeadLetter } from '../db/models/webhook';
import type { Logger } from '../logger';
import { recordAudit, type Actor } from '../services/audit';
import { claimReplay, keepDeadLetter, listDeadLettersOf, markReplayed } from '../services/dead-letters';
import { signingSecretOf, type WebhookProtection } from '../services/webhook-subscriptions';
import { UnsealError } from '../security/encryption';
import { postWebhook, ReceiverRefused, ReceiverTimedOut } from './webhook-post';
import { jobIdFor } from './queues';
import { keepScheduled } from './schedules';

const WEBHOOK_OUTBOX_SCHEDULER_ID = 'webhook-outbox';
const CURSOR_ID = 'audit';
/** Entries this much older than the cursor are read again (writers' clocks and slow writes). */
const OVERLAP_MS = 5 * 60_000;
const PAGE = 200;
/** A pending delivery whose job is gone (Redis lost its data) is queued again after this long. */
const STALE_MS = 15 * 60_000;
const KEEP_ATTEMPTS = 20;

export interface WebhookDeliveryJob {
  deliveryId: string;
}

export interface WebhookSettings {
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
}

function webhookDeliveryJobOptions(settings: Pick<WebhookSettings, 'attempts' | 'backoffMs'>): JobsOptions {
  return {
    attempts: settings.attempts,
    backoff: { type: 'exponential', delay: settings.backoffMs },
    removeOnComplete: { age: 7 * 86_400 },
    removeOnFail: { age: 30 * 86_400 },
  };
}

/** The idempotency key of a delivery job: one per (event, subscription). */
function webhookJobId(eventId: Types.ObjectId | string, subscriptionId: Types.ObjectId | string): string {
  return jobIdFor('webhook', `${String(eventId)}:${String(subscriptionId)}`);
}

// ---- Outbox ----

export interface OutboxDeps {
  models: Models;
  deliveryQueue: Queue<WebhookDeliveryJob>;
  settings: Pick<WebhookSettings, 'attempts' | 'backoffMs'>;
  logger: Logger;
}

export interface OutboxResult {
  read: number;
  recorded: number;
  fannedOut: number;
  deliveriesQueued: number;
  requeued: number;
}

/** Where reading starts: the stored cursor, else the first subscription's creation (nothing before it has a receiver). */
async function cursorStart(models: Models): Promise<Date | undefined> {
  const cursor = await models.WebhookCursor.findById(CURSOR_ID).lean();
  if (cursor) return cursor.through;
  const first = await models.WebhookSubscription.findOne({}, { createdAt: 1 }).sort({ createdAt: 1 }).lean();
  return first?.createdAt;
}

/** Reads new lifecycle entries into webhook events (each once), then fans out what is not yet. */
export async function runWebhookOutbox(deps: OutboxDeps): Promise<OutboxResult> {
  const { models } = deps;
  const result: OutboxResult = { read: 0, recorded: 0, fannedOut: 0, deliveriesQueued: 0, requeued: 0 };
  const start = await cursorStart(models);
  if (start) {
    let after: { at: Date; id: Types.ObjectId } | undefined;
    let through = start;
    const from = new Date(start.getTime() - OVERLAP_MS);
    for (;;) {
      const page = await models.AuditEvent.find({
        action: { $in: [...LIFECYCLE_AUDIT_ACTIONS] },
        ...(after ? { $or: [{ at: { $gt: after.at } }, { at: after.at, _id: { $gt: after.id } }] } : { at: { $gte: from } }),
      })
        .sort({ at: 1, _id: 1 })
        .limit(PAGE)
        .lean();
      if (!page.length) break;
      result.read += page.length;
      const known = new Set((await models.WebhookEvent.find({ _id: { $in: page.map((e) => e._id) } }, { _id: 1 }).lean()).map((e) => String(e._id)));
      for (const entry of page) {
        if (known.has(String(entry._id))) continue;
        const event = lifecycleEventOf(entry);
        if (!event) continue;
        try {
          await models.WebhookEvent.create({ _id: entry._id, webhookId: `msg_${String(entry._id)}`, type: event.type, at: entry.at, payload: JSON.stringify(event), fannedOutAt: null });
          result.recorded += 1;
        } catch (err) {
          if ((err as { code?: number }).code !== 11000) throw err;
        }
      }
      const last = page[page.length - 1]!;
      after = { at: last.at, id: last._id };
      if (last.at > through) through = last.at;
      if (page.length < PAGE) break;
    }
    await models.WebhookCursor.updateOne({ _id: CURSOR_ID }, { $max: { through } }, { upsert: true });
  }

  // Fan out every event not yet fanned out (this run's, and any a crash left behind).
  for (;;) {
    const events = await models.WebhookEvent.find({ fannedOutAt: null }).sort({ at: 1 }).limit(PAGE).lean();
    for (const event of events) {
      const subscriptions = await models.WebhookSubscription.find({ enabled: true, events: event.type, createdAt: { $lte: event.at } }, { _id: 1 }).lean();
      for (const sub of subscriptions) {
        if (await queueDelivery(deps, event, sub._id)) result.deliveriesQueued += 1;
      }
      await models.WebhookEvent.updateOne({ _id: event._id }, { $set: { fannedOutAt: new Date() } });
      result.fannedOut += 1;
    }
    if (events.length < PAGE) break;
  }

  // Deliveries still pending long after they were queued: put their job back if Redis lost it.
  const stale = await models.WebhookDelivery.find({ status: 'pending', enqueuedAt: { $lt: new Date(Date.now() - STALE_MS) } }).limit(PAGE).lean();
  for (const delivery of stale) {
    if (await deps.deliveryQueue.getJob(delivery.jobId)) continue;
    await deps.deliveryQueue.add(delivery.type, { deliveryId: String(delivery._id) }, { ...webhookDeliveryJobOptions(deps.settings), jobId: delivery.jobId });
    await models.WebhookDelivery.updateOne({ _id: delivery._id }, { $set: { enqueuedAt: new Date() } });
    result.requeued += 1;
  }
  if (result.recorded || result.deliveriesQueued || result.requeued) deps.logger.info({ ...result }, 'webhook outbox run');
  return result;
}

/** The delivery of one event to one subscription (kept once) and its job (queued once under its id). */
async function queueDelivery(deps: OutboxDeps, event: { _id: Types.ObjectId; webhookId: string; type: string }, subscriptionId: Types.ObjectId): Promise<boolean> {
  const jobId = webhookJobId(event._id, subscriptionId);
  const now = new Date();
  let deliveryId: Types.ObjectId;
  try {
    const upserted = await deps.models.WebhookDelivery.findOneAndUpdate(
      { eventId: event._id, subscriptionId },
      { $setOnInsert: { eventId: event._id, subscriptionId, webhookId: event.webhookId, type: event.type, jobId, status: 'pending', attempts: 0, lastAttempts: [], createdAt: now } },
      { upsert: true, returnDocument: 'after' },
    ).lean();
    deliveryId = upserted!._id;
    if (upserted!.status !== 'pending' || upserted!.enqueuedAt) return false;
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    return false;
  }
  await deps.deliveryQueue.add(event.type, { deliveryId: String(deliveryId) }, { ...webhookDeliveryJobOptions(deps.settings), jobId });
  await deps.models.WebhookDelivery.updateOne({ _id: deliveryId }, { $set: { enqueuedAt: new Date() } });
  return true;
}

/** Schedules the outbox now and again whenever Redis becomes ready (a Redis without its data lost the scheduler). */
export const keepWebhookOutboxScheduled = (queue: Queue, everyMs: number, connection: Redis, logger: Logger): Promise<() => void> =>
  keepScheduled(queue, { id: WEBHOOK_OUTBOX_SCHEDULER_ID, what: 'the webhook outbox' }, everyMs, connection, logger);

export function webhookOutboxProcessor(deps: OutboxDeps) {
  return async (): Promise<OutboxResult> => runWebhookOutbox(deps);
}

// ---- Delivery ----

export interface DeliveryDeps {
  models: Models;
  settings: Pick<WebhookSettings, 'timeoutMs'>;
  /** The keyring that opens signing secrets and the private networks receivers may be on. */
  protection: WebhookProtection;
  logger: Logger;
}

export type DeliveryOutcome = { outcome: 'delivered'; status: number } | { outcome: 'skipped'; reason: string };

class DeliveryFailed extends Error {
  override readonly name = 'WebhookDeliveryFailed';
}

/**
 * POSTs the event to the subscription, signed; 2xx is delivered, anything else is retried, the last
 * failure dead-lettered. A signing secret that does not open (wrong or missing key, altered value)
 * or a receiver on a refused address is dead-lettered at once with the reason: retrying cannot mend
 * either, and the job never crashes on it.
 */
export function webhookDeliveryProcessor(deps: DeliveryDeps) {
  const { models } = deps;
  return async (job: Job<WebhookDeliveryJob>): Promise<DeliveryOutcome> => {
    const deliveryId = new Types.ObjectId(job.data.deliveryId);
    const delivery = await models.WebhookDelivery.findById(deliveryId).lean();
    if (!delivery) return { outcome: 'skipped', reason: 'delivery_gone' };
    if (delivery.status !== 'pending') return { outcome: 'skipped', reason: `already_${delivery.status}` };
    const subscription = await models.WebhookSubscription.findById(delivery.subscriptionId).select('+secret +secretSealed').lean();
    if (!subscription || !subscription.enabled) {
      const reason = subscription ? 'subscription_disabled' : 'subscription_deleted';
      await models.WebhookDelivery.updateOne({ _id: deliveryId, status: 'pending' }, { $set: { status: 'cancelled', finishedReason: reason } });
      return { outcome: 'skipped', reason };
    }
    const event = await models.WebhookEvent.findById(delivery.eventId).lean();
    if (!event) throw new UnrecoverableError(`webhook event ${String(delivery.eventId)} is missing`);

    const startedAt = new Date();
    let status: number | undefined;
    let error: string | undefined;
    // A failure no retry can mend (the secret does not open, the receiver's address is refused) is dead-lettered at once.
    let final = false;
    let secret: string | undefined;
    try {
      secret = signingSecretOf(subscription, deps.protection.keyring);
    } catch (err) {
      error = `the signing secret could not be decrypted: ${err instanceof UnsealError ? err.message : (err as Error).message}`;
      final = true;
    }
    if (secret !== undefined) {
      try {
        status = await postWebhook({
          url: subscription.url,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'tenure-webhooks',
            'webhook-id': event.webhookId,
            'webhook-timestamp': String(Math.floor(startedAt.getTime() / 1000)),
            'webhook-signature': new Webhook(secret).sign(event.webhookId, startedAt, event.payload),
          },
          body: event.payload,
          timeoutMs: deps.settings.timeoutMs,
          receivers: deps.protection.receivers,
        });
        if (status < 200 || status >= 300) error = `the receiver answered ${status}`;
      } catch (err) {
        const e = err as Error & { code?: string };
        if (err instanceof ReceiverRefused) {
          error = `the receiver's address is refused: ${e.message}`;
          final = true;
        } else {
          error = err instanceof ReceiverTimedOut ? e.message : `could not reach the receiver (${e.code ?? e.message})`;
        }
      }
    }
    const attempt = { at: startedAt, ...(status !== undefined ? { status } : {}), ...(error ? { error } : {}), durationMs: Date.now() - startedAt.getTime() };
    const delivered = !error;
    await models.WebhookDelivery.updateOne(
      { _id: deliveryId },
      {
        $inc: { attempts: 1 },
        $push: { lastAttempts: { $each: [attempt], $slice: -KEEP_ATTEMPTS } },
        $set: { ...(status !== undefined ? { lastStatus: status } : {}), ...(delivered ? { status: 'delivered', deliveredAt: new Date() } : { lastError: error }) },
      },
    );
    if (delivered) return { outcome: 'delivered', status: status! };

    const lastAttempt = final || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (lastAttempt) {
      await deadLetterDelivery(deps, { jobId: job.id!, delivery: { ...delivery, attempts: delivery.attempts + 1 }, url: subscription.url, status, error: error! });
      throw new UnrecoverableError(error);
    }
    // The URL and status only: the secret and the body stay out of the logs.
    deps.logger.warn({ jobId: job.id, webhookId: event.webhookId, subscriptionId: String(subscription._id), status, attempt: job.attemptsMade + 1 }, `webhook delivery failed: ${error}`);
    throw new DeliveryFailed(error);
  };
}

async function deadLetterDelivery(
  deps: DeliveryDeps,
  input: { jobId: string; delivery: { _id: Types.ObjectId; subscriptionId: Types.ObjectId; webhookId: string; type: string; attempts: number }; url: string; status?: number; error: string },
): Promise<void> {
  const { delivery } = input;
  await deps.models.WebhookDelivery.updateOne({ _id: delivery._id, status: 'pending' }, { $set: { status: 'dead_lettered', finishedReason: input.error } });
  await keepDeadLetter<WebhookDeadLetter>(deps.models.WebhookDeadLetter, {
    jobId: input.jobId,
    deliveryId: delivery._id,
    subscriptionId: delivery.subscriptionId,
    webhookId: delivery.webhookId,
    type: delivery.type,
    url: input.url,
    attempts: delivery.attempts,
    lastStatus: input.status,
    lastError: input.error,
    at: new Date(),
  });
  await recordAudit(deps.models, {
    action: 'webhook.delivery_dead_lettered',
    actor: { type: 'system' },
    eventKey: `webhook-dead-letter:${input.jobId}`,
    details: { subscriptionId: String(delivery.subscriptionId), webhookId: delivery.webhookId, type: delivery.type, url: input.url, attempts: delivery.attempts, lastStatus: input.status, error: input.error },
  });
  // The alert: operators page on error-level logs.
  deps.logger.error({ alert: 'webhook_delivery_dead_lettered', jobId: input.jobId, webhookId: delivery.webhookId, subscriptionId: String(delivery.subscriptionId), status: input.status }, input.error);
}

// ---- Dead letters ----

export async function listWebhookDeadLetters(models: Models, options: { limit: number; before?: Date }) {
  return listDeadLettersOf<WebhookDeadLetter>(models.WebhookDeadLetter, options);
}

export class WebhookReplayRefused extends Error {
  constructor(
    message: string,
    readonly code: 'dead_letter_not_found' | 'webhook_subscription_not_found',
  ) {
    super(message);
    this.name = 'WebhookReplayRefused';
  }
}

/**
 * Replays a dead-lettered delivery: the delivery is pending again and a new job (`<job id>-replay-<n>`)
 * sends it with the same webhook-id, so a receiver that did get it once can tell. Audited.
 */
export async function replayWebhookDeadLetter(models: Models, queue: Queue<WebhookDeliveryJob>, settings: Pick<WebhookSettings, 'attempts' | 'backoffMs'>, jobId: string, actor: Actor) {
  const existing = await models.WebhookDeadLetter.findOne({ jobId }, { subscriptionId: 1 }).lean();
  if (!existing) throw new WebhookReplayRefused(`There is no webhook dead letter with job id ${jobId}.`, 'dead_letter_not_found');
  if (!(await models.WebhookSubscription.exists({ _id: existing.subscriptionId }))) {
    throw new WebhookReplayRefused(`The subscription of dead letter ${jobId} was deleted.`, 'webhook_subscription_not_found');
  }
  const claimed = await claimReplay<WebhookDeadLetter>(models.WebhookDeadLetter, jobId);
  if (!claimed) throw new WebhookReplayRefused(`There is no webhook dead letter with job id ${jobId}.`, 'dead_letter_not_found');
  const { letter, replayJobId } = claimed;
  await models.WebhookDelivery.updateOne({ _id: letter.deliveryId }, { $set: { status: 'pending', jobId: replayJobId, enqueuedAt: new Date() }, $unset: { finishedReason: '' } });
  await queue.add(letter.type, { deliveryId: String(letter.deliveryId) }, { ...webhookDeliveryJobOptions(settings), jobId: replayJobId });
  await markReplayed<WebhookDeadLetter>(models.WebhookDeadLetter, jobId, replayJobId);
  await recordAudit(models, { action: 'webhook.dead_letter_replayed', actor, details: { jobId, replayJobId, subscriptionId: String(letter.subscriptionId), webhookId: letter.webhookId, type: letter.type } });
  return { jobId, replayJobId, webhookId: letter.webhookId, type: letter.type, subscriptionId: String(letter.subscriptionId) };
}

/**
 * Outbound webhook subscriptions, for Administrators: `/v1/webhook-subscriptions` (create → the
 * signing secret once, list, read, update, delete, rotate the secret, recent deliveries), and the
 * deliveries that failed every attempt: `GET /v1/webhook-dead-letters` and
 * `POST /v1/webhook-dead-letters/:jobId/replay`, the HR intake's dead-letter mechanism.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LIFECYCLE_EVENT_TYPES } from '../../domain/lifecycle-events';
import { DELIVERY_STATUSES } from '../../db/models/webhook';
import { NotFoundError, ServiceUnavailableError } from '../../errors';
import { createQueue, QUEUE_NAMES } from '../../jobs/queues';
import { listWebhookDeadLetters, replayWebhookDeadLetter, WebhookReplayRefused, type WebhookDeliveryJob } from '../../jobs/webhooks';
import {
  createSubscription,
  deleteSubscription,
  getSubscription,
  listSubscriptionDeliveries,
  listSubscriptions,
  rotateSubscriptionSecret,
  updateSubscription,
  webhookProtectionFrom,
} from '../../services/webhook-subscriptions';
import { actorOf } from '../auth';
import type { AppDeps } from '../deps';
import { AUTH_ERRORS, errorResponses, freeText, idParams, intQuery } from '../schemas/common';
import { createGuard } from './guards';

const TAGS = ['webhooks'];
const eventTypes = z.array(z.enum(LIFECYCLE_EVENT_TYPES)).min(1).max(LIFECYCLE_EVENT_TYPES.length).describe('The lifecycle events to receive');
const url = z.string().min(8).max(2048).describe('Where events are POSTed: https (plain http only to a loopback host outside production), on a public address unless WEBHOOK_ALLOWED_PRIVATE_NETWORKS lists it (422 `private_webhook_receiver`)');

const subscriptionSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().optional(),
  enabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  secretRotatedAt: z.string().optional(),
});
const withSecret = subscriptionSchema.extend({ secret: z.string().describe('The `whsec_` signing secret: shown this once') });

const deliverySchema = z.object({
  id: z.string(),
  webhookId: z.string(),
  type: z.string(),
  status: z.string(),
  attempts: z.number().int(),
  lastStatus: z.number().int().optional(),
  lastError: z.string().optional(),
  createdAt: z.string(),
  deliveredAt: z.string().optional(),
  recentAttempts: z.array(z.object({ at: z.string(), status: z.number().int().optional(), error: z.string().optional(), durationMs: z.number().optional() })),
});

const deadLetterSchema = z.object({
  jobId: z.string(),
  subscriptionId: z.string(),
  webhookId: z.string(),
  type: z.string(),
  url: z.string(),
  attempts: z.number().int(),
  lastStatus: z.number().int().optional(),
  lastError: z.string().optional(),
  at: z.string(),
  replays: z.number().int(),
  replayedAt: z.string().optional(),
  replayJobId: z.string().optional(),
});

export function webhookSubscriptionRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { models, config } = deps;
  const production = config.NODE_ENV === 'production';
  const protection = webhookProtectionFrom(config);
  const settings = { attempts: config.WEBHOOK_ATTEMPTS, backoffMs: config.WEBHOOK_BACKOFF };
  return async (app) => {
    const guard = createGuard(deps);
    const manage = guard('webhooks:manage');
    const deliveryQueue = createQueue<WebhookDeliveryJob>(QUEUE_NAMES.webhookDelivery, { connection: deps.redis, prefix: config.REDIS_PREFIX });
    deliveryQueue.on('error', () => undefined);
    app.addHook('onClose', async () => deliveryQueue.close().catch(() => undefined));

    app.post(
      '/v1/webhook-subscriptions',
      {
        onRequest: manage,
        schema: {
          tags: TAGS,
          summary: 'Subscribe a platform service to lifecycle events; the signing secret is returned once',
          body: z.strictObject({ url, events: eventTypes, description: freeText(200).optional(), enabled: z.boolean().optional() }),
          response: { 201: withSecret, ...errorResponses(...AUTH_ERRORS, 422, 503) },
        },
      },
      async (request, reply) => {
        reply.status(201);
        return createSubscription(models, request.body, actorOf(request), { production, protection });
      },
    );

    app.get(
      '/v1/webhook-subscriptions',
      { onRequest: manage, schema: { tags: TAGS, summary: 'Webhook subscriptions, newest first (never their secrets)', response: { 200: z.object({ subscriptions: z.array(subscriptionSchema) }), ...errorResponses(401, 403) } } },
      async () => ({ subscriptions: await listSubscriptions(models) }),
    );

    app.get(
      '/v1/webhook-subscriptions/:id',
      { onRequest: manage, schema: { tags: TAGS, summary: 'One webhook subscription (never its secret)', params: idParams, response: { 200: subscriptionSchema, ...errorResponses(...AUTH_ERRORS, 404) } } },
      async (request) => getSubscription(models, request.params.id),
    );

    app.patch(
      '/v1/webhook-subscriptions/:id',
      {
        onRequest: manage,
        schema: {
          tags: TAGS,
          summary: 'Change a subscription: enable or disable it, its events, its URL or description (a disabled subscription is sent nothing)',
          params: idParams,
          body: z
            .strictObject({ url: url.optional(), events: eventTypes.optional(), description: freeText(200).optional(), enabled: z.boolean().optional() })
            .refine((b) => Object.keys(b).length > 0, 'name at least one field to change'),
          response: { 200: subscriptionSchema, ...errorResponses(...AUTH_ERRORS, 404, 422) },
        },
      },
      async (request) => updateSubscription(models, request.params.id, request.body, actorOf(request), { production, protection }),
    );

    app.delete(
      '/v1/webhook-subscriptions/:id',
      { onRequest: manage, schema: { tags: TAGS, summary: 'Delete a subscription; its pending deliveries are cancelled', params: idParams, response: { 204: z.null().describe('Deleted'), ...errorResponses(...AUTH_ERRORS, 404) } } },
      async (request, reply) => {
        await deleteSubscription(models, request.params.id, actorOf(request));
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/v1/webhook-subscriptions/:id/rotate-secret',
      { onRequest: manage, schema: { tags: TAGS, summary: 'A new signing secret, returned once; the old one stops signing at once', params: idParams, response: { 200: withSecret, ...errorResponses(...AUTH_ERRORS, 404, 503) } } },
      async (request) => rotateSubscriptionSecret(models, request.params.id, actorOf(request), protection),
    );

    app.get(
      '/v1/webhook-subscriptions/:id/deliveries',
      {
        onRequest: manage,
        schema: {
          tags: TAGS,
          summary: "A subscription's recent deliveries, newest first, with their latest attempts and response codes",
          params: idParams,
          querystring: z.strictObject({ limit: intQuery(1, 200, 50), status: z.enum(DELIVERY_STATUSES).optional() }),
          response: { 200: z.object({ deliveries: z.array(deliverySchema) }), ...errorResponses(...AUTH_ERRORS, 404) },
        },
      },
      async (request) => ({ deliveries: await listSubscriptionDeliveries(models, request.params.id, request.query) }),
    );

    app.get(
      '/v1/webhook-dead-letters',
      {
        onRequest: manage,
        schema: {
          tags: TAGS,
          summary: 'Webhook deliveries that failed every attempt, newest first',
          querystring: z.strictObject({ limit: intQuery(1, 500, 100), before: z.iso.datetime().optional() }),
          response: { 200: z.object({ deadLetters: z.array(deadLetterSchema) }), ...errorResponses(...AUTH_ERRORS) },
        },
      },
      async (request) => {
        const items = await listWebhookDeadLetters(models, { limit: request.query.limit, before: request.query.before ? new Date(request.query.before) : undefined });
        return {
          deadLetters: items.map((d) => ({
            jobId: d.jobId,
            subscriptionId: String(d.subscriptionId),
            webhookId: d.webhookId,
            type: d.type,
            url: d.url,
            attempts: d.attempts,
            ...(d.lastStatus != null ? { lastStatus: d.lastStatus } : {}),
            ...(d.lastError ? { lastError: d.lastError } : {}),
            at: d.at.toISOString(),
            replays: d.replays ?? 0,
            ...(d.replayedAt ? { replayedAt: d.replayedAt.toISOString() } : {}),
            ...(d.replayJobId ? { replayJobId: d.replayJobId } : {}),
          })),
        };
      },
    );

    app.post(
      '/v1/webhook-dead-letters/:jobId/replay',
      {
        onRequest: manage,
        schema: {
          tags: TAGS,
          summary: 'Send a dead-lettered delivery again (same webhook-id) under a new job id; 202 once it is queued',
          params: z.strictObject({ jobId: z.string().min(1).max(200).regex(/^[A-Za-z0-9_-]+$/, 'must be the jobId of a dead letter') }),
          response: { 202: z.object({ jobId: z.string(), replayJobId: z.string(), webhookId: z.string(), type: z.string(), subscriptionId: z.string() }), ...errorResponses(...AUTH_ERRORS, 404, 503) },
        },
      },
      async (request, reply) => {
        try {
          const replayed = await replayWebhookDeadLetter(models, deliveryQueue, settings, request.params.jobId, actorOf(request));
          return reply.status(202).send(replayed);
        } catch (err) {
          if (err instanceof WebhookReplayRefused) throw new NotFoundError(err.message, err.code);
          if ((err as Error).message?.includes('Connection is closed')) throw new ServiceUnavailableError('The delivery could not be queued again; retry later.', 'queue_unavailable');
          throw err;
        }
      },
    );
  };
}

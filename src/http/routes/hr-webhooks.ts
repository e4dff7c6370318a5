/**
 * HR webhooks: `POST /webhooks/hr/:provider` authenticates the delivery against the provider's
 * secret, maps it to generic HR events and answers 202 only once they are stored in the BullMQ
 * intake queue. Redis down means 503 so the HR system retries; nothing is acknowledged that was
 * not stored. Also `GET /v1/hr/dead-letters` for Administrators.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError, ServiceUnavailableError } from '../../errors';
import { isHrProvider } from '../../hr/events';
import { listDeadLetters } from '../../hr/dead-letters';
import { HR_PROVIDER_ADAPTERS } from '../../hr/providers';
import { QueueUnavailableError } from '../../jobs/hr-intake-queue';
import type { AppDeps } from '../deps';
import { errorResponses, intQuery } from '../schemas/common';
import { createGuard } from './guards';

const deadLettersSchema = z.object({
  deadLetters: z.array(
    z.object({
      jobId: z.string(),
      provider: z.string(),
      eventId: z.string(),
      type: z.string(),
      employee: z.unknown().optional(),
      reason: z.string(),
      message: z.string().optional(),
      receivedAt: z.string().optional(),
      at: z.string(),
    }),
  ),
});

export function hrWebhookRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    // Signatures cover the exact bytes sent, so this plugin keeps the raw body and parses it itself.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    app.post(
      '/webhooks/hr/:provider',
      {
        schema: {
          tags: ['hr'],
          summary: 'Receive an HR event (generic, bamboohr or personio); 202 once it is queued',
          security: [],
          params: z.object({ provider: z.string().max(40) }),
          response: {
            202: z.object({ accepted: z.number().int(), events: z.array(z.object({ eventId: z.string(), type: z.string(), jobId: z.string().optional() })) }),
            // 400 unreadable event, 401 bad or missing signature, 404 unknown provider, 503 provider not configured or queue down.
            ...errorResponses(400, 401, 404, 413, 414, 415, 503),
          },
        },
      },
      async (request, reply) => {
        const { provider } = request.params;
        if (!isHrProvider(provider)) throw new NotFoundError(`There is no HR provider "${provider}"; use generic, bamboohr or personio.`, 'unknown_hr_provider');
        const adapter = HR_PROVIDER_ADAPTERS[provider];
        const secret = adapter.secret(deps.config);
        if (!secret) throw new ServiceUnavailableError(`The ${provider} HR provider is not configured on this server.`, 'hr_provider_not_configured');
        const delivery = { headers: request.headers, rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0), now: Date.now() };
        adapter.authenticate(delivery, secret);
        const events = adapter.parse(delivery);
        let jobIds: string[];
        try {
          jobIds = await deps.hrIntake.enqueue(provider, events);
        } catch (err) {
          if (err instanceof QueueUnavailableError) {
            request.log.warn({ err: err.message, provider }, 'hr event refused: intake queue unavailable');
            throw new ServiceUnavailableError('The event could not be stored; retry later.', 'queue_unavailable');
          }
          throw err;
        }
        return reply.status(202).send({ accepted: events.length, events: events.map((e, i) => ({ eventId: e.eventId, type: e.type, jobId: jobIds[i] })) });
      },
    );

    const guard = createGuard(deps);
    app.get(
      '/v1/hr/dead-letters',
      {
        onRequest: guard('processes:start', 'processes:act'),
        schema: {
          tags: ['hr'],
          summary: 'HR events that could not be applied (unknown employee or manager, refused start)',
          querystring: z.strictObject({ limit: intQuery(1, 500, 100), before: z.iso.datetime().optional() }),
          response: { 200: deadLettersSchema },
        },
      },
      async (request) => {
        const items = await listDeadLetters(deps.models, { limit: request.query.limit, before: request.query.before ? new Date(request.query.before) : undefined });
        return {
          deadLetters: items.map((d) => ({
            jobId: d.jobId,
            provider: d.provider,
            eventId: d.eventId,
            type: d.eventType,
            employee: d.employee,
            reason: d.reason,
            message: d.message,
            receivedAt: d.receivedAt?.toISOString(),
            at: d.at.toISOString(),
          })),
        };
      },
    );
  };
}

/**
 * HR webhooks: `POST /webhooks/hr/:provider` authenticates the delivery against the provider's
 * secret, maps it to generic HR events and answers 202 only once they are stored in the BullMQ
 * intake queue. Redis down means 503 so the HR system retries; nothing is acknowledged that was
 * not stored. (The dead letters' routes are in hr-dead-letters.ts: this plugin keeps raw bodies.)
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError, ServiceUnavailableError } from '../../errors';
import { isHrProvider } from '../../hr/events';
import { HR_PROVIDER_ADAPTERS } from '../../hr/providers';
import { QueueUnavailableError } from '../../jobs/hr-intake-queue';
import type { AppDeps } from '../deps';
import { errorResponses } from '../schemas/common';

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
            // 400 unreadable event, 401 bad or missing signature, 404 unknown provider, 429 rate limit, 503 provider not configured or queue down.
            ...errorResponses(400, 401, 404, 413, 414, 415, 429, 503),
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
  };
}

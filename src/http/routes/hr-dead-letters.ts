/**
 * The HR events the intake could not apply, for Administrators: `GET /v1/hr/dead-letters`, and
 * `POST /v1/hr/dead-letters/:jobId/replay`, which puts the stored event back into the intake the
 * webhooks use (under a new job id), audited.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError, ServiceUnavailableError } from '../../errors';
import { claimDeadLetterReplay, listDeadLetters, markDeadLetterReplayed } from '../../hr/dead-letters';
import { QueueUnavailableError } from '../../jobs/hr-intake-queue';
import { recordAudit } from '../../services/audit';
import { actorOf } from '../auth';
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
      replays: z.number().int(),
      replayedAt: z.string().optional(),
      replayJobId: z.string().nullish(),
    }),
  ),
});

const replayedSchema = z.object({ jobId: z.string(), replayJobId: z.string(), provider: z.string(), eventId: z.string(), type: z.string() });

export function hrDeadLetterRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
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
            replays: d.replays ?? 0,
            replayedAt: d.replayedAt?.toISOString(),
            replayJobId: d.replayJobId,
          })),
        };
      },
    );

    app.post(
      '/v1/hr/dead-letters/:jobId/replay',
      {
        onRequest: guard('processes:start', 'processes:act'),
        schema: {
          tags: ['hr'],
          summary: 'Put a dead-lettered HR event back into the intake under a new job id (after its cause is fixed); 202 once it is queued',
          params: z.strictObject({ jobId: z.string().min(1).max(200).regex(/^[A-Za-z0-9_-]+$/, 'must be the jobId of a dead letter') }),
          response: { 202: replayedSchema, ...errorResponses(404) },
        },
      },
      async (request, reply) => {
        const { jobId } = request.params;
        const claimed = await claimDeadLetterReplay(deps.models, jobId);
        if (!claimed) throw new NotFoundError(`There is no dead letter with job id ${jobId}.`, 'dead_letter_not_found');
        let replayJobId: string;
        try {
          replayJobId = await deps.hrIntake.replay(claimed.job, claimed.replayJobId);
        } catch (err) {
          if (err instanceof QueueUnavailableError) throw new ServiceUnavailableError('The event could not be queued again; retry later.', 'queue_unavailable');
          throw err;
        }
        await markDeadLetterReplayed(deps.models, jobId, replayJobId);
        const { event, provider } = claimed.job;
        await recordAudit(deps.models, {
          action: 'hr.dead_letter_replayed',
          actor: actorOf(request),
          target: event.employee.email ? { email: event.employee.email } : undefined,
          details: { jobId, replayJobId, provider, eventId: event.eventId, type: event.type },
        });
        return reply.status(202).send({ jobId, replayJobId, provider, eventId: event.eventId, type: event.type });
      },
    );
  };
}

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../deps';

const PROBE_TIMEOUT_MS = 2_000;

const checkSchema = z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() });
const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  checks: z.object({ mongodb: checkSchema, redis: checkSchema, temporal: checkSchema }),
});

/** Liveness and readiness in one: 200 when every dependency answers, else 503 with which one failed. */
export function healthRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/healthz',
      {
        schema: {
          tags: ['operations'],
          summary: 'Health of the API and of the servers it depends on',
          security: [],
          response: { 200: healthSchema, 503: healthSchema },
        },
      },
      async (_request, reply) => {
        const [mongodb, redis, temporal] = await Promise.all([
          probe(async () => {
            await deps.conn.db!.admin().command({ ping: 1 });
          }),
          probe(async () => {
            await deps.redis.ping();
          }),
          probe(async () => {
            await deps.temporal.connection.workflowService.getSystemInfo({});
          }),
        ]);
        const ok = mongodb.ok && redis.ok && temporal.ok;
        return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', checks: { mongodb, redis, temporal } });
      },
    );
  };
}

async function probe(fn: () => Promise<void>): Promise<z.infer<typeof checkSchema>> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

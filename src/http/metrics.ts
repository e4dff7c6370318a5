/**
 * HTTP metrics and the API's scrape endpoint. Every answered request counts once under its
 * route pattern (`/v1/users/:idOrEmail`, never the URL with its ids or tokens; `(unmatched)` for
 * a URL no route serves) and its status, with its duration.
 *
 * `GET /metrics` serves the process's metrics to Prometheus. The API also faces the internet (HR
 * webhooks, invitation links), so the endpoint is not open: it takes a bearer token of its own,
 * METRICS_TOKEN, compared in constant time (Prometheus: `authorization: { credentials: … }`), and
 * answers 503 `metrics_not_configured` while none is set. A token of its own rather than an
 * Administrator's API token, so the scraper holds nothing that can change data.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServiceUnavailableError, UnauthorizedError } from '../errors';
import { httpRequestDuration, httpRequests, METRICS_CONTENT_TYPE, renderMetrics } from '../metrics/metrics';
import { constantTimeEqual } from '../security/secrets';
import { bearerToken } from './auth';
import type { AppDeps } from './deps';

export const METRICS_PATH = '/metrics';

/** The route pattern a request matched, for labels. */
function routeLabel(request: FastifyRequest): string {
  return request.routeOptions.url ?? '(unmatched)';
}

/** Counts every answered request by route pattern and status, with its duration. */
export function installHttpMetrics(app: FastifyInstance): void {
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const labels = { method: request.method, route: routeLabel(request), status: String(reply.statusCode) };
    httpRequests.inc(labels);
    httpRequestDuration.observe(labels, reply.elapsedTime / 1000);
  });
}

/** `GET /metrics` with the scrape token, checked before the request is validated. */
export function metricsRoute(deps: Pick<AppDeps, 'config'>) {
  const checkToken = async (request: FastifyRequest): Promise<void> => {
    const expected = deps.config.METRICS_TOKEN;
    if (!expected) throw new ServiceUnavailableError('Metrics are off: set METRICS_TOKEN to serve them.', 'metrics_not_configured');
    const presented = bearerToken(request);
    if (!presented) throw new UnauthorizedError('Send the metrics token as "Authorization: Bearer <token>".', 'missing_token');
    if (!constantTimeEqual(presented, expected)) throw new UnauthorizedError('The metrics token is not valid.', 'invalid_token');
  };
  return async (app: FastifyInstance) => {
    app.get(METRICS_PATH, { schema: { hide: true, security: [] }, onRequest: checkToken }, async (_request, reply) =>
      reply.header('content-type', METRICS_CONTENT_TYPE).header('cache-control', 'no-store').send(await renderMetrics()),
    );
  };
}

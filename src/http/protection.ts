/**
 * What protects the API from its callers, installed once before any route:
 *
 * - **Rate limits** per client address (`request.ip`: behind a proxy in production, from
 *   X-Forwarded-For; IPv6 addresses grouped by /64) on the routes that take credentials from
 *   anyone: invitation links (the API route and the page share one budget), the console's sign-in
 *   (asking for a link and using it; it sends mail), HR webhooks and SCIM;
 *   and on **failed authentication**: an address whose requests got RATE_LIMIT_AUTH_FAILURES
 *   answers 401 within the window gets 429 on every authenticated route (and for any request
 *   bearing a token) until the window ends. Counted in Redis (@fastify/rate-limit's store) under
 *   the deployment's REDIS_PREFIX, so every API process shares the counts; while Redis cannot
 *   answer, requests pass (the limits fail open rather than take the API down with Redis).
 *   A refusal is 429 with Retry-After and the error envelope (`rate_limited`; SCIM routes in
 *   SCIM's error format, console routes as a console page).
 * - **Security headers** (@fastify/helmet) on every answer: a Content-Security-Policy that lets a
 *   JSON answer load nothing, no framing, no sniffing, HSTS. Server-rendered pages set their own
 *   policy with their nonce (pages/html.ts), which replaces this one.
 * - **Load shedding**: while the event loop's delay (99th percentile over the last half second,
 *   `monitorEventLoopDelay`) exceeds HTTP_SHED_EVENT_LOOP_DELAY_MS, requests get 503 `overloaded`
 *   with Retry-After before any work is done; /healthz and /metrics are still answered.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import helmet from '@fastify/helmet';
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config/env';
import { ServiceUnavailableError, TooManyRequestsError } from '../errors';
import { httpRefused } from '../metrics/metrics';
import { METRICS_PATH } from './metrics';

type LimitName = 'invitations' | 'console_sign_in' | 'hr_webhooks' | 'scim' | 'auth_failures';

/** Which per-address budget a route pattern spends, if any. */
function limitOf(route: string): Exclude<LimitName, 'auth_failures'> | undefined {
  if (route === '/v1/invitations/:token/accept' || route === '/invitations/:token/accept') return 'invitations';
  if (route === '/console/sign-in' || route === '/console/sign-in/:token') return 'console_sign_in';
  if (route.startsWith('/webhooks/')) return 'hr_webhooks';
  if (route === '/scim/v2' || route.startsWith('/scim/v2/')) return 'scim';
  return undefined;
}

/** Always answered, even while shedding load: what tells the operator and the load balancer how the process is. */
const OPERATIONS_ROUTES = new Set(['/healthz', METRICS_PATH]);

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;
type LimitState = Exclude<Awaited<ReturnType<Limiter>>, { isAllowed: true }>;

function limitHeaders(reply: FastifyReply, state: LimitState): void {
  reply.header('x-ratelimit-limit', state.max).header('x-ratelimit-remaining', state.remaining).header('x-ratelimit-reset', state.ttlInSeconds);
}

function refuse(reply: FastifyReply, limit: LimitName, state: LimitState, message: string): never {
  httpRefused.inc({ reason: 'rate_limit', limit });
  limitHeaders(reply, state);
  reply.header('retry-after', Math.max(1, state.ttlInSeconds));
  throw new TooManyRequestsError(message);
}

/**
 * Installs rate limits, security headers and load shedding. `redis` is a connection that fails
 * fast (no offline queue); without one the counts are kept in this process only.
 */
export async function installProtection(app: FastifyInstance, config: Config, redis: Redis | undefined): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
    // Pages send no referrer themselves (pages/html.ts); for JSON nothing is lost either.
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
  });

  installLoadShedding(app, config.HTTP_SHED_EVENT_LOOP_DELAY_MS);

  await app.register(rateLimit, {
    global: false,
    redis,
    nameSpace: `${config.REDIS_PREFIX}:rate-limit:`,
    skipOnError: true,
  });
  const timeWindow = config.RATE_LIMIT_WINDOW;
  const address = (request: FastifyRequest) => normalizeIP(request.ip);
  const limiter = (name: LimitName, max: number): Limiter | undefined =>
    max > 0 ? app.createRateLimit({ max, timeWindow, keyGenerator: (request) => `${name}:${address(request)}` }) : undefined;
  const routeLimiters: Record<Exclude<LimitName, 'auth_failures'>, Limiter | undefined> = {
    invitations: limiter('invitations', config.RATE_LIMIT_INVITATIONS),
    console_sign_in: limiter('console_sign_in', config.RATE_LIMIT_CONSOLE_SIGN_IN),
    hr_webhooks: limiter('hr_webhooks', config.RATE_LIMIT_HR_WEBHOOKS),
    scim: limiter('scim', config.RATE_LIMIT_SCIM),
  };
  const authFailures = limiter('auth_failures', config.RATE_LIMIT_AUTH_FAILURES);

  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (!route || route === '/healthz') return;
    const name = limitOf(route);
    const routeLimiter = name ? routeLimiters[name] : undefined;
    if (name && routeLimiter) {
      const state = await routeLimiter(request);
      if (!state.isAllowed) {
        if (state.isExceeded) refuse(reply, name, state, `Too many requests from this address; retry in ${Math.max(1, state.ttlInSeconds)} s.`);
        limitHeaders(reply, state);
      }
    }
    // An address that keeps failing authentication is refused wherever it would authenticate.
    const authenticates = request.routeOptions.config.access !== 'public' || request.headers.authorization !== undefined;
    if (authFailures && authenticates) {
      const state = await authFailures(request, { increment: false });
      if (!state.isAllowed && state.remaining === 0 && state.ttl > 0) {
        refuse(reply, 'auth_failures', state, `Too many failed authentications from this address; retry in ${Math.max(1, state.ttlInSeconds)} s.`);
      }
    }
  });

  if (authFailures) {
    // Counted before the answer leaves, so the next attempt already sees it.
    app.addHook('onSend', async (request, reply, payload) => {
      if (reply.statusCode === 401 && request.routeOptions.url) await authFailures(request);
      return payload;
    });
  }
}

/** The event-loop delay this process sees, sampled every half second. */
function installLoadShedding(app: FastifyInstance, maxDelayMs: number): void {
  if (maxDelayMs <= 0) return;
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let delayMs = 0;
  const sampler = setInterval(() => {
    delayMs = histogram.count > 0 ? histogram.percentile(99) / 1e6 : 0;
    histogram.reset();
  }, 500);
  sampler.unref();
  app.addHook('onClose', async () => {
    clearInterval(sampler);
    histogram.disable();
  });
  app.addHook('onRequest', async (request, reply) => {
    if (delayMs <= maxDelayMs) return;
    const route = request.routeOptions.url;
    if (route && OPERATIONS_ROUTES.has(route)) return;
    httpRefused.inc({ reason: 'overloaded', limit: '' });
    reply.header('retry-after', 1);
    throw new ServiceUnavailableError('The server is overloaded; retry in a second.', 'overloaded');
  });
}

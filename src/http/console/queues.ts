/**
 * The queue dashboard at /console/queues: Bull Board over every BullMQ queue tenure uses
 * (src/jobs/queues.ts), read-only, for Administrators. It sits inside the console plugin, so the
 * console's guard (session.ts) asks for a session first (a browser without one is sent to the
 * sign-in page, a post gets 401); then the role matrix's `queues:read` (Administrators only) is
 * checked, before anything is read; every post also needs the console's CSRF token. Bull Board's
 * queues are in its read-only mode: retry, clean, promote, pause, add or remove answer 405 and
 * change nothing, and its page offers no such button.
 *
 * Bull Board speaks its own JSON API to its page (src/http/route-rules.ts leaves it its own
 * input); the errors this code raises still use the API's error envelope. Its page needs its own
 * scripts, styles and images, so its HTML carries a policy of its own: scripts and requests to
 * this origin only, inline styles allowed (its markup uses style attributes), no framing, nothing
 * from anywhere else (its web-font link stays blocked; the page uses its fallback fonts).
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Queue } from 'bullmq';
import type { FastifyError, FastifyInstance } from 'fastify';
import { can } from '../../domain/roles';
import { AppError, ForbiddenError, UnauthorizedError } from '../../errors';
import { QUEUE_NAMES } from '../../jobs/queues';
import type { AppDeps } from '../deps';
import { html } from '../pages/html';
import { sendConsolePage } from './session';

/** Where the dashboard is mounted, under the console. */
const QUEUES_PATH = '/console/queues';

/** The dashboard page's Content-Security-Policy (every other console page keeps the nonce policy). */
export const QUEUES_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

type ErrorEnvelope = { error: { code: string; message: string } };

/** The dashboard plugin; registered by the console plugin with the `/queues` prefix. */
export function queueDashboardRoutes(deps: AppDeps) {
  const logger = deps.logger.child({ component: 'queue-dashboard' });
  return async (app: FastifyInstance) => {
    // Queues only read here: on the process's shared connection, closed with the app.
    const queues = Object.values(QUEUE_NAMES).map((name) => new Queue(name, { connection: deps.redis, prefix: deps.config.REDIS_PREFIX }));
    app.addHook('onClose', async () => {
      await Promise.all(queues.map((q) => q.close()));
    });

    const board = new FastifyAdapter();
    board.setBasePath(QUEUES_PATH);
    createBullBoard({
      queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true, allowRetries: false })),
      serverAdapter: board,
      options: { uiConfig: { boardTitle: 'tenure queues', hideDocsLink: true, miscLinks: [{ text: 'Console', url: '/console/users' }] } },
    });
    // Errors in the API's envelope; a 5xx's message stays in the log.
    board.setErrorHandler((err: Error) => {
      const envelope = (code: string, message: string): ErrorEnvelope => ({ error: { code, message } });
      if (err instanceof AppError) return { status: err.status as 400, body: envelope(err.code, err.message) };
      const status = (err as FastifyError).statusCode;
      if (status && status >= 400 && status < 500) return { status: status as 400, body: envelope('bad_request', err.message) };
      logger.error({ err }, 'unhandled error on the queue dashboard');
      return { status: 500, body: envelope('internal_error', 'Something went wrong on our side; the error has been logged.') };
    });

    // After the console's guard (a parent hook): Administrators only, before anything is read.
    app.addHook('onRequest', async (request, reply) => {
      if (request.is404) return undefined;
      const session = request.consoleSession;
      if (!session) throw new UnauthorizedError('Sign in to use the console.', 'console_session_required');
      if (can(session.user.siteRole, 'queues:read')) return undefined;
      const refusal = new ForbiddenError('Only Administrators may see the job queues.');
      if (request.url.startsWith(`${QUEUES_PATH}/api/`)) throw refusal;
      return sendConsolePage(request, reply, 403, 'Not allowed', html`<h1>Not allowed</h1><p class="problem" data-code="${refusal.code}">${refusal.message}</p><p><a href="/console/users">Back to users</a></p>`);
    });
    app.addHook('onSend', async (_request, reply, payload) => {
      if (String(reply.getHeader('content-type') ?? '').startsWith('text/html') && reply.statusCode < 400) {
        reply.header('content-security-policy', QUEUES_PAGE_CSP).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      }
      return payload;
    });

    await app.register(board.registerPlugin());
  };
}

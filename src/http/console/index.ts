/**
 * The admin console under /console: server-rendered pages for Administrators, read-only for
 * Security Managers and Auditors (the role matrix decides). To the API's token hook every console
 * route is public (`security: []`, hidden from the OpenAPI document); the console's own guard,
 * registered here, closes every one of them unless a console session is presented (session.ts).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError } from '../../errors';
import { createMailer } from '../../mail/mailer';
import { decodeUtf8 } from '../body-encoding';
import type { AppDeps } from '../deps';
import { answerMethodNotAllowed } from '../method-not-allowed';
import { html, sendPage } from '../pages/html';
import { secureCookies } from './cookies';
import { createConsoleGuard, sendConsolePage } from './session';
import { processesPageRoutes } from './processes-page';
import { queueDashboardRoutes } from './queues';
import { settingsPageRoutes } from './settings-page';
import { signInRoutes } from './sign-in';
import { userActionRoutes } from './user-actions';
import { userDetailRoutes } from './user-detail';
import { usersTableRoutes } from './users-table';

const FORM_BODY_LIMIT = 64 * 1024;

export function consoleRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const secure = secureCookies(deps.config.PUBLIC_BASE_URL);
    // The sign-in mail goes out from the API process; nodemailer connects only when it sends.
    const mailer = createMailer({ smtpUrl: deps.config.SMTP_URL, from: deps.config.MAIL_FROM });
    app.addHook('onClose', async () => mailer.close());

    // Forms post URL-encoded fields, decoded as strict UTF-8 like every body; a repeated field
    // (the rows ticked for a bulk change) becomes a list.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: FORM_BODY_LIMIT }, (_request, body, done) => {
      try {
        const fields: Record<string, string | string[]> = {};
        for (const [key, value] of new URLSearchParams(decodeUtf8(body as Buffer))) {
          const seen = fields[key];
          fields[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
        }
        done(null, fields);
      } catch (err) {
        done(err as Error, undefined);
      }
    });

    const guard = createConsoleGuard(deps.models, secure);
    app.addHook('onRequest', guard.authenticate);
    app.addHook('preValidation', guard.checkCsrf);
    app.setErrorHandler((err: FastifyError, request, reply) => errorPage(err, request, reply));
    app.setNotFoundHandler((request, reply) => {
      // A console page asked for with a method it does not take is 405 with Allow (method-not-allowed.ts).
      const refused = answerMethodNotAllowed(request, reply);
      if (refused) return sendPage(reply, 405, 'Not allowed', html`<h1>Not allowed</h1><p class="problem" data-code="method_not_allowed">${refused.message}</p><p><a href="/console/users">Users</a></p>`);
      return sendPage(reply, 404, 'Not found', html`<h1>Not found</h1><p class="problem" data-code="route_not_found">There is no such console page.</p><p><a href="/console/users">Users</a></p>`);
    });

    await app.register(signInRoutes(deps, mailer, secure));
    await app.register(usersTableRoutes(deps));
    await app.register(userDetailRoutes(deps));
    await app.register(userActionRoutes(deps));
    await app.register(settingsPageRoutes(deps));
    await app.register(processesPageRoutes(deps));
    await app.register(queueDashboardRoutes(deps), { prefix: '/queues' });
  };
}

/** Errors as pages: an AppError's status and sentence, a validation error as 400, anything else 500 (logged). */
function errorPage(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  let status = 500;
  let message = 'Something went wrong on our side; the error has been logged.';
  let code = 'internal_error';
  if (err instanceof AppError) {
    status = err.status;
    message = err.message;
    code = err.code;
  } else if (hasZodFastifySchemaValidationErrors(err)) {
    status = 400;
    code = 'invalid_request';
    const first = err.validation[0];
    const field = first?.instancePath.replace(/^\//, '').replace(/\//g, '.');
    message = `The ${field ? `field "${field}"` : String(err.validationContext ?? 'request')} is not valid: ${first?.message ?? 'invalid value'}.`;
  } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    status = err.statusCode;
    code = 'bad_request';
    message = err.message;
  } else {
    request.log.error({ err }, 'unhandled error');
  }
  const title = status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : status >= 500 ? 'Something went wrong' : 'Cannot do that';
  const body = html`<h1>${title}</h1><p class="problem" data-code="${code}">${message}</p><p><a href="/console/users">Back to users</a></p>`;
  return request.consoleSession ? sendConsolePage(request, reply, status, title, body) : sendPage(reply, status, title, body);
}

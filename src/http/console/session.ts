/**
 * The console's own guard, registered on the console plugin so that every console route is closed
 * unless its holder is signed in (fail closed: only routes marked `consoleOpen`, the sign-in
 * pages, go without a session). On every request it reads the session from the store, so a
 * newer sign-in, a sign-out, a lockout, a deactivation or a role change counts at once, and the
 * browser is sent to the sign-in page with the reason. A route's `consolePermission` is checked
 * against the role matrix before the body is read; every form post carries the CSRF token.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Models } from '../../db/models';
import { can, roleLabel, type Permission } from '../../domain/roles';
import { ForbiddenError } from '../../errors';
import { constantTimeEqual, hashSecret } from '../../security/secrets';
import { resolveConsoleSession, type SessionEnd } from '../../services/console-sign-in';
import type { StoredUser } from '../../services/users';
import { displayName } from '../../services/user-view';
import { html, sendPage, type Html } from '../pages/html';
import { clearCookie, FORM_COOKIE, readCookie, SESSION_COOKIE } from './cookies';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A console route open without a session (the sign-in pages only). */
    consoleOpen?: boolean;
    /** What the console route does beyond reading: the role must be granted this. */
    consolePermission?: Permission;
  }
  interface FastifyRequest {
    consoleSession?: ConsoleSessionContext;
  }
}

interface ConsoleSessionContext {
  user: StoredUser;
  sessionId: string;
  /** The per-session token every form repeats. */
  csrf: string;
}

/** The name of the hidden field that carries the CSRF token. */
export const CSRF_FIELD = '_csrf';

/** The CSRF token of a session: derived from its secret, which only the browser holds (the store keeps a different hash). */
function csrfTokenFor(sessionSecret: string): string {
  return hashSecret(`console-csrf:${sessionSecret}`);
}

/** The sentence the sign-in page shows for each way a session ends. */
export const SESSION_END_SENTENCES: Record<SessionEnd, string> = {
  superseded: 'You were signed out because your account signed in somewhere else: an account has one session at a time.',
  logout: 'You signed out.',
  lockout: 'Your session was ended because your account is locked out.',
  offboarding: 'Your session was ended because your account is being offboarded.',
  deactivated: 'Your session was ended because your account was deactivated.',
  admin: 'An Administrator ended your session.',
  expired: 'Your session expired. Sign in again.',
  role: 'Your session was ended because your role no longer allows the console.',
  unknown: 'Your session is no longer valid. Sign in again.',
};

export function isSessionEnd(value: string | undefined): value is SessionEnd {
  return value !== undefined && Object.hasOwn(SESSION_END_SENTENCES, value);
}

const READ_METHODS = new Set(['GET', 'HEAD']);

export function createConsoleGuard(models: Models, secure: boolean) {
  /** onRequest: the session, then the route's permission; before the body is read. */
  async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (request.is404) return undefined;
    const config = request.routeOptions.config;
    if (config.consoleOpen) return undefined;
    const secret = readCookie(request, SESSION_COOKIE);
    const resolved = secret ? await resolveConsoleSession(models, secret) : undefined;
    if (!resolved?.ok) {
      if (request.headers.cookie?.includes(`${SESSION_COOKIE}=`)) clearCookie(reply, SESSION_COOKIE, secure);
      const reason = resolved?.reason;
      if (READ_METHODS.has(request.method)) return reply.redirect(`/console/sign-in${reason ? `?why=${reason}` : ''}`, 303);
      return sendPage(
        reply,
        401,
        'Sign in again',
        html`<h1>Sign in again</h1><p class="problem" data-code="console_session_required">${reason ? SESSION_END_SENTENCES[reason] : 'Sign in to use the console.'}</p><p><a href="/console/sign-in">Sign in</a></p>`,
      );
    }
    request.consoleSession = { user: resolved.user, sessionId: resolved.sessionId, csrf: csrfTokenFor(secret!) };
    const permission = config.consolePermission;
    if (permission && !can(resolved.user.siteRole, permission)) {
      throw new ForbiddenError(`The ${roleLabel(resolved.user.siteRole)} role may only read here (this needs ${permission}).`);
    }
    return undefined;
  }

  /** preValidation: every form post repeats the token of the session (or, before one exists, of the form cookie). */
  async function checkCsrf(request: FastifyRequest): Promise<void> {
    if (request.is404 || READ_METHODS.has(request.method)) return;
    const expected = request.routeOptions.config.consoleOpen ? readCookie(request, FORM_COOKIE) : request.consoleSession?.csrf;
    const body = request.body;
    const presented = body && typeof body === 'object' ? (body as Record<string, unknown>)[CSRF_FIELD] : undefined;
    if (!expected || typeof presented !== 'string' || !constantTimeEqual(presented, expected)) {
      throw new ForbiddenError('This form was not sent from a current console page (its security token is missing or stale). Reload the page and try again.', 'csrf_failed');
    }
  }

  return { authenticate, checkCsrf };
}

/** The hidden CSRF field of a form on a signed-in page. */
export function csrfField(request: FastifyRequest): Html {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${request.consoleSession?.csrf ?? ''}">`;
}

/** Sends a page of the signed-in console: the navigation bar, who is signed in, sign-out. */
export function sendConsolePage(request: FastifyRequest, reply: FastifyReply, status: number, title: string, body: Html, options: { refreshSeconds?: number } = {}): FastifyReply {
  const session = request.consoleSession;
  const nav = session
    ? html`<nav class="console" aria-label="Console">
<strong>tenure</strong>
<a href="/console/users">Users</a>
${can(session.user.siteRole, 'processes:read') ? html`<a href="/console/processes">Processes</a>` : ''}
${can(session.user.siteRole, 'settings:read') ? html`<a href="/console/settings">Settings</a>` : ''}
${can(session.user.siteRole, 'queues:read') ? html`<a href="/console/queues">Queues</a>` : ''}
<span class="who">${displayName(session.user)} · ${roleLabel(session.user.siteRole)}</span>
<form method="post" action="/console/sign-out">${csrfField(request)}<button type="submit">Sign out</button></form>
</nav>`
    : undefined;
  return sendPage(reply, status, title, body, { wide: true, nav, refreshSeconds: options.refreshSeconds });
}

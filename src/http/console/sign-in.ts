/**
 * The console's only open pages: ask for a sign-in link, open the emailed link and confirm, and
 * sign out. Every address gets the same answer, at once, whether a link is sent or not (the mail
 * goes out after the answer), so the page tells no one which addresses may sign in. The emailed
 * link only shows a button: opening it (as a mail scanner might) does not use it; the button's
 * post does, and opens the session.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { getOrgSettings } from '../../db/models/org-settings';
import { emailAddressProblem, normalizeEmail } from '../../domain/email';
import { AppError } from '../../errors';
import type { Mailer } from '../../mail/mailer';
import { consoleSignInMail } from '../../mail/templates/console-sign-in';
import { generateSecret, hashSecret } from '../../security/secrets';
import { assertMayGainAccess } from '../../services/access';
import { checkSignInLink, CONSOLE_SESSION_LIFETIME_MS, issueSignInLink, redeemSignInLink, signInLinkUrl, signOut, SIGN_IN_LINK_LIFETIME_MS } from '../../services/console-sign-in';
import { displayName } from '../../services/user-view';
import type { AppDeps } from '../deps';
import { html, sendPage, type Html } from '../pages/html';
import { clearCookie, FORM_COOKIE, readCookie, setCookie, SESSION_COOKIE } from './cookies';
import { CSRF_FIELD, isSessionEnd, SESSION_END_SENTENCES } from './session';

/** Sign-in links one address may ask for per window; more are silently not sent. */
const LINKS_PER_WINDOW = 5;
const WINDOW_SECONDS = 15 * 60;

const SENT_SENTENCE = 'If this address may sign in to the console, a sign-in link is on its way. It works once, for 15 minutes.';

const tokenParams = z.strictObject({ token: z.string().regex(/^[A-Za-z0-9_-]{20,128}$/, 'is not a sign-in link') });
const csrf = z.string().max(128);

export function signInRoutes(deps: AppDeps, mailer: Mailer, secure: boolean): FastifyPluginAsyncZod {
  const { models, config, redis } = deps;
  const open = { consoleOpen: true };

  /** The form cookie's value, set when the browser has none, for the page's hidden field. */
  function formToken(request: Parameters<typeof readCookie>[0], reply: Parameters<typeof setCookie>[0]): string {
    const existing = readCookie(request, FORM_COOKIE);
    if (existing) return existing;
    const token = generateSecret(24);
    setCookie(reply, FORM_COOKIE, token, secure);
    return token;
  }

  /** Whether this address may have another link now (a counter per address hash in Redis). */
  async function withinRate(email: string): Promise<boolean> {
    const key = `${config.REDIS_PREFIX}:console-sign-in:${hashSecret(email)}`;
    const count = await redis.incr(key);
    if (count === 1) await redis.expire(key, WINDOW_SECONDS);
    return count <= LINKS_PER_WINDOW;
  }

  return async (app) => {
    app.get(
      '/sign-in',
      { config: open, schema: { hide: true, security: [], querystring: z.strictObject({ why: z.string().max(40).optional() }) } },
      async (request, reply) => {
        const why = request.query.why;
        const notice = isSessionEnd(why) ? html`<p class="notice" data-reason="${why}">${SESSION_END_SENTENCES[why]}</p>` : '';
        return sendPage(reply, 200, 'Sign in', signInForm(formToken(request, reply), notice));
      },
    );

    app.post(
      '/sign-in',
      { config: open, schema: { hide: true, security: [], body: z.strictObject({ [CSRF_FIELD]: csrf, email: z.string().max(320) }) } },
      async (request, reply) => {
        const email = normalizeEmail(request.body.email);
        if (emailAddressProblem(email)) {
          return sendPage(reply, 400, 'Sign in', signInForm(formToken(request, reply), html`<p class="problem">Enter an email address.</p>`));
        }
        // After the answer, so that the page takes as long for every address.
        void (async () => {
          if (!(await withinRate(email))) {
            request.log.warn('console sign-in links asked for too often for one address; none sent');
            return;
          }
          const issued = await issueSignInLink(models, email);
          if (issued) await sendLink(issued.user, issued.token, issued.expiresAt);
        })().catch((err) => request.log.error({ err }, 'could not send a console sign-in link'));
        return sendPage(reply, 200, 'Check your email', html`<h1>Check your email</h1><p class="notice" id="sent">${SENT_SENTENCE}</p><p class="muted"><a href="/console/sign-in">Back</a></p>`);
      },
    );

    app.get('/sign-in/:token', { config: open, schema: { hide: true, security: [], params: tokenParams } }, async (request, reply) => {
      try {
        await checkSignInLink(models, request.params.token);
      } catch (err) {
        return linkRefusal(reply, err);
      }
      return sendPage(
        reply,
        200,
        'Sign in',
        html`<h1>Sign in to the console</h1>
<p>Signing in ends any other session of your account.</p>
<form method="post">
<input type="hidden" name="${CSRF_FIELD}" value="${formToken(request, reply)}">
<button type="submit">Sign in</button>
</form>`,
      );
    });

    app.post(
      '/sign-in/:token',
      { config: open, schema: { hide: true, security: [], params: tokenParams, body: z.strictObject({ [CSRF_FIELD]: csrf }) } },
      async (request, reply) => {
        let session;
        try {
          session = await redeemSignInLink(models, request.params.token, { ip: request.ip, userAgent: request.headers['user-agent']?.slice(0, 300) }, {
            assertMayGainAccess: (user) => assertMayGainAccess(deps, user, 'a console session'),
          });
        } catch (err) {
          return linkRefusal(reply, err);
        }
        clearCookie(reply, FORM_COOKIE, secure);
        setCookie(reply, SESSION_COOKIE, session.secret, secure, Math.floor(CONSOLE_SESSION_LIFETIME_MS / 1000));
        return reply.redirect('/console/users', 303);
      },
    );

    // Signed in (the guard applies): ends the session.
    app.post('/sign-out', { schema: { hide: true, security: [], body: z.strictObject({ [CSRF_FIELD]: csrf }) } }, async (request, reply) => {
      const session = request.consoleSession!;
      await signOut(models, session.user, session.sessionId, request.ip);
      clearCookie(reply, SESSION_COOKIE, secure);
      return reply.redirect('/console/sign-in?why=logout', 303);
    });
  };

  async function sendLink(user: Parameters<typeof displayName>[0], token: string, expiresAt: Date): Promise<void> {
    const settings = await getOrgSettings(models.OrgSettings);
    const mail = consoleSignInMail({ name: displayName(user), organization: settings.name, link: signInLinkUrl(config.PUBLIC_BASE_URL, token), expiresAt });
    await mailer.send({ to: user.email, ...mail });
  }
}

function signInForm(token: string, notice: Html | ''): Html {
  return html`<h1>Sign in to the console</h1>
${notice}
<p>For Administrators, Security Managers and Auditors. We email you a link that signs you in.</p>
<form method="post" action="/console/sign-in">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
<label for="email">Work email</label>
<input type="email" id="email" name="email" required maxlength="320" autocomplete="email">
<button type="submit">Email me a sign-in link</button>
</form>
<p class="muted">The link works once, for ${SIGN_IN_LINK_LIFETIME_MS / 60_000} minutes.</p>`;
}

function linkRefusal(reply: Parameters<typeof sendPage>[0], err: unknown) {
  if (!(err instanceof AppError) || err.status >= 500) throw err;
  return sendPage(
    reply,
    err.status,
    'Cannot sign in',
    html`<h1>Cannot sign in with this link</h1><p class="problem" data-code="${err.code}">${err.message}</p><p><a href="/console/sign-in">Ask for a new link</a></p>`,
  );
}

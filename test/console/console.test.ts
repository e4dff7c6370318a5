/**
 * The admin console over HTTP (app.inject): sign-in by an emailed one-time link, the session
 * cookie and its one-session-per-account rule, CSRF on every form, the role matrix (readers see
 * no action forms and a forged post is refused), every console route closed without a session,
 * and the users table and detail page. Real store, Redis, Temporal and SMTP server.
 */
import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { hashSecret } from '../../src/security/secrets';
import { endAccess } from '../../src/services/access';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createClient, withWorker } from '../helpers/temporal';
import { seedResource, seedUser, type SeededUser } from '../helpers/users';
import { seedOrg, setPolicy } from '../offboarding/fixtures';
import { askForLink, cookiePair, csrfOf, form, linkFromMail, setCookies, signIn } from './console-kit';

let ctx: TestContext;
let client: Client;
let app: App;
let smtp: TestSmtpServer;
let admin: SeededUser;
let manager: SeededUser;
let auditor: SeededUser;

beforeAll(async () => {
  ctx = await createTestContext('console');
  client = await createClient(ctx);
  smtp = await startSmtpServer();
  app = await createTestApp(ctx, client, { SMTP_URL: smtp.url, PUBLIC_BASE_URL: 'http://localhost:3000' });
  admin = await seedUser(ctx.models, { email: 'ada@acme.test', siteRole: 'Administrators', firstName: 'Ada', lastName: 'Admin' });
  manager = await seedUser(ctx.models, { email: 'sam@acme.test', siteRole: 'SecurityManagers', firstName: 'Sam', lastName: 'Secure' });
  auditor = await seedUser(ctx.models, { email: 'aud@acme.test', siteRole: 'Auditors', firstName: 'Audrey', lastName: 'Auditor' });
});

afterAll(async () => {
  await app?.close();
  await smtp?.close();
  await client?.connection.close();
  await ctx?.close();
});

/** Every console route, read from the router: [method, url]. */
function consoleRoutes(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]+)\))?/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack[depth] = (depth ? stack[depth - 1]! : '') + match[2]!;
    stack.length = depth + 1;
    const url = stack[depth]!;
    if (!url.startsWith('/console')) continue;
    for (const method of (match[3] ?? '').split(', ').filter((m) => m && m !== 'HEAD')) out.push([method, url]);
  }
  return out;
}

describe('signing in', () => {
  it('answers every address alike and emails a link only to an active Administrator, Security Manager or Auditor', async () => {
    const plain = await seedUser(ctx.models, { email: 'user@acme.test', siteRole: 'Users' });
    const gone = await seedUser(ctx.models, { email: 'gone@acme.test', siteRole: 'Administrators', status: 'deactivated' });
    const invited = await seedUser(ctx.models, { email: 'invited@acme.test', siteRole: 'Administrators', status: 'pending' });
    const answers: string[] = [];
    for (const email of ['nobody@acme.test', plain.user.email, gone.user.email, invited.user.email]) {
      const { res } = await askForLink(app, email);
      expect(res.statusCode).toBe(200);
      answers.push(/<p class="notice" id="sent">([^<]+)</.exec(res.body)![1]!);
    }
    const { res } = await askForLink(app, ' Sam@ACME.test ');
    answers.push(/<p class="notice" id="sent">([^<]+)</.exec(res.body)![1]!);
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toContain('If this address may sign in');
    await eventually('the Security Manager gets a link', async () => smtp.to(manager.user.email).length === 1);
    for (const email of ['nobody@acme.test', plain.user.email, gone.user.email, invited.user.email]) expect(smtp.to(email)).toEqual([]);
    const mail = smtp.to(manager.user.email)[0]!;
    expect(mail.subject).toMatch(/admin console/);
    expect(mail.body).toContain('http://localhost:3000/console/sign-in/');
    // Input that is no address at all is a 400 that says so, for everyone alike.
    const { res: bad } = await askForLink(app, 'not an address');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Enter an email address.');
  });

  it('stores only the hash of a link, which works once; opening it does not use it; unknown and expired links get their own page', async () => {
    const before = smtp.to(admin.user.email).length;
    await askForLink(app, admin.user.email);
    const path = await linkFromMail(smtp, admin.user.email, before);
    const token = path.split('/').pop()!;
    const stored = await ctx.models.User.db.collection('console_sign_in_links').find({}).toArray();
    expect(JSON.stringify(stored)).not.toContain(token);

    const first = await app.inject({ method: 'GET', url: path });
    const again = await app.inject({ method: 'GET', url: path });
    expect([first.statusCode, again.statusCode]).toEqual([200, 200]);
    expect(first.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(first.headers['referrer-policy']).toBe('no-referrer');
    expect(first.headers['cache-control']).toBe('no-store');
    const formCookie = cookiePair(setCookies(again).get('tenure_console_form')!);
    const use = () => app.inject({ method: 'POST', url: path, ...form(formCookie, { _csrf: csrfOf(again.body) }) });
    expect((await use()).statusCode).toBe(303);
    const reuse = await use();
    expect(reuse.statusCode).toBe(410);
    expect(reuse.body).toContain('data-code="sign_in_link_used"');
    expect(setCookies(reuse).has('tenure_console')).toBe(false);

    expect((await app.inject({ method: 'GET', url: `/console/sign-in/${'x'.repeat(43)}` })).statusCode).toBe(404);
    const before2 = smtp.to(admin.user.email).length;
    await askForLink(app, admin.user.email);
    const stale = await linkFromMail(smtp, admin.user.email, before2);
    await ctx.models.User.db.collection('console_sign_in_links').updateMany({}, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await app.inject({ method: 'POST', url: stale, ...form(formCookie, { _csrf: csrfOf(again.body) }) });
    expect(expired.statusCode).toBe(410);
    expect(expired.body).toContain('data-code="sign_in_link_expired"');
  });

  it('sets the session cookie HttpOnly, SameSite=Strict, Path=/console, and Secure unless the public address is this machine', async () => {
    const before = smtp.to(auditor.user.email).length;
    await askForLink(app, auditor.user.email);
    const path = await linkFromMail(smtp, auditor.user.email, before);
    const page = await app.inject({ method: 'GET', url: path });
    const formCookie = setCookies(page).get('tenure_console_form')!;
    const done = await app.inject({ method: 'POST', url: path, ...form(cookiePair(formCookie), { _csrf: csrfOf(page.body) }) });
    const session = setCookies(done).get('tenure_console')!;
    for (const cookie of [formCookie, session]) {
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; SameSite=Strict/);
      expect(cookie).toMatch(/; Path=\/console/);
      expect(cookie).not.toMatch(/Secure/);
    }

    const secureApp = await createTestApp(ctx, client, { SMTP_URL: smtp.url, PUBLIC_BASE_URL: 'https://tenure.acme.test' });
    try {
      const securePage = await secureApp.inject({ method: 'GET', url: '/console/sign-in' });
      expect(setCookies(securePage).get('tenure_console_form')).toMatch(/; Secure/);
    } finally {
      await secureApp.close();
    }
  });

  it('sends no more than five links per address in a window, answering the same', async () => {
    const heavy = await seedUser(ctx.models, { email: 'heavy@acme.test', siteRole: 'Auditors' });
    for (let i = 0; i < 7; i++) expect((await askForLink(app, heavy.user.email)).res.statusCode).toBe(200);
    // Every request has been counted (the mail goes out after the answer), then five links went out.
    const counter = `${ctx.queue.prefix}:console-sign-in:${hashSecret(heavy.user.email)}`;
    await eventually('all seven requests counted', async () => (await ctx.redis.get(counter)) === '7');
    await eventually('five links mailed', async () => smtp.to(heavy.user.email).length === 5);
    expect(await ctx.models.AuditEvent.countDocuments({ action: 'console.sign_in_link_sent', targetEmail: heavy.user.email })).toBe(5);
    const other = await seedUser(ctx.models, { email: 'other@acme.test', siteRole: 'Auditors' });
    await askForLink(app, other.user.email);
    await eventually('another address still gets its link', async () => smtp.to(other.user.email).length === 1);
    expect(smtp.to(heavy.user.email)).toHaveLength(5);
  });
});

describe('sessions', () => {
  it('a second sign-in ends the first, whose next request goes to the sign-in page saying why', async () => {
    const first = await signIn(app, smtp, admin.user.email);
    const second = await signIn(app, smtp, admin.user.email);
    const old = await app.inject({ method: 'GET', url: '/console/users', headers: { cookie: first.cookie } });
    expect(old.statusCode).toBe(303);
    expect(old.headers.location).toBe('/console/sign-in?why=superseded');
    expect(setCookies(old).get('tenure_console')).toMatch(/Max-Age=0/);
    const page = await app.inject({ method: 'GET', url: old.headers.location as string });
    expect(page.body).toContain('signed in somewhere else');
    expect((await app.inject({ method: 'GET', url: '/console/users', headers: { cookie: second.cookie } })).statusCode).toBe(200);
    // A form post from the ended session is refused too, before anything changes.
    const post = await app.inject({ method: 'POST', url: `/console/users/${manager.user._id}/role`, ...form(first.cookie, { _csrf: first.csrf, siteRole: 'Users' }) });
    expect(post.statusCode).toBe(401);
    expect((await ctx.models.User.findById(manager.user._id).lean())!.siteRole).toBe('SecurityManagers');
  });

  it('a lockout or deactivation ends the session and says so; sign-out ends it too', async () => {
    const locked = await seedUser(ctx.models, { email: 'locked@acme.test', siteRole: 'Auditors' });
    const browser = await signIn(app, smtp, locked.user.email);
    await endAccess(ctx.models, locked.user._id, { reason: 'lockout', lock: { processId: 'offboarding:test' } });
    const res = await app.inject({ method: 'GET', url: '/console/users', headers: { cookie: browser.cookie } });
    expect(res.headers.location).toBe('/console/sign-in?why=lockout');

    const leaving = await seedUser(ctx.models, { email: 'leaving@acme.test', siteRole: 'Auditors' });
    const b2 = await signIn(app, smtp, leaving.user.email);
    await ctx.models.User.updateOne({ _id: leaving.user._id }, { $set: { status: 'deactivated' } });
    expect((await app.inject({ method: 'GET', url: '/console/users', headers: { cookie: b2.cookie } })).headers.location).toBe('/console/sign-in?why=deactivated');

    const b3 = await signIn(app, smtp, auditor.user.email);
    const out = await app.inject({ method: 'POST', url: '/console/sign-out', ...form(b3.cookie, { _csrf: b3.csrf }) });
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/console/sign-in?why=logout');
    expect((await app.inject({ method: 'GET', url: '/console/users', headers: { cookie: b3.cookie } })).headers.location).toBe('/console/sign-in?why=logout');
  });

  it('every console route but the sign-in pages is closed without a session: pages redirect, posts get 401', async () => {
    const routes = consoleRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(10);
    const unknown = await app.inject({ method: 'GET', url: '/console/nope' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toBe('text/html; charset=utf-8');
    const open = new Set(['GET /console/sign-in', 'POST /console/sign-in', 'GET /console/sign-in/:token', 'POST /console/sign-in/:token']);
    const id = String(admin.user._id);
    for (const [method, url] of routes) {
      if (open.has(`${method} ${url}`)) continue;
      // The router prints the queue dashboard's static-file wildcard without its folder; its
      // files are walked without a session in queues.test.ts.
      if (url.endsWith('*')) continue;
      const concrete = url.replace(':id', id);
      for (const cookie of [undefined, 'tenure_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
        const res = await app.inject({ method: method as 'GET', url: concrete, ...(method === 'GET' ? { headers: cookie ? { cookie } : {} } : form(cookie, { _csrf: 'x' })) });
        if (method === 'GET') {
          expect(res.statusCode, `${method} ${url}`).toBe(303);
          expect(res.headers.location, `${method} ${url}`).toMatch(/^\/console\/sign-in/);
        } else {
          expect(res.statusCode, `${method} ${url}`).toBe(401);
        }
      }
    }
  });
});

describe('CSRF', () => {
  it('refuses a form post without the session token, with a stale one, and a sign-in post without the form cookie', async () => {
    const browser = await signIn(app, smtp, admin.user.email);
    const target = await seedUser(ctx.models, { email: 'target@acme.test', siteRole: 'Users' });
    const url = `/console/users/${target.user._id}/role`;
    for (const fields of [{ siteRole: 'Auditors' }, { _csrf: 'f'.repeat(64), siteRole: 'Auditors' }] as Array<Record<string, string>>) {
      const res = await app.inject({ method: 'POST', url, ...form(browser.cookie, fields) });
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('data-code="csrf_failed"');
    }
    expect((await ctx.models.User.findById(target.user._id).lean())!.siteRole).toBe('Users');
    // A post that is not a form gets no further either.
    const json = await app.inject({ method: 'POST', url, headers: { cookie: browser.cookie }, payload: { siteRole: 'Auditors' } });
    expect(json.statusCode).toBe(403);

    const page = await app.inject({ method: 'GET', url: '/console/sign-in' });
    const noCookie = await app.inject({ method: 'POST', url: '/console/sign-in', ...form(undefined, { _csrf: csrfOf(page.body), email: admin.user.email }) });
    expect(noCookie.statusCode).toBe(403);

    const ok = await app.inject({ method: 'POST', url, ...form(browser.cookie, { _csrf: browser.csrf, siteRole: 'Auditors' }) });
    expect(ok.statusCode).toBe(303);
    expect((await ctx.models.User.findById(target.user._id).lean())!.siteRole).toBe('Auditors');
    const audit = await ctx.models.AuditEvent.findOne({ targetUserId: target.user._id, action: /role/ }).lean();
    expect(audit?.actorEmail).toBe(admin.user.email);
  });
});

describe('roles', () => {
  it('a Security Manager reads active and pending users, sees no action forms, and a forged post is 403', async () => {
    const browser = await signIn(app, smtp, manager.user.email);
    const target = await seedUser(ctx.models, { email: 'forged@acme.test', siteRole: 'Users' });
    const gone = await seedUser(ctx.models, { email: 'hidden@acme.test', status: 'deactivated' });
    const list = await app.inject({ method: 'GET', url: '/console/users', headers: { cookie: browser.cookie } });
    expect(list.body).toContain('>Active</a>');
    expect(list.body).toContain('>Pending</a>');
    expect(list.body).not.toContain('>Deactivated</a>');
    expect(list.body).not.toContain('method="post" action="/console/users');
    expect((await app.inject({ method: 'GET', url: '/console/users?status=deactivated', headers: { cookie: browser.cookie } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: `/console/users/${gone.user._id}`, headers: { cookie: browser.cookie } })).statusCode).toBe(404);

    const detail = await app.inject({ method: 'GET', url: `/console/users/${target.user._id}`, headers: { cookie: browser.cookie } });
    expect(detail.statusCode).toBe(200);
    expect(detail.body).toContain('id="tokens"');
    expect(detail.body).not.toContain('id="role-form"');
    expect(detail.body).not.toContain('id="activity"');

    const forged = await app.inject({ method: 'POST', url: `/console/users/${target.user._id}/role`, ...form(browser.cookie, { _csrf: browser.csrf, siteRole: 'Administrators' }) });
    expect(forged.statusCode).toBe(403);
    expect((await ctx.models.User.findById(target.user._id).lean())!.siteRole).toBe('Users');
  });
});

describe('users table and detail', () => {
  it('shows the columns, "Invited User" for pending, searches, filters by role and pages', async () => {
    const browser = await signIn(app, smtp, (await seedUser(ctx.models, { email: 'table@acme.test', siteRole: 'Administrators' })).user.email);
    const pending = await seedUser(ctx.models, { email: 'newbie@acme.test', status: 'pending', firstName: 'Nina', lastName: 'Newbie' });
    for (let i = 0; i < 55; i++) await seedUser(ctx.models, { email: `bulk${String(i).padStart(2, '0')}@paging.test`, siteRole: 'PowerUsers', firstName: 'Bulk', lastName: `Person${i}` });
    const get = (url: string) => app.inject({ method: 'GET', url, headers: { cookie: browser.cookie } });

    const door = await get('/console');
    expect([door.statusCode, door.headers.location]).toEqual([303, '/console/users']);
    const first = await get('/console/users');
    for (const column of ['Name', 'Email', 'Role', 'Status', 'Last login', 'Created']) expect(first.body).toContain(`<th scope="col">${column}</th>`);
    expect(first.body.match(/<tr data-user-id=/g)).toHaveLength(50);
    const next = /<a rel="next" href="([^"]+)"/.exec(first.body)![1]!.replace(/&amp;/g, '&');
    const second = await get(next);
    expect(second.body).toContain('rel="prev"');
    expect(second.body).not.toContain('rel="next"');
    const ids = (body: string) => [...body.matchAll(/data-user-id="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set([...ids(first.body), ...ids(second.body)]).size).toBe(ids(first.body).length + ids(second.body).length);

    const pendingTab = await get('/console/users?status=pending');
    expect(pendingTab.body).toContain(pending.user.email);
    expect(pendingTab.body).toContain('Invited User');
    expect(pendingTab.body).not.toContain(`<td>${admin.user.email}</td>`);

    const search = await get('/console/users?q=person1');
    expect(ids(search.body).length).toBe(11); // Person1, Person10..19
    const byRole = await get('/console/users?role=SecurityManagers');
    expect(ids(byRole.body)).toEqual([String(manager.user._id)]);
    const none = await get('/console/users?q=zzzz');
    expect(none.body).toContain('No users match.');
    const bad = await get('/console/users?q=a+b+c+d+e+f');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('data-code="invalid_query"');
    expect((await get('/console/users?role=Kings')).statusCode).toBe(400);
    expect((await get('/console/users?sort=$where')).statusCode).toBe(400);
  });

  it("opens a user's detail: state, role, groups, owned resources, token activity, activity log, processes", async () => {
    const browser = await signIn(app, smtp, (await seedUser(ctx.models, { email: 'detail@acme.test', siteRole: 'Administrators' })).user.email);
    const group = await ctx.models.Group.create({ name: 'Platform <team>' });
    const owner = await seedUser(ctx.models, { email: 'owner@acme.test', siteRole: 'PowerUsers', firstName: 'Olive', lastName: 'Owner' });
    await ctx.models.User.updateOne({ _id: owner.user._id }, { $set: { groups: [group._id] } });
    await seedResource(ctx.models, owner.user._id, { kind: 'pipeline', name: 'deploy-prod' });
    await app.inject({ method: 'GET', url: '/v1/users', headers: owner.auth });
    await eventually('the token use is recorded', async () => (await ctx.models.TokenUsage.countDocuments({ userId: owner.user._id })) > 0);
    await app.inject({ method: 'POST', url: `/console/users/${owner.user._id}/role`, ...form(browser.cookie, { _csrf: browser.csrf, siteRole: 'Users' }) });

    const page = await app.inject({ method: 'GET', url: `/console/users/${owner.user._id}`, headers: { cookie: browser.cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<h1>Olive Owner</h1>');
    expect(page.body).toContain('<dd id="role">User</dd>');
    expect(page.body).toContain('Platform &lt;team&gt;');
    expect(page.body).toContain('deploy-prod');
    expect(page.body).toMatch(/<section id="tokens">[\s\S]*GET \/v1\/users/);
    expect(page.body).toMatch(/<section id="activity">[\s\S]*user\.role_changed|<section id="activity">[\s\S]*role/);
    expect(page.body).toContain('<section id="processes">');
    expect((await app.inject({ method: 'GET', url: '/console/users/000000000000000000000000', headers: { cookie: browser.cookie } })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/console/users/not-an-id', headers: { cookie: browser.cookie } })).statusCode).toBe(400);
  });
});

describe('administrator actions', () => {
  it('invites through the same service as the API: the domain mismatch asks to confirm, the plan limit says why', async () => {
    const browser = await signIn(app, smtp, (await seedUser(ctx.models, { email: 'inviter@acme.test', siteRole: 'Administrators' })).user.email);
    await ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { domain: 'acme.test', plan: 'Enterprise' } }, { upsert: true });
    const post = (fields: Record<string, string>) => app.inject({ method: 'POST', url: '/console/invite', ...form(browser.cookie, { _csrf: browser.csrf, siteRole: 'Users', ...fields }) });

    const page = await app.inject({ method: 'GET', url: '/console/invite', headers: { cookie: browser.cookie } });
    expect(page.body).toContain('id="invite-form"');
    const bad = await post({ email: 'not an address' });
    expect(bad.statusCode).toBe(400);
    expect(await ctx.models.User.countDocuments({ email: 'not an address' })).toBe(0);

    const outside = await post({ email: 'guest@elsewhere.test', firstName: 'Gus' });
    expect(outside.statusCode).toBe(422);
    expect(outside.body).toContain('data-code="domain_mismatch"');
    expect(outside.body).toContain('name="confirmDomainMismatch" value="yes"');
    expect(outside.body).toContain('value="Gus"');
    expect(await ctx.models.User.countDocuments({ email: 'guest@elsewhere.test' })).toBe(0);

    const confirmed = await post({ email: 'guest@elsewhere.test', firstName: 'Gus', confirmDomainMismatch: 'yes' });
    expect(confirmed.statusCode).toBe(303);
    const invited = await ctx.models.User.findOne({ email: 'guest@elsewhere.test' }).lean();
    expect(invited?.status).toBe('pending');
    expect(confirmed.headers.location).toBe(`/console/users/${invited!._id}?done=invited`);
    const described = await client.workflow.getHandle(`onboarding:guest@elsewhere.test`).describe();
    expect(described.status.name).toBe('RUNNING');
    await client.workflow.getHandle(`onboarding:guest@elsewhere.test`).terminate('test done');

    await ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { plan: 'Starter' } });
    try {
      const full = await post({ email: 'one-more@acme.test' });
      expect(full.statusCode).toBe(422);
      expect(full.body).toContain('data-code="plan_limit_reached"');
      expect(full.body).toContain('Starter plan allows 5 active users');
      expect(await ctx.models.User.countDocuments({ email: 'one-more@acme.test' })).toBe(0);
    } finally {
      await ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { plan: 'Enterprise', domain: '' } });
    }
  });

  it("changes many roles at once, reporting each user, refusing one's own", async () => {
    const self = await seedUser(ctx.models, { email: 'bulker@acme.test', siteRole: 'Administrators' });
    const browser = await signIn(app, smtp, self.user.email);
    const a = await seedUser(ctx.models, { email: 'bulk-a@acme.test', siteRole: 'Users' });
    const b = await seedUser(ctx.models, { email: 'bulk-b@acme.test', siteRole: 'PowerUsers' });
    const list = await app.inject({ method: 'GET', url: '/console/users?q=bulk', headers: { cookie: browser.cookie } });
    expect(list.body).toContain('id="bulk-form"');
    const ids = [String(a.user._id), String(b.user._id), String(self.user._id)];
    const res = await app.inject({ method: 'POST', url: '/console/users/role', ...form(browser.cookie, { _csrf: browser.csrf, siteRole: 'Auditors', ids }) });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('2 of 3 users are now Auditor');
    expect(res.body.match(/data-result="changed"/g)).toHaveLength(2);
    expect(res.body).toContain('data-result="refused"');
    const roles = await ctx.models.User.find({ _id: { $in: ids } }, { siteRole: 1, email: 1 }).lean();
    expect(Object.fromEntries(roles.map((u) => [u.email, u.siteRole]))).toEqual({ 'bulk-a@acme.test': 'Auditors', 'bulk-b@acme.test': 'Auditors', 'bulker@acme.test': 'Administrators' });

    const none = await app.inject({ method: 'POST', url: '/console/users/role', ...form(browser.cookie, { _csrf: browser.csrf, siteRole: 'Users' }) });
    expect(none.statusCode).toBe(400);
    const junk = await app.inject({ method: 'POST', url: '/console/users/role', ...form(browser.cookie, { _csrf: browser.csrf, siteRole: 'Users', ids: ['{"$gt":""}'] }) });
    expect(junk.statusCode).toBe(400);
  });

  it('exports the filtered list as CSV for Administrators only, audited; readers get neither the link nor the file', async () => {
    const exporter = await seedUser(ctx.models, { email: 'exporter@acme.test', siteRole: 'Administrators' });
    const browser = await signIn(app, smtp, exporter.user.email);
    const list = await app.inject({ method: 'GET', url: '/console/users?role=SecurityManagers', headers: { cookie: browser.cookie } });
    const href = /<a href="([^"]+)" id="export-link">/.exec(list.body)![1]!.replace(/&amp;/g, '&');
    const csv = await app.inject({ method: 'GET', url: href, headers: { cookie: browser.cookie } });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe('name,email,role,status,lastLoginAt,createdAt');
    expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual([manager.user.email]);
    expect(await ctx.models.AuditEvent.countDocuments({ action: 'users.exported', actorEmail: exporter.user.email })).toBe(1);

    const reader = await signIn(app, smtp, (await seedUser(ctx.models, { email: 'reader@acme.test', siteRole: 'Auditors' })).user.email);
    const readerList = await app.inject({ method: 'GET', url: '/console/users', headers: { cookie: reader.cookie } });
    expect(readerList.body).not.toContain('id="export-link"');
    expect(readerList.body).not.toContain('id="invite-link"');
    expect((await app.inject({ method: 'GET', url: '/console/users/export.csv', headers: { cookie: reader.cookie } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/console/invite', headers: { cookie: reader.cookie } })).statusCode).toBe(403);
    const forged = await app.inject({ method: 'POST', url: '/console/invite', ...form(reader.cookie, { _csrf: reader.csrf, email: 'x@acme.test', siteRole: 'Administrators' }) });
    expect(forged.statusCode).toBe(403);
    expect(await ctx.models.User.countDocuments({ email: 'x@acme.test' })).toBe(0);
  });
});

describe('processes on the detail page', () => {
  it("shows a running onboarding's progress, and says so when no worker answers rather than hang", async () => {
    const browser = await signIn(app, smtp, (await seedUser(ctx.models, { email: 'procs@acme.test', siteRole: 'Administrators' })).user.email);
    let detailUrl = '';
    await withWorker(
      ctx,
      async () => {
        const res = await app.inject({ method: 'POST', url: '/console/invite', ...form(browser.cookie, { _csrf: browser.csrf, email: 'proc-invitee@acme.test', firstName: 'Pia', siteRole: 'Users' }) });
        expect(res.statusCode).toBe(303);
        detailUrl = (res.headers.location as string).replace(/\?.*$/, '');
        await eventually('the invitation email', async () => smtp.to('proc-invitee@acme.test').length > 0);
        const page = await eventually('the progress shows a sent invitation', async () => {
          const p = await app.inject({ method: 'GET', url: detailUrl, headers: { cookie: browser.cookie } });
          return /1 of \d+ invitations sent/.test(p.body) ? p.body : undefined;
        });
        expect(page).toMatch(/<section id="processes"><h2>Processes<\/h2><h3>Onboarding · /);
      },
      { smtpUrl: smtp.url },
    );
    const withoutWorker = await app.inject({ method: 'GET', url: detailUrl, headers: { cookie: browser.cookie } });
    expect(withoutWorker.statusCode).toBe(200);
    expect(withoutWorker.body).toContain('The processes could not be read just now');
    await client.workflow.getHandle('onboarding:proc-invitee@acme.test').terminate('test done');
  });
});

describe('logs', () => {
  it('never hold a sign-in link token, a session secret or a CSRF token', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const logged = await createTestApp(ctx, client, { SMTP_URL: smtp.url, PUBLIC_BASE_URL: 'http://localhost:3000' }, { logger: createLogger({ level: 'trace', name: 'console-logs', destination }) });
    try {
      const who = await seedUser(ctx.models, { email: 'logged@acme.test', siteRole: 'Auditors' });
      const browser = await signIn(logged, smtp, who.user.email);
      const token = /\/console\/sign-in\/([A-Za-z0-9_-]+)/.exec(smtp.to(who.user.email).at(-1)!.body)![1]!;
      await logged.inject({ method: 'POST', url: '/console/sign-out', ...form(browser.cookie, { _csrf: browser.csrf }) });
      expect(lines.some((l) => l.includes('/console/sign-in/[redacted]'))).toBe(true);
      for (const secret of [token, browser.cookie.split('=')[1]!, browser.csrf]) expect(lines.filter((l) => l.includes(secret))).toEqual([]);
    } finally {
      await logged.close();
    }
  });
});

describe('settings page', () => {
  const fields = (overrides: Record<string, string> = {}) => ({
    name: 'Acme Console',
    plan: 'Enterprise',
    domain: 'acme.test',
    invitationLifetimeDays: '3',
    invitationResends: '2',
    approvalRequired: 'yes',
    retentionDays: '30',
    immediateLockoutOnHrTermination: 'yes',
    ...overrides,
  });

  it('Administrators change the settings through the API service (audited, in days on the form); readers see them without a form and a forged post is 403', async () => {
    await ctx.models.OrgSettings.deleteMany({});
    const browser = await signIn(app, smtp, (await seedUser(ctx.models, { email: 'settings-admin@acme.test', siteRole: 'Administrators' })).user.email);
    const page = await app.inject({ method: 'GET', url: '/console/settings', headers: { cookie: browser.cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('action="/console/settings"');
    expect(page.body).toMatch(/id="usage">Enterprise plan: \d+ seats in use/);

    const saved = await app.inject({ method: 'POST', url: '/console/settings', ...form(browser.cookie, { _csrf: browser.csrf, ...fields() }) });
    expect(saved.statusCode).toBe(200);
    expect(saved.body).toContain('id="saved"');
    const stored = await ctx.models.OrgSettings.findById('org').lean();
    expect(stored).toMatchObject({ name: 'Acme Console', domain: 'acme.test', invitationLifetimeMs: 3 * 86_400_000, invitationResends: 2, offboarding: { retentionMs: 30 * 86_400_000, approvalRequired: true } });
    expect(await ctx.models.AuditEvent.countDocuments({ action: 'settings.changed', actorEmail: 'settings-admin@acme.test' })).toBe(1);

    // A bad value is refused by the API's own schema, shown with what was typed, and nothing changes.
    const bad = await app.inject({ method: 'POST', url: '/console/settings', ...form(browser.cookie, { _csrf: browser.csrf, ...fields({ name: 'Renamed', domain: 'not a domain' }) }) });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('value="not a domain"');
    expect((await ctx.models.OrgSettings.findById('org').lean())!.name).toBe('Acme Console');

    // Without the CSRF token the post is refused.
    const noCsrf = await app.inject({ method: 'POST', url: '/console/settings', ...form(browser.cookie, fields({ name: 'Forged' })) });
    expect(noCsrf.statusCode).toBe(403);

    for (const reader of [manager, auditor]) {
      const session = await signIn(app, smtp, reader.user.email);
      const view = await app.inject({ method: 'GET', url: '/console/settings', headers: { cookie: session.cookie } });
      expect(view.statusCode).toBe(200);
      expect(view.body).toContain('Acme Console');
      expect(view.body).not.toContain('action="/console/settings"');
      const forged = await app.inject({ method: 'POST', url: '/console/settings', ...form(session.cookie, { _csrf: session.csrf, ...fields({ name: 'Taken over' }) }) });
      expect(forged.statusCode).toBe(403);
    }
    expect((await ctx.models.OrgSettings.findById('org').lean())!.name).toBe('Acme Console');
  });

  it('a plan below the seats in use asks to confirm, then says what it means', async () => {
    await ctx.models.OrgSettings.deleteMany({});
    const browser = await signIn(app, smtp, (await seedUser(ctx.models, { email: 'plan-admin@acme.test', siteRole: 'Administrators' })).user.email);
    for (let i = await ctx.models.User.countDocuments({ status: { $in: ['active', 'pending'] } }); i < 7; i++) await seedUser(ctx.models);
    const refused = await app.inject({ method: 'POST', url: '/console/settings', ...form(browser.cookie, { _csrf: browser.csrf, ...fields({ plan: 'Starter' }) }) });
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('data-code="plan_below_usage"');
    expect(refused.body).toContain('name="confirmOverLimit" value="yes"');
    expect((await ctx.models.OrgSettings.findById('org').lean())?.plan ?? 'Enterprise').toBe('Enterprise');
    const confirmed = await app.inject({ method: 'POST', url: '/console/settings', ...form(browser.cookie, { _csrf: browser.csrf, ...fields({ plan: 'Starter', confirmOverLimit: 'yes' }) }) });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.body).toMatch(/above the Starter plan&#39;s limit of 5\. Nobody loses access/);
    await ctx.models.OrgSettings.deleteMany({});
  });
});

describe('acting on an offboarding from the detail page', () => {
  it('whoever may act approves from the page that follows the process live; a reader who is not the manager gets no forms and a forged post is refused by the process', async () => {
    await setPolicy(ctx.models, { approvalRequired: true, retentionMs: null });
    const org = await seedOrg(ctx.models);
    // The leaver's manager is an Auditor here: a console user who may act because they manage the leaver.
    await ctx.models.User.updateOne({ _id: org.manager.user._id }, { $set: { siteRole: 'Auditors' } });
    const managerBrowser = await signIn(app, smtp, org.manager.user.email);
    const reader = await signIn(app, smtp, manager.user.email); // a Security Manager who manages no one
    const detail = `/console/users/${org.leaver.user._id}`;
    await withWorker(
      ctx,
      async () => {
        const started = await app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user._id}/offboarding`, headers: org.admin.auth, payload: { reason: 'leaving' } });
        expect(started.statusCode).toBe(202);
        const page = await eventually('the page to show the approval forms', async () => {
          const p = await app.inject({ method: 'GET', url: detail, headers: { cookie: managerBrowser.cookie } });
          return p.body.includes('id="offboarding-actions"') ? p.body : undefined;
        });
        // Live: the page reloads itself while the process moves.
        expect(page).toMatch(/<meta http-equiv="refresh" content="5">/);
        const version = /name="planVersion" value="([^"]+)"/.exec(page)![1]!;

        // The processes page lists it from the visibility store, linked to the leaver, for Administrators only.
        const adminView = await signIn(app, smtp, org.admin.user.email);
        const list = await eventually('the processes page to list the offboarding', async () => {
          const p = await app.inject({ method: 'GET', url: '/console/processes', headers: { cookie: adminView.cookie } });
          return p.body.includes(`offboarding:${org.leaver.user._id}`) ? p.body : undefined;
        });
        expect(list).toContain(`<a href="/console/users/${org.leaver.user._id}">`);
        expect(list).toMatch(/<td>offboarding<\/td><td>.*<\/td><td>awaiting approval<\/td>/);
        expect((await app.inject({ method: 'GET', url: '/console/processes', headers: { cookie: managerBrowser.cookie } })).statusCode).toBe(403);

        const readerPage = await app.inject({ method: 'GET', url: detail, headers: { cookie: reader.cookie } });
        expect(readerPage.statusCode).toBe(200);
        expect(readerPage.body).not.toContain('id="offboarding-actions"');
        const forged = await app.inject({ method: 'POST', url: `${detail}/offboarding/approve`, ...form(reader.cookie, { _csrf: reader.csrf, planVersion: version }) });
        expect(forged.statusCode).toBe(403);
        expect(forged.body).toContain('data-code="not_an_approver"');
        expect(await ctx.models.AuditEvent.countDocuments({ action: 'offboarding.approve_refused', actorEmail: manager.user.email })).toBe(1);

        const stale = await app.inject({ method: 'POST', url: `${detail}/offboarding/approve`, ...form(managerBrowser.cookie, { _csrf: managerBrowser.csrf, planVersion: 'not-the-version' }) });
        expect(stale.statusCode).toBe(409);
        expect(stale.body).toContain('data-code="stale_plan"');

        const approved = await app.inject({ method: 'POST', url: `${detail}/offboarding/approve`, ...form(managerBrowser.cookie, { _csrf: managerBrowser.csrf, planVersion: version }) });
        expect(approved.statusCode).toBe(303);
        expect(approved.headers.location).toBe(`${detail}?done=approve`);
        expect(await ctx.models.AuditEvent.countDocuments({ action: 'offboarding.approve', actorEmail: org.manager.user.email })).toBe(1);
        // The leaver is now deactivated: an Auditor no longer reads them; an Administrator follows the end.
        const adminBrowser = adminView;
        const settled = await eventually('the offboarding to complete', async () => {
          const p = await app.inject({ method: 'GET', url: detail, headers: { cookie: adminBrowser.cookie } });
          return p.body.includes('Offboarding · completed') ? p.body : undefined;
        }, 30_000);
        expect(settled).not.toContain('id="offboarding-actions"');
      },
      { smtpUrl: smtp.url },
    );
    expect(await ctx.models.User.findById(org.leaver.user._id).lean()).toMatchObject({ status: 'deactivated' });
  });
});

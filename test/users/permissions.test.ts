/**
 * The role matrix as a table: every role against every route. The expected answers
 * are written out here, not derived from src/domain/roles.ts, so a wrong matrix fails the test.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SITE_ROLES, type SiteRole } from '../../src/domain/roles';
import { issueAccessToken, revokeUserTokens } from '../../src/security/access-tokens';
import { withWorker } from '../helpers/temporal';
import { seedResource, seedUser, type SeededUser } from '../helpers/users';
import { json, openHarness, type Harness } from './harness';

let h: Harness;
const callers = {} as Record<SiteRole, SeededUser>;

const READERS: SiteRole[] = ['Administrators', 'SecurityManagers', 'Auditors'];
const ADMINS: SiteRole[] = ['Administrators'];

type Build = () => Promise<Omit<InjectOptions, 'headers'>>;
interface RouteCase {
  route: string;
  allowed: SiteRole[];
  build: Build;
}

const fresh = (fields: Parameters<typeof seedUser>[1] = {}) => seedUser(h.ctx.models, fields);

const ROUTES: RouteCase[] = [
  { route: 'GET /v1/users/search', allowed: READERS, build: async () => ({ method: 'GET', url: `/v1/users/search?email=${(await fresh()).user.email}` }) },
  { route: 'GET /v1/users/active', allowed: READERS, build: async () => ({ method: 'GET', url: `/v1/users/active?id=${(await fresh()).user._id}` }) },
  { route: 'GET /v1/users', allowed: READERS, build: async () => ({ method: 'GET', url: '/v1/users?limit=5' }) },
  { route: 'GET /v1/users/{id}', allowed: READERS, build: async () => ({ method: 'GET', url: `/v1/users/${(await fresh({ status: 'pending' })).user._id}` }) },
  { route: 'GET /v1/users/{id}/tokens', allowed: READERS, build: async () => ({ method: 'GET', url: `/v1/users/${(await fresh()).user._id}/tokens` }) },
  { route: 'GET /v1/users/{id}/token-activity', allowed: READERS, build: async () => ({ method: 'GET', url: `/v1/users/${(await fresh()).user._id}/token-activity` }) },
  { route: 'GET /v1/users/export.csv', allowed: ADMINS, build: async () => ({ method: 'GET', url: '/v1/users/export.csv' }) },
  { route: 'GET /v1/users/{id}/activity', allowed: ADMINS, build: async () => ({ method: 'GET', url: `/v1/users/${(await fresh()).user._id}/activity` }) },
  { route: 'POST /v1/users/{id}/deactivate', allowed: ADMINS, build: async () => ({ method: 'POST', url: `/v1/users/${(await fresh()).user._id}/deactivate` }) },
  { route: 'POST /v1/users/{id}/reactivate', allowed: ADMINS, build: async () => ({ method: 'POST', url: `/v1/users/${(await fresh({ status: 'deactivated' })).user._id}/reactivate` }) },
  { route: 'PUT /v1/users/{id}/site-role', allowed: ADMINS, build: async () => ({ method: 'PUT', url: `/v1/users/${(await fresh()).user._id}/site-role`, payload: { siteRole: 'PowerUsers' } }) },
  { route: 'POST /v1/users/bulk/site-role', allowed: ADMINS, build: async () => ({ method: 'POST', url: '/v1/users/bulk/site-role', payload: { ids: [String((await fresh()).user._id)], siteRole: 'PowerUsers' } }) },
  { route: 'DELETE /v1/users/{id}', allowed: ADMINS, build: async () => ({ method: 'DELETE', url: `/v1/users/${(await fresh()).user._id}` }) },
  { route: 'POST /v1/users/{id}/tokens', allowed: ADMINS, build: async () => ({ method: 'POST', url: `/v1/users/${(await fresh()).user._id}/tokens`, payload: {} }) },
  { route: 'POST /v1/users/{id}/sessions', allowed: ADMINS, build: async () => ({ method: 'POST', url: `/v1/users/${(await fresh()).user._id}/sessions`, payload: {} }) },
  {
    route: 'DELETE /v1/users/{id}/tokens/{tokenId}',
    allowed: ADMINS,
    build: async () => {
      const u = await fresh();
      return { method: 'DELETE', url: `/v1/users/${u.user._id}/tokens/${u.token.slice(4, 20)}` };
    },
  },
  { route: 'GET /v1/users/{id}/sessions', allowed: ADMINS, build: async () => ({ method: 'GET', url: `/v1/users/${(await fresh()).user._id}/sessions` }) },
  {
    route: 'DELETE /v1/users/{id}/sessions/{sessionId}',
    allowed: ADMINS,
    build: async () => {
      const u = await fresh();
      const session = await h.ctx.models.Session.create({ userId: u.user._id, tokenHash: `h-${Math.random().toString(36).slice(2)}`, createdAt: new Date() });
      return { method: 'DELETE', url: `/v1/users/${u.user._id}/sessions/${session._id}` };
    },
  },
  { route: 'POST /v1/sessions/introspect', allowed: ADMINS, build: async () => ({ method: 'POST', url: '/v1/sessions/introspect', payload: { session: 'x' } }) },
  { route: 'GET /v1/resources', allowed: ADMINS, build: async () => ({ method: 'GET', url: '/v1/resources' }) },
  {
    route: 'GET /v1/resources/{id}',
    allowed: ADMINS,
    build: async () => ({ method: 'GET', url: `/v1/resources/${(await seedResource(h.ctx.models, (await fresh()).user._id))._id}` }),
  },
  {
    route: 'POST /v1/resources/{id}/transfer',
    allowed: ADMINS,
    build: async () => {
      const r = await seedResource(h.ctx.models, (await fresh()).user._id);
      return { method: 'POST', url: `/v1/resources/${r._id}/transfer`, payload: { newOwnerId: String((await fresh()).user._id) } };
    },
  },
  { route: 'POST /v1/resources', allowed: ADMINS, build: async () => ({ method: 'POST', url: '/v1/resources', payload: { kind: 'tool', name: 'perm-tool', ownerId: String((await fresh()).user._id) } }) },
  {
    route: 'PATCH /v1/resources/{id}',
    allowed: ADMINS,
    build: async () => ({ method: 'PATCH', url: `/v1/resources/${(await seedResource(h.ctx.models, (await fresh()).user._id))._id}`, payload: { name: 'renamed' } }),
  },
  {
    route: 'DELETE /v1/resources/{id}',
    allowed: ADMINS,
    build: async () => ({ method: 'DELETE', url: `/v1/resources/${(await seedResource(h.ctx.models, (await fresh()).user._id))._id}` }),
  },
  { route: 'POST /v1/service-credentials', allowed: ADMINS, build: async () => ({ method: 'POST', url: '/v1/service-credentials', payload: { name: 'perm-ci' } }) },
  { route: 'GET /v1/service-credentials', allowed: ADMINS, build: async () => ({ method: 'GET', url: '/v1/service-credentials' }) },
  {
    route: 'DELETE /v1/service-credentials/{id}',
    allowed: ADMINS,
    build: async () => {
      const issued = await h.app.inject({ method: 'POST', url: '/v1/service-credentials', headers: callers.Administrators.auth, payload: { name: 'to-revoke' } });
      return { method: 'DELETE', url: `/v1/service-credentials/${json(issued).id}` };
    },
  },
  { route: 'GET /v1/groups', allowed: ADMINS, build: async () => ({ method: 'GET', url: '/v1/groups' }) },
  { route: 'POST /v1/groups', allowed: ADMINS, build: async () => ({ method: 'POST', url: '/v1/groups', payload: { name: `g-${Math.random().toString(36).slice(2)}` } }) },
];

beforeAll(async () => {
  h = await openHarness('userperms');
  for (const role of SITE_ROLES) callers[role] = await seedUser(h.ctx.models, { siteRole: role, email: `${role.toLowerCase()}@perm.test` });
});

afterAll(async () => {
  await h?.close();
});

const send = async (build: Build, headers: Record<string, string>) => h.app.inject({ ...(await build()), headers });

describe('role × route', () => {
  for (const { route, allowed, build } of ROUTES) {
    for (const role of SITE_ROLES) {
      const expectAllowed = allowed.includes(role);
      it(`${role} ${expectAllowed ? 'may' : 'may not'} ${route}`, async () => {
        // A reactivation runs as a process: an allowed one needs a worker to finish.
        const res = expectAllowed && route.endsWith('/reactivate') ? await withWorker(h.ctx, () => send(build, callers[role].auth)) : await send(build, callers[role].auth);
        if (expectAllowed) {
          expect(res.statusCode, res.body).toBeGreaterThanOrEqual(200);
          expect(res.statusCode, res.body).toBeLessThan(300);
        } else {
          expect(res.statusCode, res.body).toBe(403);
          expect(json(res).error.code).toBe('forbidden');
        }
      });
    }
  }

  it('covers every user, resource, group, session and service-credential route the app registers', async () => {
    const doc = json(await h.app.inject({ method: 'GET', url: '/openapi.json' }));
    const registered = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace('{idOrEmail}', '{id}')}`))
      .filter((r) => /\/v1\/(users|resources|groups|sessions|service-credentials)/.test(r) && r !== 'POST /v1/users')
      // Process routes under /v1/users (onboarding, invitations, offboarding, reactivation workflows) have their own tests.
      .filter((r) => !/(onboarding|offboarding|invitation|registration|reactivation|process)/.test(r));
    const covered = new Set(ROUTES.map((r) => r.route));
    expect(registered.filter((r) => !covered.has(r))).toEqual([]);
    // And the table names no route that does not exist.
    expect([...covered].filter((r) => !registered.includes(r))).toEqual([]);
  });
});

describe('401 for a missing or unusable token, on every route', () => {
  const variants: Array<[string, () => Promise<Record<string, string>>]> = [
    ['no Authorization header', async () => ({})],
    ['a non-Bearer scheme', async () => ({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` })],
    ['a malformed token', async () => ({ authorization: 'Bearer not-a-token' })],
    ['a well-formed unknown token', async () => ({ authorization: `Bearer tnr_${'A'.repeat(16)}_${'b'.repeat(43)}` })],
    [
      'a right id with a wrong secret',
      async () => {
        const tokenId = callers.Administrators.token.slice(4, 20);
        return { authorization: `Bearer tnr_${tokenId}_${'c'.repeat(43)}` };
      },
    ],
    [
      'a revoked token',
      async () => {
        const u = await seedUser(h.ctx.models, { siteRole: 'Administrators' });
        await revokeUserTokens(h.ctx.models, u.user._id, 'test');
        return u.auth;
      },
    ],
    [
      'an expired token',
      async () => {
        const u = await seedUser(h.ctx.models, { siteRole: 'Administrators' });
        const { token } = await issueAccessToken(h.ctx.models, u.user._id, { expiresAt: new Date(Date.now() - 1000) });
        return { authorization: `Bearer ${token}` };
      },
    ],
    ['a deactivated holder', async () => (await seedUser(h.ctx.models, { siteRole: 'Administrators', status: 'deactivated' })).auth],
    ['a pending holder', async () => (await seedUser(h.ctx.models, { siteRole: 'Administrators', status: 'pending' })).auth],
  ];
  for (const [label, headersFor] of variants) {
    it(`with ${label}`, async () => {
      const headers = await headersFor();
      for (const { route, build } of ROUTES) {
        const res = await send(build, headers);
        expect(res.statusCode, `${route}: ${res.body}`).toBe(401);
        expect(json(res).error.code).toMatch(/^(missing_token|invalid_token|inactive_user)$/);
      }
    });
  }

  it('guards the HEAD twins of GET routes the same way', async () => {
    expect((await h.app.inject({ method: 'HEAD', url: '/v1/users/export.csv' })).statusCode).toBe(401);
    expect((await h.app.inject({ method: 'HEAD', url: '/v1/users/export.csv', headers: callers.Auditors.auth })).statusCode).toBe(403);
    expect((await h.app.inject({ method: 'HEAD', url: '/v1/users?limit=1', headers: callers.Users.auth })).statusCode).toBe(403);
  });

  it('checks the token before the input: bad input without a token is 401, from a forbidden role 403', async () => {
    const bad = { method: 'PUT' as const, url: '/v1/users/not-an-id/site-role', payload: '{"siteRole": ', headers: { 'content-type': 'application/json' } };
    expect((await h.app.inject(bad)).statusCode).toBe(401);
    expect((await h.app.inject({ ...bad, headers: { ...bad.headers, ...callers.Auditors.auth } })).statusCode).toBe(403);
    expect((await h.app.inject({ ...bad, headers: { ...bad.headers, ...callers.Administrators.auth } })).statusCode).toBe(400);
  });
});

describe('the holder is re-read on every request', () => {
  it('a role change counts from the next request, in both directions', async () => {
    const admin = callers.Administrators;
    const u = await seedUser(h.ctx.models, { siteRole: 'Auditors' });
    const read = () => h.app.inject({ method: 'GET', url: '/v1/users?limit=1', headers: u.auth });
    const exportCsv = () => h.app.inject({ method: 'GET', url: '/v1/users/export.csv', headers: u.auth });
    expect((await read()).statusCode).toBe(200);
    expect((await exportCsv()).statusCode).toBe(403);

    await h.app.inject({ method: 'PUT', url: `/v1/users/${u.user._id}/site-role`, headers: admin.auth, payload: { siteRole: 'Users' } });
    expect((await read()).statusCode).toBe(403);

    await h.app.inject({ method: 'PUT', url: `/v1/users/${u.user._id}/site-role`, headers: admin.auth, payload: { siteRole: 'Administrators' } });
    expect((await exportCsv()).statusCode).toBe(200);
  });

  it("a deactivation stops the holder's token at once", async () => {
    const u = await seedUser(h.ctx.models, { siteRole: 'SecurityManagers' });
    const read = () => h.app.inject({ method: 'GET', url: '/v1/users?limit=1', headers: u.auth });
    expect((await read()).statusCode).toBe(200);
    const res = await h.app.inject({ method: 'POST', url: `/v1/users/${u.user._id}/deactivate`, headers: callers.Administrators.auth });
    expect(res.statusCode).toBe(200);
    const after = await read();
    expect(after.statusCode).toBe(401);
    // Reactivation does not bring revoked tokens back.
    const reactivated = await withWorker(h.ctx, () => h.app.inject({ method: 'POST', url: `/v1/users/${u.user._id}/reactivate`, headers: callers.Administrators.auth }));
    expect(reactivated.statusCode).toBe(200);
    expect((await read()).statusCode).toBe(401);
  });
});

/**
 * Service credentials: issued, listed and revoked by Administrators only; stored as a hash; good
 * for the resource routes and refused (403) everywhere else, including any route that does not
 * open itself to services; a revoked one is a 401 from the next request.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { createTestApp } from '../helpers/http';
import { seedResource, seedUser, type SeededUser } from '../helpers/users';
import { json, openHarness, type Harness } from '../users/harness';

let h: Harness;
let app: App;
let admin: SeededUser;
let owner: SeededUser;

beforeAll(async () => {
  h = await openHarness('svccreds');
  // The real app, plus two routes added the way any new route would be: one that says nothing
  // about services, one that opens itself to them.
  app = await createTestApp(h.ctx, h.client, {}, {
    beforeReady: (a) => {
      a.get('/v1/brand-new-route', async () => ({ ok: true }));
      a.post('/v1/brand-new-route', async () => ({ ok: true }));
      a.get('/v1/brand-new-open-route', { config: { services: true } }, async () => ({ ok: true }));
    },
  });
  admin = await seedUser(h.ctx.models, { siteRole: 'Administrators' });
  owner = await seedUser(h.ctx.models);
});

afterAll(async () => {
  await app?.close();
  await h?.close();
});

async function issue(name = `svc-${randomUUID().slice(0, 6)}`, auth = admin.auth) {
  const res = await app.inject({ method: 'POST', url: '/v1/service-credentials', headers: auth, payload: { name } });
  expect(res.statusCode, res.body).toBe(201);
  const body = json(res);
  return { ...body, auth: { authorization: `Bearer ${body.credential}` } } as { id: string; name: string; credential: string; auth: { authorization: string } };
}

function expectError(res: { statusCode: number; body: string }, status: number, code: string, what = '') {
  expect(res.statusCode, `${what} ${res.body}`).toBe(status);
  expect(json(res).error.code, what).toBe(code);
}

/** Fills an OpenAPI path's parameters with values of the right shape. */
function concretePath(path: string): string {
  return path
    .replace('{idOrEmail}', String(owner.user._id))
    .replace('{tokenId}', 'AAAAAAAAAAAAAAAA')
    .replace(/\/v1\/service-credentials\/\{id\}/, '/v1/service-credentials/AAAAAAAAAAAAAAAA')
    .replace(/\{(id|sessionId)\}/g, '0123456789abcdef01234567')
    .replace('{token}', 'not-a-token')
    .replace('{provider}', 'generic');
}

const OPEN_TO_SERVICES = new Set(['GET /v1/brand-new-open-route', 'GET /v1/resources', 'POST /v1/resources', 'GET /v1/resources/{id}', 'PATCH /v1/resources/{id}', 'DELETE /v1/resources/{id}']);

describe('service credentials', () => {
  it('an Administrator issues one: the secret is shown once and stored only as its hash; audited; listed without it', async () => {
    const issued = await issue('CI system');
    expect(issued.credential).toMatch(/^tsc_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    expect(issued.credential.startsWith(`tsc_${issued.id}_`)).toBe(true);
    const stored = await h.ctx.models.ServiceCredential.findOne({ credentialId: issued.id }).lean();
    const secret = issued.credential.slice(`tsc_${issued.id}_`.length);
    expect(stored!.hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(await h.ctx.models.AuditEvent.countDocuments({ action: 'service_credential.issued', actorId: admin.user._id, 'details.credentialId': issued.id })).toBe(1);

    const list = await app.inject({ method: 'GET', url: '/v1/service-credentials', headers: admin.auth });
    expect(list.statusCode).toBe(200);
    const listed = json(list).credentials.find((c: { id: string }) => c.id === issued.id);
    expect(listed).toMatchObject({ name: 'CI system', createdBy: String(admin.user._id), revokedAt: null });
    expect(list.body).not.toContain(secret);
  });

  it('only Administrators issue, list or revoke them; a service cannot issue itself more', async () => {
    const issued = await issue();
    const before = await h.ctx.models.ServiceCredential.countDocuments({});
    for (const siteRole of ['SecurityManagers', 'Auditors', 'PowerUsers', 'Users'] as const) {
      const someone = await seedUser(h.ctx.models, { siteRole });
      expectError(await app.inject({ method: 'POST', url: '/v1/service-credentials', headers: someone.auth, payload: { name: 'mine' } }), 403, 'forbidden', siteRole);
      expectError(await app.inject({ method: 'GET', url: '/v1/service-credentials', headers: someone.auth }), 403, 'forbidden', siteRole);
      expectError(await app.inject({ method: 'DELETE', url: `/v1/service-credentials/${issued.id}`, headers: someone.auth }), 403, 'forbidden', siteRole);
    }
    expectError(await app.inject({ method: 'POST', url: '/v1/service-credentials', headers: issued.auth, payload: { name: 'more' } }), 403, 'service_not_allowed');
    expect(await h.ctx.models.ServiceCredential.countDocuments({})).toBe(before);
    expect((await h.ctx.models.ServiceCredential.findOne({ credentialId: issued.id }).lean())!.revokedAt).toBeFalsy();
  });

  it('uses the resource routes: list, read, create, update, delete', async () => {
    const svc = await issue();
    const created = await app.inject({ method: 'POST', url: '/v1/resources', headers: svc.auth, payload: { kind: 'task', name: 'nightly', ownerId: String(owner.user._id) } });
    expect(created.statusCode, created.body).toBe(201);
    const id = json(created)._id;
    expect((await app.inject({ method: 'GET', url: `/v1/resources/${id}`, headers: svc.auth })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: `/v1/resources?ownerId=${owner.user._id}`, headers: svc.auth })).statusCode).toBe(200);
    expect((await app.inject({ method: 'PATCH', url: `/v1/resources/${id}`, headers: svc.auth, payload: { name: 'nightly-2' } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: `/v1/resources/${id}`, headers: svc.auth })).statusCode).toBe(200);
    const used = await h.ctx.models.ServiceCredential.findOne({ credentialId: svc.id }).lean();
    expect(used!.lastUsedAt).toBeTruthy();
  });

  it('is refused on every documented route but the resource routes, the transfer included, before the body is read', async () => {
    const svc = await issue();
    const resource = await seedResource(h.ctx.models, owner.user._id);
    const snapshot = async () => JSON.stringify(await Promise.all([h.ctx.models.User.find({}, { updatedAt: 0 }).sort({ _id: 1 }).lean(), h.ctx.models.Resource.find({}).sort({ _id: 1 }).lean(), h.ctx.models.AccessToken.countDocuments({}), h.ctx.models.ServiceCredential.countDocuments({})]));
    const before = await snapshot();
    const doc = app.swagger() as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    let checked = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        const route = `${method.toUpperCase()} ${path}`;
        if (Array.isArray(op.security) && op.security.length === 0) continue; // public: no credential asked
        if (OPEN_TO_SERVICES.has(route)) continue;
        const payload = method === 'get' ? undefined : { anything: true };
        const res = await app.inject({ method: method.toUpperCase() as 'GET', url: concretePath(path), headers: svc.auth, ...(payload ? { payload } : {}) });
        expectError(res, 403, 'service_not_allowed', route);
        checked++;
      }
    }
    // The users, processes, tokens and credentials routes are all among them.
    expect(checked).toBeGreaterThan(40);
    const transfer = await app.inject({ method: 'POST', url: `/v1/resources/${resource._id}/transfer`, headers: svc.auth, payload: { newOwnerId: String(admin.user._id) } });
    expectError(transfer, 403, 'service_not_allowed', 'transfer');
    // SCIM authenticates itself, and refuses a service too.
    expect((await app.inject({ method: 'GET', url: '/scim/v2/Users', headers: svc.auth })).statusCode).toBe(403);
    expect(await snapshot()).toBe(before);
  });

  it('a route added without opening itself to services is closed to them (fail closed); users still reach it', async () => {
    const svc = await issue();
    expectError(await app.inject({ method: 'GET', url: '/v1/brand-new-route', headers: svc.auth }), 403, 'service_not_allowed');
    expectError(await app.inject({ method: 'POST', url: '/v1/brand-new-route', headers: svc.auth, payload: {} }), 403, 'service_not_allowed');
    expect((await app.inject({ method: 'GET', url: '/v1/brand-new-route', headers: admin.auth })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/v1/brand-new-open-route', headers: svc.auth })).statusCode).toBe(200);
  });

  it('a revoked credential is a 401 from the next request; revoking twice says so; unknown ids are 404', async () => {
    const svc = await issue();
    expect((await app.inject({ method: 'GET', url: '/v1/resources', headers: svc.auth })).statusCode).toBe(200);
    const revoked = await app.inject({ method: 'DELETE', url: `/v1/service-credentials/${svc.id}`, headers: admin.auth });
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(json(revoked)).toMatchObject({ id: svc.id, alreadyRevoked: false });
    expect(json(revoked).revokedAt).toBeTruthy();
    expectError(await app.inject({ method: 'GET', url: '/v1/resources', headers: svc.auth }), 401, 'invalid_token');
    expectError(await app.inject({ method: 'POST', url: '/v1/resources', headers: svc.auth, payload: { kind: 'tool', name: 'x', ownerId: String(owner.user._id) } }), 401, 'invalid_token');
    const again = await app.inject({ method: 'DELETE', url: `/v1/service-credentials/${svc.id}`, headers: admin.auth });
    expect(json(again)).toMatchObject({ alreadyRevoked: true });
    expect(await h.ctx.models.AuditEvent.countDocuments({ action: 'service_credential.revoked', 'details.credentialId': svc.id })).toBe(1);
    expectError(await app.inject({ method: 'DELETE', url: '/v1/service-credentials/BBBBBBBBBBBBBBBB', headers: admin.auth }), 404, 'service_credential_not_found');
    expectError(await app.inject({ method: 'DELETE', url: '/v1/service-credentials/not-an-id', headers: admin.auth }), 400, 'invalid_request');
    const listed = json(await app.inject({ method: 'GET', url: '/v1/service-credentials', headers: admin.auth })).credentials;
    expect(listed.map((c: { id: string }) => c.id)).not.toContain(svc.id);
    const all = json(await app.inject({ method: 'GET', url: '/v1/service-credentials?includeRevoked=true', headers: admin.auth })).credentials;
    expect(all.map((c: { id: string }) => c.id)).toContain(svc.id);
  });

  it('a wrong secret for a real credential id, or a made-up credential, is a 401', async () => {
    const svc = await issue();
    const forged = `tsc_${svc.id}_${'A'.repeat(43)}`;
    expectError(await app.inject({ method: 'GET', url: '/v1/resources', headers: { authorization: `Bearer ${forged}` } }), 401, 'invalid_token');
    expectError(await app.inject({ method: 'GET', url: '/v1/resources', headers: { authorization: 'Bearer tsc_short' } }), 401, 'invalid_token');
  });
});

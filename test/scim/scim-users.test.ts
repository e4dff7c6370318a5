/**
 * SCIM reads, updates and errors as Okta and Entra ID send them, against the real app on the
 * MongoDB-wire server: connection tests, userName lookups, paging, PUT round-trips, PATCH with
 * capitalised ops, filter errors and SCIM error bodies.
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { createTestContext, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { createClient } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';
import { ERROR_SCHEMA, PATCH_SCHEMA, SCIM_TOKEN, scimRequest, USER_SCHEMA } from './scim-kit';

let ctx: TestContext;
let client: Client;
let app: App;
let admin: SeededUser;
let ann: SeededUser;
let bob: SeededUser;
let gone: SeededUser;

beforeAll(async () => {
  ctx = await createTestContext('scimusers');
  client = await createClient(ctx);
  app = await createTestApp(ctx, client, { SCIM_BEARER_TOKEN: SCIM_TOKEN, PUBLIC_BASE_URL: 'https://tenure.example.com' });
  admin = await seedUser(ctx.models, { email: 'admin@example.com', siteRole: 'Administrators', firstName: 'Ada', lastName: 'Admin' });
  ann = await seedUser(ctx.models, { email: 'ann.lee@example.com', firstName: 'Ann', lastName: 'Lee' });
  bob = await seedUser(ctx.models, { email: 'bob.ray@example.com', firstName: 'Bob', lastName: 'Ray' });
  gone = await seedUser(ctx.models, { email: 'gone.away@example.com', status: 'deactivated' });
  await seedUser(ctx.models, { email: 'pending.person@example.com', status: 'pending' });
});

afterAll(async () => {
  await app?.close();
  await client?.connection.close();
  await ctx?.close();
});

function expectScimError(res: Awaited<ReturnType<typeof scimRequest>>, status: number, scimType?: string) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
  const body = res.json();
  expect(body.schemas).toEqual([ERROR_SCHEMA]);
  expect(body.status).toBe(String(status));
  expect(body.detail).toMatch(/\w+ \w+/);
  if (scimType) expect(body.scimType).toBe(scimType);
  else expect(body.scimType).toBeUndefined();
}

describe('authentication', () => {
  it('accepts the SCIM token and an Administrator token; refuses none, a wrong one and a non-Administrator with SCIM errors', async () => {
    expect((await scimRequest(app, 'GET', '/Users?count=1')).statusCode).toBe(200);
    expect((await scimRequest(app, 'GET', '/Users?count=1', undefined, admin.token)).statusCode).toBe(200);
    expectScimError(await app.inject({ method: 'GET', url: '/scim/v2/Users' }), 401);
    expectScimError(await scimRequest(app, 'GET', '/Users', undefined, `${SCIM_TOKEN}x`), 401);
    expectScimError(await scimRequest(app, 'GET', '/Users', undefined, ann.token), 403);
    // Without a configured SCIM token, a look-alike is just an unknown token.
    const noScim = await createTestApp(ctx, client);
    try {
      expectScimError(await scimRequest(noScim, 'GET', '/Users'), 401);
    } finally {
      await noScim.close();
    }
  });
});

describe('discovery', () => {
  it('serves ServiceProviderConfig, ResourceTypes and Schemas', async () => {
    const config = await scimRequest(app, 'GET', '/ServiceProviderConfig');
    expect(config.statusCode).toBe(200);
    expect(config.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(config.json()).toMatchObject({ patch: { supported: true }, filter: { supported: true }, bulk: { supported: false } });
    const types = (await scimRequest(app, 'GET', '/ResourceTypes')).json();
    expect(types.Resources[0]).toMatchObject({ id: 'User', endpoint: '/Users', schema: USER_SCHEMA });
    const schemas = (await scimRequest(app, 'GET', '/Schemas')).json();
    expect(schemas.Resources.map((s: { id: string }) => s.id)).toContain(USER_SCHEMA);
    expect((await scimRequest(app, 'GET', `/Schemas/${USER_SCHEMA}`)).json().attributes.map((a: { name: string }) => a.name)).toContain('userName');
    expectScimError(await scimRequest(app, 'GET', '/Schemas/urn:nope'), 404);
    expectScimError(await scimRequest(app, 'GET', '/Groups'), 404);
  });
});

describe('GET /Users', () => {
  it("answers Okta's connection test (startIndex=1&count=2) with a ListResponse page", async () => {
    // Every user in the store, whatever other tests added: at least the five seeded above.
    const total = await ctx.models.User.countDocuments({});
    expect(total).toBeGreaterThanOrEqual(5);
    const res = await scimRequest(app, 'GET', '/Users?startIndex=1&count=2');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: total, startIndex: 1, itemsPerPage: 2 });
    expect(body.Resources).toHaveLength(2);
    const next = (await scimRequest(app, 'GET', '/Users?startIndex=3&count=2')).json();
    expect(next).toMatchObject({ totalResults: total, startIndex: 3, itemsPerPage: 2 });
    const seen = [...body.Resources, ...next.Resources].map((r: { id: string }) => r.id);
    expect(new Set(seen).size).toBe(4);
    const countOnly = (await scimRequest(app, 'GET', '/Users?count=0')).json();
    expect(countOnly).toMatchObject({ totalResults: total, itemsPerPage: 0, Resources: [] });
  });

  it('finds a user by userName (any case), by work email, by id and by externalId joined with and', async () => {
    const byUserName = (await scimRequest(app, 'GET', `/Users?filter=${encodeURIComponent('userName eq "Ann.Lee@Example.com"')}`)).json();
    expect(byUserName.totalResults).toBe(1);
    expect(byUserName.Resources[0]).toMatchObject({
      id: String(ann.user._id),
      userName: 'ann.lee@example.com',
      name: { givenName: 'Ann', familyName: 'Lee' },
      emails: [{ value: 'ann.lee@example.com', type: 'work', primary: true }],
      active: true,
      meta: { resourceType: 'User', location: `https://tenure.example.com/scim/v2/Users/${ann.user._id}` },
    });
    const byEmail = (await scimRequest(app, 'GET', `/Users?filter=${encodeURIComponent('emails[type eq "work"].value eq "bob.ray@example.com"')}`)).json();
    expect(byEmail.Resources.map((r: { id: string }) => r.id)).toEqual([String(bob.user._id)]);
    const homeEmail = (await scimRequest(app, 'GET', `/Users?filter=${encodeURIComponent('emails[type eq "home"].value eq "bob.ray@example.com"')}`)).json();
    expect(homeEmail.totalResults).toBe(0);
    // Entra's connection test looks up a random userName and expects an empty list.
    const nobody = await scimRequest(app, 'GET', `/Users?filter=${encodeURIComponent('userName eq "4b1c8f3e-0000-4000-8000-000000000000"')}`);
    expect(nobody.statusCode).toBe(200);
    expect(nobody.json()).toMatchObject({ totalResults: 0, Resources: [] });

    const linked = await seedUser(ctx.models, { email: 'linked.okta@example.com' });
    await scimRequest(app, 'PATCH', `/Users/${linked.user._id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Add', path: 'externalId', value: 'okta-00u1' }] });
    const both = (await scimRequest(app, 'GET', `/Users?filter=${encodeURIComponent('externalId eq "okta-00u1" and userName eq "linked.okta@example.com"')}`)).json();
    expect(both.Resources.map((r: { id: string; externalId: string }) => [r.id, r.externalId])).toEqual([[String(linked.user._id), 'okta-00u1']]);
    const mismatch = (await scimRequest(app, 'GET', `/Users?filter=${encodeURIComponent('externalId eq "okta-00u1" and userName eq "ann.lee@example.com"')}`)).json();
    expect(mismatch.totalResults).toBe(0);
  });

  it('refuses filters it cannot answer with invalidFilter, and bad paging with invalidValue', async () => {
    for (const filter of ['userName sw "ann"', 'userName eq "a" or userName eq "b"', 'title eq "x"', 'userName eq', 'not (userName eq "a")', 'userName eq "a" and', 'emails[display eq "x"]']) {
      expectScimError(await scimRequest(app, 'GET', `/Users?filter=${encodeURIComponent(filter)}`), 400, 'invalidFilter');
    }
    expectScimError(await scimRequest(app, 'GET', '/Users?count=lots'), 400, 'invalidValue');
  });
});

describe('GET /Users/:id', () => {
  it('returns a deactivated user with active: false, and 404 for unknown or malformed ids', async () => {
    const res = await scimRequest(app, 'GET', `/Users/${gone.user._id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: String(gone.user._id), userName: 'gone.away@example.com', active: false });
    expectScimError(await scimRequest(app, 'GET', '/Users/0123456789abcdef01234567'), 404);
    expectScimError(await scimRequest(app, 'GET', '/Users/not-an-id'), 404);
  });
});

describe('PUT /Users/:id', () => {
  it('round-trips: the resource read, changed and sent back is stored, and omitting active never deactivates', async () => {
    // A user of its own: the tests that read Ann expect her as seeded.
    const ann = await seedUser(ctx.models, { email: 'ann.put@example.com', firstName: 'Ann', lastName: 'Lee' });
    const read = (await scimRequest(app, 'GET', `/Users/${ann.user._id}`)).json();
    const { active: _active, meta: _meta, ...withoutActive } = read;
    const sent = { ...withoutActive, name: { givenName: 'Annie', familyName: 'Lee-Smith' }, title: 'Engineer', externalId: 'entra-42' };
    const res = await scimRequest(app, 'PUT', `/Users/${ann.user._id}`, sent);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: { givenName: 'Annie', familyName: 'Lee-Smith' }, title: 'Engineer', externalId: 'entra-42', active: true });
    const stored = await ctx.models.User.findById(ann.user._id).lean();
    expect(stored).toMatchObject({ firstName: 'Annie', lastName: 'Lee-Smith', title: 'Engineer', status: 'active' });
    expect(stored?.searchTokens).toContain('annie');
    // The same document again changes nothing and writes no audit entry.
    const audits = await ctx.models.AuditEvent.countDocuments({ action: 'user.updated', targetUserId: ann.user._id });
    expect((await scimRequest(app, 'PUT', `/Users/${ann.user._id}`, sent)).statusCode).toBe(200);
    expect(await ctx.models.AuditEvent.countDocuments({ action: 'user.updated', targetUserId: ann.user._id })).toBe(audits);
    expect(audits).toBe(1);
  });

  it('refuses taking another user\'s userName (409 uniqueness) and a body without userName (400)', async () => {
    expectScimError(await scimRequest(app, 'PUT', `/Users/${ann.user._id}`, { schemas: [USER_SCHEMA], userName: 'BOB.RAY@example.com' }), 409, 'uniqueness');
    expectScimError(await scimRequest(app, 'PUT', `/Users/${ann.user._id}`, { schemas: [USER_SCHEMA], name: { givenName: 'x' } }), 400, 'invalidValue');
    expectScimError(await scimRequest(app, 'PUT', `/Users/${ann.user._id}`, '{"userName": '), 400, 'invalidSyntax');
    expectScimError(await scimRequest(app, 'PUT', `/Users/${ann.user._id}`, { schemas: [USER_SCHEMA], userName: 'ann.lee@example.com', active: 'maybe' }), 400, 'invalidValue');
    expect((await ctx.models.User.findById(ann.user._id).lean())?.email).toBe('ann.lee@example.com');
  });
});

describe('PATCH /Users/:id (attributes)', () => {
  it('applies Entra-style capitalised ops with paths and Okta-style ops without a path', async () => {
    const bob = await seedUser(ctx.models, { email: 'bob.patch@example.com', firstName: 'Bob', lastName: 'Ray' });
    const entra = await scimRequest(app, 'PATCH', `/Users/${bob.user._id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [
        { op: 'Replace', path: 'name.givenName', value: 'Robert' },
        { op: 'Add', path: 'title', value: 'Manager' },
        { op: 'Replace', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'Sales' },
        { op: 'Add', path: 'phoneNumbers[type eq "work"].value', value: '+1 555' },
      ],
    });
    expect(entra.statusCode).toBe(200);
    expect(entra.json()).toMatchObject({ name: { givenName: 'Robert', familyName: 'Ray' }, title: 'Manager', active: true });
    const okta = await scimRequest(app, 'PATCH', `/Users/${bob.user._id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { 'name.familyName': 'Raymond', title: 'Director' } }] });
    expect(okta.json()).toMatchObject({ name: { givenName: 'Robert', familyName: 'Raymond' }, title: 'Director' });
    const removed = await scimRequest(app, 'PATCH', `/Users/${bob.user._id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'REMOVE', path: 'title' }] });
    expect(removed.json().title).toBeUndefined();
    expect(await ctx.models.User.findById(bob.user._id).lean()).toMatchObject({ firstName: 'Robert', lastName: 'Raymond', status: 'active' });
  });

  it('refuses unknown ops, missing Operations and removing userName with SCIM errors', async () => {
    expectScimError(await scimRequest(app, 'PATCH', `/Users/${bob.user._id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Move', path: 'title', value: 'x' }] }), 400, 'invalidSyntax');
    expectScimError(await scimRequest(app, 'PATCH', `/Users/${bob.user._id}`, { schemas: [PATCH_SCHEMA] }), 400, 'invalidSyntax');
    expectScimError(await scimRequest(app, 'PATCH', `/Users/${bob.user._id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'remove', path: 'userName' }] }), 400, 'mutability');
    expectScimError(await scimRequest(app, 'PATCH', `/Users/${bob.user._id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: 'perhaps' }] }), 400, 'invalidValue');
    expectScimError(await scimRequest(app, 'PATCH', '/Users/0123456789abcdef01234567', { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'title', value: 'x' }] }), 404);
    expect((await ctx.models.User.findById(bob.user._id).lean())?.status).toBe('active');
  });

  it('accepts plain application/json too', async () => {
    const bob = await seedUser(ctx.models, { email: 'bob.json@example.com' });
    const res = await app.inject({ method: 'PATCH', url: `/scim/v2/Users/${bob.user._id}`, headers: { authorization: `Bearer ${SCIM_TOKEN}`, 'content-type': 'application/json' }, payload: { Operations: [{ op: 'replace', path: 'title', value: 'VP' }] } });
    expect(res.statusCode).toBe(200);
    expect(res.json().title).toBe('VP');
  });
});

describe('deprovisioning oneself', () => {
  it('refuses an Administrator token deprovisioning or deleting its own account: the leaver never starts their own offboarding', async () => {
    const self = await seedUser(ctx.models, { email: 'self.admin@example.com', siteRole: 'Administrators' });
    const deactivate = await scimRequest(app, 'PATCH', `/Users/${self.user._id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }] }, self.token);
    expectScimError(deactivate, 403);
    expectScimError(await scimRequest(app, 'DELETE', `/Users/${self.user._id}`, undefined, self.token), 403);
    // nothing started, nothing marked
    const described = await client.workflow.getHandle(`offboarding:${self.user._id}`).describe().catch(() => null);
    expect(described).toBeNull();
    expect(await ctx.models.ScimLink.countDocuments({ userId: self.user._id, deprovisionedAt: { $exists: true } })).toBe(0);
    expect((await ctx.models.User.findById(self.user._id).lean())?.status).toBe('active');
  });
});

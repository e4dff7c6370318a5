/**
 * SCIM as identity providers and conformance checkers try it from outside: bad addresses and
 * broken text refused with SCIM 400s (never 500), one email rule on every way in, pending
 * invitees reported inactive, 405 on the discovery endpoints, attributes/excludedAttributes,
 * POST .search, stable paging, and PATCH remove that really removes (or says why it cannot).
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEmailAddress } from '../../src/domain/email';
import { hrEventSchema } from '../../src/hr/events';
import type { App } from '../../src/http/app';
import { toScimError } from '../../src/scim/errors';
import { parseOnboard, parsePerson } from '../../src/slack/commands';
import { createTestContext, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { createClient } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';
import { ERROR_SCHEMA, PATCH_SCHEMA, SCIM_CONTENT, SCIM_TOKEN, scimRequest, USER_SCHEMA } from './scim-kit';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const SEARCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
/** Addresses POST, PUT and the API refuse; PATCH stored them. */
const NOT_ADDRESSES = ['not-an-email', '', '   ', 'x@y@z.com', 'a@b', '<script>@x.com', 'x@.com', 'a..b@example.com', 'ann @example.com', 'ann@exa_mple.com'];

let ctx: TestContext;
let client: Client;
let app: App;
let admin: SeededUser;
let carl: SeededUser;

beforeAll(async () => {
  ctx = await createTestContext('scimhard');
  client = await createClient(ctx);
  app = await createTestApp(ctx, client, { SCIM_BEARER_TOKEN: SCIM_TOKEN, PUBLIC_BASE_URL: 'https://tenure.example.com' });
  admin = await seedUser(ctx.models, { email: 'admin@example.com', siteRole: 'Administrators' });
  carl = await seedUser(ctx.models, { email: 'carl.cox@example.com', firstName: 'Carl', lastName: 'Cox' });
});

afterAll(async () => {
  await app?.close();
  await client?.connection.close();
  await ctx?.close();
});

type Res = Awaited<ReturnType<typeof scimRequest>>;

function expectScimError(res: Res, status: number, scimType?: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
  const body = res.json();
  expect(body.schemas).toEqual([ERROR_SCHEMA]);
  expect(body.status).toBe(String(status));
  expect(body.detail).toMatch(/\w+ \w+/);
  if (scimType) expect(body.scimType).toBe(scimType);
}

const patch = (id: unknown, ...Operations: unknown[]) => scimRequest(app, 'PATCH', `/Users/${String(id)}`, { schemas: [PATCH_SCHEMA], Operations });

/** A request with a raw body, for bytes JSON.stringify cannot produce. */
function rawScim(method: 'POST' | 'PUT', url: string, payload: Buffer) {
  return app.inject({ method, url: `/scim/v2${url}`, headers: { authorization: `Bearer ${SCIM_TOKEN}`, 'content-type': SCIM_CONTENT }, payload });
}

describe('hardening #5: bad addresses and broken text over SCIM', () => {
  it('hardening #5: PATCH refuses a userName or email that is not an address with 400 invalidValue, never 500, and changes nothing', async () => {
    const before = await ctx.models.User.findById(carl.user._id).lean();
    for (const bad of NOT_ADDRESSES) {
      expectScimError(await patch(carl.user._id, { op: 'replace', path: 'userName', value: bad }), 400, 'invalidValue');
      expectScimError(await patch(carl.user._id, { op: 'replace', value: { userName: bad } }), 400, 'invalidValue');
      expectScimError(await patch(carl.user._id, { op: 'Replace', path: 'emails', value: [{ value: bad, type: 'work', primary: true }] }), 400, 'invalidValue');
      expectScimError(await patch(carl.user._id, { op: 'Add', path: 'emails[type eq "work"].value', value: bad }), 400, 'invalidValue');
      expectScimError(await patch(carl.user._id, { op: 'replace', value: { emails: [{ value: bad }] } }), 400, 'invalidValue');
    }
    // A good change in the same request is not applied either: nothing is half done.
    expectScimError(await patch(carl.user._id, { op: 'replace', path: 'title', value: 'Chief' }, { op: 'replace', path: 'userName', value: 'x@y@z.com' }), 400, 'invalidValue');
    const after = await ctx.models.User.findById(carl.user._id).lean();
    expect(after).toMatchObject({ email: before!.email, emailDomain: 'example.com' });
    expect(after?.title).toBeUndefined();
    expect(after?.updatedAt).toEqual(before!.updatedAt);
  });

  it('hardening #5: POST, PUT and PATCH refuse user names and text with NUL, control characters, lone surrogates or invalid UTF-8', async () => {
    const users = await ctx.models.User.countDocuments();
    const post = (body: Record<string, unknown>) => scimRequest(app, 'POST', '/Users', { schemas: [USER_SCHEMA], ...body });
    for (const userName of ['ann\u0000@example.com', 'ann\u0007lee@example.com', 'ann\u200b\ud800@example.com', 'ann\ufffd@example.com']) {
      expectScimError(await post({ userName }), 400, 'invalidValue');
    }
    for (const bad of ['Ann\u0000', 'Ann\u001b[31m', 'Ann\ud800', 'Ann\udc00x', 'A\u0085nn', 'Ann\ufffd']) {
      expectScimError(await post({ userName: 'new.person@example.com', name: { givenName: bad } }), 400, 'invalidValue');
      expectScimError(await post({ userName: 'new.person@example.com', name: { familyName: bad } }), 400, 'invalidValue');
      expectScimError(await post({ userName: 'new.person@example.com', title: bad }), 400, 'invalidValue');
      expectScimError(await post({ userName: 'new.person@example.com', displayName: bad }), 400, 'invalidValue');
      expectScimError(await post({ userName: 'new.person@example.com', externalId: bad }), 400, 'invalidValue');
      expectScimError(await scimRequest(app, 'PUT', `/Users/${carl.user._id}`, { schemas: [USER_SCHEMA], userName: 'carl.cox@example.com', name: { givenName: bad } }), 400, 'invalidValue');
      expectScimError(await patch(carl.user._id, { op: 'replace', path: 'name.familyName', value: bad }), 400, 'invalidValue');
      expectScimError(await patch(carl.user._id, { op: 'replace', value: { title: bad } }), 400, 'invalidValue');
    }
    // Bytes that are not UTF-8 (0xFF, an overlong "/") inside the JSON strings.
    const invalidUtf8 = Buffer.concat([Buffer.from(`{"schemas":["${USER_SCHEMA}"],"userName":"bytes`), Buffer.from([0xff, 0xfe]), Buffer.from('@example.com"}')]);
    expectScimError(await rawScim('POST', '/Users', invalidUtf8), 400, 'invalidValue');
    const overlong = Buffer.concat([Buffer.from(`{"schemas":["${USER_SCHEMA}"],"userName":"carl.cox@example.com","name":{"givenName":"C`), Buffer.from([0xc0, 0xaf]), Buffer.from('"}}')]);
    expectScimError(await rawScim('PUT', `/Users/${carl.user._id}`, overlong), 400, 'invalidValue');
    expect(await ctx.models.User.countDocuments()).toBe(users);
    expect(await ctx.models.User.findById(carl.user._id).lean()).toMatchObject({ firstName: 'Carl', lastName: 'Cox' });
  });

  it('hardening #5: a mongoose validation or cast error on a SCIM route is a SCIM 400 invalidValue, not a 500', () => {
    const invalid = new ctx.models.User({ email: 'x' }).validateSync();
    expect(invalid?.name).toBe('ValidationError');
    const mapped = toScimError(invalid);
    expect(mapped).toMatchObject({ status: 400, internal: false, body: { schemas: [ERROR_SCHEMA], status: '400', scimType: 'invalidValue' } });
    expect(mapped.body.detail).not.toMatch(/Path `|validation failed/i);
    const cast = new ctx.models.User({ managerId: 'nope' }).validateSync()?.errors.managerId;
    expect(cast?.name).toBe('CastError');
    expect(toScimError(cast)).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
  });

  it('hardening #5: the API, Slack and HR intake refuse the same addresses as SCIM (one email rule)', async () => {
    for (const bad of NOT_ADDRESSES.filter((a) => a.trim())) {
      expect(isEmailAddress(bad), bad).toBe(false);
      const api = await app.inject({ method: 'POST', url: '/v1/users', headers: admin.auth, payload: { email: bad } });
      expect(api.statusCode, `API ${bad}`).toBe(400);
      expect(parseOnboard(bad).ok, `/onboard ${bad}`).toBe(false);
      expect(parsePerson(bad), `/offboard ${bad}`).toBeUndefined();
      const event = { eventId: 'e-1', type: 'employee.hired', occurredAt: '2026-01-01T00:00:00Z', employee: { id: 'E1', email: bad } };
      expect(hrEventSchema.safeParse(event).success, `HR ${bad}`).toBe(false);
      expect(hrEventSchema.safeParse({ ...event, employee: { id: 'E1', managerEmail: bad } }).success, `HR manager ${bad}`).toBe(false);
    }
    // and the same good address is accepted everywhere, normalised.
    expect(parseOnboard('Dana.Doe@Example.com')).toMatchObject({ ok: true, value: { email: 'dana.doe@example.com' } });
    expect(hrEventSchema.parse({ eventId: 'e-2', type: 'employee.hired', occurredAt: '2026-01-01T00:00:00Z', employee: { id: 'E2', email: ' Dana.Doe@Example.com ' } }).employee.email).toBe('dana.doe@example.com');
  });
});

describe('hardening #18: pending invitees over SCIM', () => {
  it('hardening #18: a pending invitee reads active:false over SCIM as over /v1, and active=true leaves the invitation standing', async () => {
    const pending = await seedUser(ctx.models, { email: 'pending.invitee@example.com', status: 'pending' });
    const id = String(pending.user._id);
    const v1 = await app.inject({ method: 'GET', url: `/v1/users/${id}`, headers: admin.auth });
    expect(v1.json()).toMatchObject({ status: 'pending', active: false });
    expect((await scimRequest(app, 'GET', `/Users/${id}`)).json()).toMatchObject({ id, active: false });
    const listed = (await scimRequest(app, 'GET', `/Users?filter=${encodeURIComponent('userName eq "pending.invitee@example.com"')}`)).json();
    expect(listed.Resources[0]).toMatchObject({ id, active: false });
    // An identity provider re-asserting active=true changes nothing: access starts when the invitation is accepted.
    const asserted = await patch(id, { op: 'replace', path: 'active', value: true });
    expect(asserted.statusCode).toBe(200);
    expect(asserted.json().active).toBe(false);
    expect((await ctx.models.User.findById(id).lean())?.status).toBe('pending');
    expect(await client.workflow.getHandle(`reactivation:${id}`).describe().catch(() => 'none')).toBe('none');
    // An active user still reads active:true.
    expect((await scimRequest(app, 'GET', `/Users/${carl.user._id}`)).json().active).toBe(true);
  });
});

describe('hardening #19: SCIM as conformance checkers try it', () => {
  it('hardening #19: methods other than GET on ServiceProviderConfig, ResourceTypes and Schemas get 405 with Allow: GET, HEAD', async () => {
    for (const url of ['/ServiceProviderConfig', '/ResourceTypes', '/ResourceTypes/User', '/Schemas', `/Schemas/${USER_SCHEMA}`, '/Schemas/urn:nope']) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
        const res = await scimRequest(app, method, url, method === 'DELETE' ? undefined : {});
        expectScimError(res, 405);
        expect(res.headers.allow, `${method} ${url}`).toBe('GET, HEAD');
      }
      expect((await scimRequest(app, 'GET', url)).statusCode).toBe(url === '/Schemas/urn:nope' ? 404 : 200);
    }
    // Authentication still comes first.
    expectScimError(await app.inject({ method: 'POST', url: '/scim/v2/Schemas' }), 401);
  });

  it('hardening #19: attributes and excludedAttributes shape GET, list, PUT and PATCH responses; id and schemas always come back', async () => {
    const id = String(carl.user._id);
    const only = (await scimRequest(app, 'GET', `/Users/${id}?attributes=userName,name.givenName`)).json();
    expect(only).toEqual({ schemas: expect.arrayContaining([USER_SCHEMA]), id, userName: 'carl.cox@example.com', name: { givenName: 'Carl' } });
    const withUrn = (await scimRequest(app, 'GET', `/Users/${id}?attributes=${encodeURIComponent(`${USER_SCHEMA}:emails.value,Active`)}`)).json();
    expect(withUrn).toEqual({ schemas: expect.any(Array), id, emails: [{ value: 'carl.cox@example.com' }], active: true });
    const without = (await scimRequest(app, 'GET', `/Users/${id}?excludedAttributes=name,emails,meta,id`)).json();
    expect(without).toMatchObject({ id, userName: 'carl.cox@example.com', active: true });
    expect(without.name).toBeUndefined();
    expect(without.emails).toBeUndefined();
    expect(without.meta).toBeUndefined();
    const list = (await scimRequest(app, 'GET', `/Users?filter=${encodeURIComponent('userName eq "carl.cox@example.com"')}&attributes=userName`)).json();
    expect(list.Resources).toEqual([{ schemas: expect.any(Array), id, userName: 'carl.cox@example.com' }]);
    const excludedList = (await scimRequest(app, 'GET', `/Users?filter=${encodeURIComponent('id eq "' + id + '"')}&excludedAttributes=name`)).json();
    expect(excludedList.Resources[0].name).toBeUndefined();
    expect(excludedList.Resources[0].userName).toBe('carl.cox@example.com');
    const patched = await scimRequest(app, 'PATCH', `/Users/${id}?attributes=title`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'title', value: 'Lead' }] });
    expect(patched.json()).toEqual({ schemas: expect.any(Array), id, title: 'Lead' });
    const put = await scimRequest(app, 'PUT', `/Users/${id}?excludedAttributes=emails,name`, { schemas: [USER_SCHEMA], userName: 'carl.cox@example.com', name: { givenName: 'Carl', familyName: 'Cox' }, title: 'Lead' });
    expect(put.json()).toMatchObject({ id, userName: 'carl.cox@example.com', title: 'Lead' });
    expect(put.json().emails).toBeUndefined();
    expect(put.json().name).toBeUndefined();
    expectScimError(await scimRequest(app, 'GET', `/Users/${id}?attributes=${'a'.repeat(5000)}`), 400, 'invalidValue');
  });

  it('hardening #19: POST /Users/.search and /.search take a SearchRequest with filter, paging and attributes', async () => {
    const search = (url: string, body: unknown) => scimRequest(app, 'POST', url, body);
    const res = await search('/Users/.search', { schemas: [SEARCH_SCHEMA], filter: 'userName eq "carl.cox@example.com"', attributes: ['userName', 'name.familyName'], startIndex: 1, count: 10 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 1,
      startIndex: 1,
      itemsPerPage: 1,
      Resources: [{ schemas: expect.any(Array), id: String(carl.user._id), userName: 'carl.cox@example.com', name: { familyName: 'Cox' } }],
    });
    const root = (await search('/.search', { schemas: [SEARCH_SCHEMA], excludedAttributes: ['emails'], count: 1000 })).json();
    expect(root.totalResults).toBe(await ctx.models.User.countDocuments());
    expect(root.Resources.every((r: { emails?: unknown; userName: string; meta: { resourceType: string } }) => r.emails === undefined && r.userName && r.meta.resourceType === 'User')).toBe(true);
    const none = (await search('/Users/.search', { schemas: [SEARCH_SCHEMA], count: 0 })).json();
    expect(none).toMatchObject({ totalResults: root.totalResults, itemsPerPage: 0, Resources: [] });
    expectScimError(await search('/Users/.search', { schemas: ['urn:nope'] }), 400, 'invalidSyntax');
    expectScimError(await search('/Users/.search', { schemas: [SEARCH_SCHEMA], filter: 'title co "x"' }), 400, 'invalidFilter');
    expectScimError(await search('/Users/.search', { schemas: [SEARCH_SCHEMA], count: 'ten' }), 400, 'invalidValue');
    expectScimError(await search('/Users/.search', { schemas: [SEARCH_SCHEMA], attributes: 'userName' }), 400, 'invalidValue');
    expectScimError(await search('/Users/.search', '[1,2]'), 400, 'invalidSyntax');
    expectScimError(await app.inject({ method: 'POST', url: '/scim/v2/Users/.search', payload: { schemas: [SEARCH_SCHEMA] } }), 401);
  });

  it('hardening #19: paging through every user finds each exactly once, a just-created user on the first page', async () => {
    // Many users written in the same millisecond (a bulk import): the order must still be total.
    const at = new Date('2026-03-01T00:00:00Z');
    await ctx.models.User.collection.insertMany(
      Array.from({ length: 230 }, (_, i) => ({ email: `bulk-${String(i).padStart(3, '0')}@example.com`, emailDomain: 'example.com', firstName: 'Bulk', lastName: String(i), status: 'active', siteRole: 'Users', createdAt: at, updatedAt: at })),
    );
    const fresh = await seedUser(ctx.models, { email: 'just.created@example.com' });
    const total = await ctx.models.User.countDocuments();
    for (const count of [7, 100, 1000]) {
      const seen: string[] = [];
      for (let startIndex = 1; ; ) {
        const page = (await scimRequest(app, 'GET', `/Users?startIndex=${startIndex}&count=${count}&attributes=id`)).json();
        expect(page.totalResults).toBe(total);
        expect(page.startIndex).toBe(startIndex);
        seen.push(...page.Resources.map((r: { id: string }) => r.id));
        if (page.itemsPerPage === 0 || startIndex + page.itemsPerPage > total) break;
        startIndex += page.itemsPerPage;
      }
      expect(seen.length, `count=${count}`).toBe(total);
      expect(new Set(seen).size, `count=${count}`).toBe(total);
    }
    // A list without paging parameters (what checkers and connection tests send) shows the newest user.
    const first = (await scimRequest(app, 'GET', '/Users')).json();
    expect(first.Resources.map((r: { id: string }) => r.id)).toContain(String(fresh.user._id));
  });

  it('hardening #19: PATCH remove of name clears it; of the enterprise extension or its attributes answers 400 mutability, never silently', async () => {
    const manager = await seedUser(ctx.models, { email: 'the.manager@example.com' });
    const dora = await seedUser(ctx.models, { email: 'dora.day@example.com', firstName: 'Dora', lastName: 'Day', managerId: manager.user._id, hrEmployeeId: 'E-77' });
    const id = String(dora.user._id);
    expect((await scimRequest(app, 'GET', `/Users/${id}`)).json()).toMatchObject({ name: { givenName: 'Dora', familyName: 'Day' }, [ENTERPRISE]: { employeeNumber: 'E-77', manager: { value: String(manager.user._id) } } });
    const onlyManager = (await scimRequest(app, 'GET', `/Users/${id}?attributes=${encodeURIComponent(`${ENTERPRISE}:manager.value`)}`)).json();
    expect(onlyManager).toEqual({ schemas: [USER_SCHEMA, ENTERPRISE], id, [ENTERPRISE]: { manager: { value: String(manager.user._id) } } });
    const noExtension = (await scimRequest(app, 'GET', `/Users/${id}?excludedAttributes=${encodeURIComponent(ENTERPRISE)}`)).json();
    expect(noExtension[ENTERPRISE]).toBeUndefined();
    expect(noExtension.schemas).toEqual([USER_SCHEMA]);

    const removed = await patch(id, { op: 'remove', path: 'name' });
    expect(removed.statusCode).toBe(200);
    expect(removed.json().name).toBeUndefined();
    expect((await scimRequest(app, 'GET', `/Users/${id}`)).json().name).toBeUndefined();
    expect(await ctx.models.User.findById(id).lean()).toMatchObject({ firstName: '', lastName: '' });
    expect((await patch(id, { op: 'add', path: 'name', value: { givenName: 'Dora' } })).json().name).toEqual({ givenName: 'Dora' });
    expect((await patch(id, { op: 'remove', path: 'name.givenName' })).json().name).toBeUndefined();

    for (const path of [ENTERPRISE, `${ENTERPRISE}:manager`, `${ENTERPRISE}:manager.value`, `${ENTERPRISE}:employeeNumber`]) {
      expectScimError(await patch(id, { op: 'remove', path }), 400, 'mutability');
      expectScimError(await patch(id, { op: 'replace', path, value: path === ENTERPRISE ? { employeeNumber: 'E-1' } : 'x' }), 400, 'mutability');
    }
    expectScimError(await patch(id, { op: 'replace', value: { [ENTERPRISE]: { manager: { value: String(carl.user._id) } } } }), 400, 'mutability');
    for (const path of ['displayName', 'name.formatted', 'id', 'meta']) expectScimError(await patch(id, { op: 'remove', path }), 400, 'mutability');
    expect(await ctx.models.User.findById(id).lean()).toMatchObject({ hrEmployeeId: 'E-77', managerId: manager.user._id });
    // Enterprise attributes tenure does not keep are still accepted and dropped (Entra sends them).
    expect((await patch(id, { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Sales' })).statusCode).toBe(200);
    // A user without HR attributes carries no empty extension.
    const plain = (await scimRequest(app, 'GET', `/Users/${carl.user._id}`)).json();
    expect(plain[ENTERPRISE]).toBeUndefined();
    expect(plain.schemas).toEqual([USER_SCHEMA]);
  });
});

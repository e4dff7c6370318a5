/**
 * Hostile and malformed input: every case is a 4xx with the error body, and the store is the
 * same afterwards (no user, resource, group, token or audit event changed).
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedResource, seedUser, storeSnapshot, type SeededUser } from '../helpers/users';
import { json, openHarness, type Harness } from './harness';

let h: Harness;
let admin: SeededUser;
let target: SeededUser;
let resourceId: string;
let snapshot: string;

const storeState = () => storeSnapshot(h.ctx.models);

beforeAll(async () => {
  h = await openHarness('usersbad');
  admin = await seedUser(h.ctx.models, { email: 'admin@bad.test', siteRole: 'Administrators' });
  target = await seedUser(h.ctx.models, { email: 'Target.Person@bad.test' });
  // A long run of one letter: the input a backtracking pattern would choke on.
  await seedUser(h.ctx.models, { email: `${'a'.repeat(64)}@bad.test` });
  resourceId = String((await seedResource(h.ctx.models, target.user._id))._id);
});

beforeEach(async () => {
  snapshot = await storeState();
});

afterAll(async () => {
  await h?.close();
});

type Request = InjectOptions & { url: string; headers?: Record<string, string> };

/** Sends the request as the administrator and returns the answer. */
function send(req: Request) {
  return h.app.inject({ ...req, headers: { ...admin.auth, ...(req.headers ?? {}) } });
}

/** Asserts an error answer: this status, the `{error:{code,message}}` body with this code and a sentence. */
function expectError(res: Awaited<ReturnType<typeof send>>, status: number, code: string | RegExp, what: string) {
  expect(res.statusCode, `${what}: ${res.body}`).toBe(status);
  const body = json(res);
  expect(body.error.code).toMatch(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(5);
}

/** Asserts the store is as it was before the test: no user, resource, group, token or audit event changed. */
async function expectStoreUnchanged() {
  expect(await storeState()).toBe(snapshot);
}

/** A refusal: the error answer, and the store unchanged by the request. */
async function expectRefused(req: Request, status: number, code: string | RegExp) {
  expectError(await send(req), status, code, `${req.method} ${req.url}`);
  await expectStoreUnchanged();
}

describe('request bodies', () => {
  it('malformed JSON is 400 malformed_json', async () => {
    await expectRefused({ method: 'PUT', url: `/v1/users/${target.user._id}/site-role`, payload: '{"siteRole": "Users"', headers: { 'content-type': 'application/json' } }, 400, 'malformed_json');
    await expectRefused({ method: 'POST', url: '/v1/groups', payload: '', headers: { 'content-type': 'application/json' } }, 400, 'malformed_json');
  });

  it('operator objects where strings belong are 400', async () => {
    await expectRefused({ method: 'PUT', url: `/v1/users/${target.user._id}/site-role`, payload: { siteRole: { $gt: '' } } }, 400, 'invalid_request');
    await expectRefused({ method: 'POST', url: `/v1/resources/${resourceId}/transfer`, payload: { newOwnerId: { $ne: null } } }, 400, 'invalid_request');
    await expectRefused({ method: 'POST', url: '/v1/sessions/introspect', payload: { session: { $gt: '' } } }, 400, 'invalid_request');
    await expectRefused({ method: 'POST', url: '/v1/users/bulk/site-role', payload: { ids: [{ $gt: '' }], siteRole: 'Users' } }, 400, 'invalid_request');
    await expectRefused({ method: 'POST', url: '/v1/groups', payload: { name: { $gt: '' } } }, 400, 'invalid_request');
  });

  it('unknown keys, unknown roles and wrong types are 400', async () => {
    await expectRefused({ method: 'PUT', url: `/v1/users/${target.user._id}/site-role`, payload: { siteRole: 'Users', status: 'active' } }, 400, 'invalid_request');
    await expectRefused({ method: 'PUT', url: `/v1/users/${target.user._id}/site-role`, payload: { siteRole: 'Root' } }, 400, 'invalid_request');
    await expectRefused({ method: 'PUT', url: `/v1/users/${target.user._id}/site-role`, payload: { siteRole: 'administrators' } }, 400, 'invalid_request');
    await expectRefused({ method: 'PUT', url: `/v1/users/${target.user._id}/site-role`, payload: {} }, 400, 'invalid_request');
    await expectRefused({ method: 'PUT', url: `/v1/users/${target.user._id}/site-role`, payload: ['Users'] }, 400, 'invalid_request');
    await expectRefused({ method: 'POST', url: '/v1/users/bulk/site-role', payload: { ids: [], siteRole: 'Users' } }, 400, 'invalid_request');
    await expectRefused({ method: 'POST', url: '/v1/users/bulk/site-role', payload: { ids: ['xyz'], siteRole: 'Users' } }, 400, 'invalid_request');
    await expectRefused({ method: 'POST', url: `/v1/users/${target.user._id}/tokens`, payload: { expiresInDays: 0 } }, 400, 'invalid_request');
    await expectRefused({ method: 'POST', url: `/v1/users/${target.user._id}/tokens`, payload: { scope: ['api', 'DROP TABLE'] } }, 400, 'invalid_request');
    await expectRefused({ method: 'POST', url: '/v1/groups', payload: { name: 'x'.repeat(101) } }, 400, 'invalid_request');
    await expectRefused({ method: 'POST', url: '/v1/groups', payload: { name: '$where' } }, 400, 'invalid_request');
    await expectRefused({ method: 'POST', url: '/v1/sessions/introspect', payload: { session: 'x'.repeat(201) } }, 400, 'invalid_request');
  });

  it('an oversized body is 413 and a non-JSON content type 415', async () => {
    const ids = Array.from({ length: 60_000 }, () => '0123456789abcdef01234567');
    await expectRefused({ method: 'POST', url: '/v1/users/bulk/site-role', payload: { ids, siteRole: 'Users' } }, 413, 'payload_too_large');
    await expectRefused({ method: 'PUT', url: `/v1/users/${target.user._id}/site-role`, payload: 'siteRole=Users', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported_media_type');
  });
});

describe('path parameters', () => {
  it('malformed ids are 400 and unknown ones 404', async () => {
    await expectRefused({ method: 'GET', url: '/v1/users/123' }, 400, 'invalid_id');
    await expectRefused({ method: 'GET', url: `/v1/users/${encodeURIComponent('{"$gt":""}')}` }, 400, 'invalid_id');
    await expectRefused({ method: 'POST', url: '/v1/users/zzzzzzzzzzzzzzzzzzzzzzzz/deactivate' }, 400, 'invalid_id');
    await expectRefused({ method: 'GET', url: '/v1/resources/not-an-id' }, 400, 'invalid_request');
    await expectRefused({ method: 'POST', url: '/v1/resources/0123456789abcdef0123456g/transfer', payload: { newOwnerId: String(admin.user._id) } }, 400, 'invalid_request');
    await expectRefused({ method: 'DELETE', url: '/v1/users/0123456789abcdef01234567' }, 404, 'user_not_found');
    await expectRefused({ method: 'GET', url: `/v1/users/${'a'.repeat(300)}@bad.test` }, 400, 'invalid_request');
    await expectRefused({ method: 'GET', url: `/v1/users/${'a'.repeat(2000)}@bad.test` }, 414, 'uri_too_long');
    await expectRefused({ method: 'GET', url: '/v1/users/%E0%A4%A' }, 400, /^(bad_url|invalid_request|invalid_id)$/);
  });

  it('an email in the path matches case-insensitively', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/users/TARGET.PERSON@BAD.TEST', headers: admin.auth });
    expect(res.statusCode).toBe(200);
    expect(json(res)._id).toBe(String(target.user._id));
  });
});

describe('query strings and patterns', () => {
  const hostile = ['(a+)+$', '.*.*.*.*', '*.*.*.*', '**********@bad.test', 'a*b*c*d*e*f@bad.test', `${'a'.repeat(300)}*`, '*', '*@*', '[a-z]*@bad.test', 'a\\*', '^admin.*', 'x y*', '$where*'];
  for (const pattern of hostile) {
    it(`refuses the pattern ${pattern.slice(0, 30)} on search, active and list`, async () => {
      const q = encodeURIComponent(pattern);
      await expectRefused({ method: 'GET', url: `/v1/users/search?email=${q}` }, 400, /^(invalid_pattern|invalid_request)$/);
      await expectRefused({ method: 'GET', url: `/v1/users/active?email=${q}` }, 400, /^(invalid_pattern|invalid_request)$/);
      await expectRefused({ method: 'GET', url: `/v1/users?email=${q}` }, 400, /^(invalid_pattern|invalid_request)$/);
    });
  }

  it('refuses operator-shaped, repeated and unknown query parameters', async () => {
    await expectRefused({ method: 'GET', url: '/v1/users/search?email[$gt]=' }, 400, 'invalid_request');
    await expectRefused({ method: 'GET', url: '/v1/users/search?email=a@bad.test&email=b@bad.test' }, 400, 'invalid_request');
    await expectRefused({ method: 'GET', url: '/v1/users/search?email=a@bad.test&role=x' }, 400, 'invalid_request');
    await expectRefused({ method: 'GET', url: '/v1/users/search' }, 400, 'invalid_request');
    await expectRefused({ method: 'GET', url: '/v1/users?status=gone' }, 400, 'invalid_request');
    await expectRefused({ method: 'GET', url: '/v1/users?siteRole=Root' }, 400, 'invalid_request');
    await expectRefused({ method: 'GET', url: '/v1/users?sort=password' }, 400, 'invalid_request');
    await expectRefused({ method: 'GET', url: `/v1/users?q=${'x'.repeat(101)}` }, 400, 'invalid_request');
    await expectRefused({ method: 'GET', url: '/v1/users?q=a%20b%20c%20d%20e%20f' }, 400, 'invalid_query');
    await expectRefused({ method: 'GET', url: `/v1/resources?ownerId=${encodeURIComponent('{"$ne":null}')}` }, 400, 'invalid_request');
    await expectRefused({ method: 'GET', url: `/v1/users/${target.user._id}/activity?action=${encodeURIComponent('$where')}` }, 400, 'invalid_request');
  });

  for (const bad of ['0', '-1', '201', '1e3', 'abc', '', '1.5', '99999999999']) {
    it(`refuses limit=${bad}`, async () => {
      await expectRefused({ method: 'GET', url: `/v1/users?limit=${bad}` }, 400, 'invalid_request');
    });
  }

  it('refuses an offset beyond the bound and id lists longer than 100', async () => {
    await expectRefused({ method: 'GET', url: '/v1/users?offset=100001' }, 400, 'invalid_request');
    const ids = Array.from({ length: 101 }, (_, i) => i.toString(16).padStart(24, '0')).join(',');
    await expectRefused({ method: 'GET', url: `/v1/users/active?id=${ids}` }, 400, 'invalid_request');
  });

  it('an exact pattern with regex characters is matched literally', async () => {
    const res = await h.app.inject({ method: 'GET', url: `/v1/users/search?email=${encodeURIComponent('target.person@bad.tes.')}`, headers: admin.auth });
    expect(res.statusCode).toBe(404);
    const wild = await h.app.inject({ method: 'GET', url: `/v1/users/search?email=${encodeURIComponent('target.person@bad.te*')}`, headers: admin.auth });
    expect(json(wild)._id).toBe(String(target.user._id));
    // "." is literal: "targetXperson" must not match "target.person".
    const dot = await h.app.inject({ method: 'GET', url: `/v1/users/search?email=${encodeURIComponent('target.pers*')}`, headers: admin.auth });
    expect(dot.statusCode).toBe(200);
    const noDot = await h.app.inject({ method: 'GET', url: `/v1/users/search?email=${encodeURIComponent('targetxpers*')}`, headers: admin.auth });
    expect(noDot.statusCode).toBe(404);
  });
});

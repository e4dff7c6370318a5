/**
 * The resource API for people and services: create, update and delete, with an Idempotency-Key
 * that the store's unique index settles (sequential and concurrent retries), and the refusals
 * (owner, kind, unknown fields, non-JSON, role) that write nothing.
 */
import { randomUUID } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedResource, seedUser, type SeededUser } from '../helpers/users';
import { json, openHarness, type Harness } from '../users/harness';

let h: Harness;
let admin: SeededUser;
let owner: SeededUser;
let plain: SeededUser;
let service: { authorization: string };
let serviceName: string;

beforeAll(async () => {
  h = await openHarness('resourcesapi');
  admin = await seedUser(h.ctx.models, { siteRole: 'Administrators' });
  owner = await seedUser(h.ctx.models, { firstName: 'Olga', lastName: 'Owner' });
  plain = await seedUser(h.ctx.models, { siteRole: 'PowerUsers' });
  serviceName = `CI ${randomUUID().slice(0, 4)}`;
  const issued = await h.app.inject({ method: 'POST', url: '/v1/service-credentials', headers: admin.auth, payload: { name: serviceName } });
  expect(issued.statusCode, issued.body).toBe(201);
  service = { authorization: `Bearer ${json(issued).credential}` };
});

afterAll(async () => {
  await h?.close();
});

const models = () => h.ctx.models;

function create(payload: unknown, headers: Record<string, string> = admin.auth, key?: string) {
  return h.app.inject({ method: 'POST', url: '/v1/resources', headers: { ...headers, ...(key ? { 'idempotency-key': key } : {}) }, payload: payload as InjectOptions['payload'] });
}

function body(name = `pipe-${randomUUID().slice(0, 6)}`) {
  return { kind: 'pipeline', name, ownerId: String(owner.user._id) };
}

/** What a refused request must leave as it was: resources, audit entries, idempotency keys. */
async function writes() {
  const [resources, audit, keys] = await Promise.all([
    models().Resource.find({}).sort({ _id: 1 }).lean(),
    models().AuditEvent.countDocuments({}),
    models().IdempotencyKey.find({}).sort({ _id: 1 }).lean(),
  ]);
  return JSON.stringify({ resources, audit, keys });
}

function expectError(res: { statusCode: number; body: string }, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  const err = json(res).error;
  expect(err.code).toBe(code);
  expect(err.message.length).toBeGreaterThan(5);
}

describe('create', () => {
  it('registers a resource for an active owner, records the caller as creator and audits it', async () => {
    const res = await create({ ...body('deploy'), description: 'Deploys the web app', externalId: 'gh-42' });
    expect(res.statusCode, res.body).toBe(201);
    const created = json(res);
    expect(created).toMatchObject({ kind: 'pipeline', name: 'deploy', description: 'Deploys the web app', externalId: 'gh-42', ownerId: String(owner.user._id), ownerName: 'Olga Owner', createdBy: String(admin.user._id), createdByService: null });
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    const audit = await models().AuditEvent.find({ action: 'resource.created', 'details.resourceId': created._id }).lean();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorType: 'user', actorEmail: admin.user.email });
    const listed = await h.app.inject({ method: 'GET', url: `/v1/resources?ownerId=${owner.user._id}`, headers: admin.auth });
    expect(json(listed).resources.map((r: { _id: string }) => r._id)).toContain(created._id);
  });

  it('a retry with the same key and body answers the first result and stores one resource', async () => {
    const key = randomUUID();
    const payload = body();
    const first = await create(payload, admin.auth, key);
    expect(first.statusCode, first.body).toBe(201);
    const again = await create(payload, admin.auth, key);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(json(again)).toEqual(json(first));
    expect(await models().Resource.countDocuments({ name: payload.name })).toBe(1);
    expect(await models().AuditEvent.countDocuments({ action: 'resource.created', 'details.name': payload.name })).toBe(1);
  });

  it('concurrent retries with one key (over HTTP, in parallel) make exactly one resource and all get it', async () => {
    // Over real sockets (the harness closes the server with the app).
    const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
    for (let trial = 0; trial < 3; trial++) {
      const key = randomUUID();
      const payload = body();
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          fetch(`${address}/v1/resources`, { method: 'POST', headers: { ...service, 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(payload) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { _id: string } })),
        ),
      );
      for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(201);
      expect(new Set(answers.map((a) => a.body._id)).size).toBe(1);
      expect(await models().Resource.countDocuments({ name: payload.name })).toBe(1);
      expect(await models().AuditEvent.countDocuments({ action: 'resource.created', 'details.name': payload.name })).toBe(1);
    }
  });

  it('the same key with a different body is refused and writes nothing', async () => {
    const key = randomUUID();
    const first = await create(body(), admin.auth, key);
    expect(first.statusCode).toBe(201);
    const before = await writes();
    expectError(await create(body(), admin.auth, key), 422, 'idempotency_key_reused');
    expectError(await create({ ...body(), kind: 'tool' }, admin.auth, key), 422, 'idempotency_key_reused');
    expect(await writes()).toBe(before);
  });

  it('a claim left by a request that died is taken over and finished on the same resource id', async () => {
    const key = randomUUID();
    const payload = body();
    const first = await create(payload, admin.auth, key);
    const id = json(first)._id;
    // As if the process had died after claiming the key and before storing anything.
    await models().Resource.deleteOne({ _id: id });
    await models().IdempotencyKey.updateOne({ key }, { $unset: { completedAt: '', status: '', body: '' }, $set: { claimedAt: new Date(Date.now() - 3_600_000) } });
    const retry = await create(payload, admin.auth, key);
    expect(retry.statusCode, retry.body).toBe(201);
    expect(json(retry)._id).toBe(id);
    expect(await models().Resource.countDocuments({ name: payload.name })).toBe(1);
    expect((await models().IdempotencyKey.findOne({ key }).lean())!.completedAt).toBeTruthy();
  });

  it('a retry while the first request is still at work waits for its answer', async () => {
    const key = randomUUID();
    const payload = body();
    const first = await create(payload, admin.auth, key);
    // As if the first request were still working: claimed just now, no answer yet.
    const kept = (await models().IdempotencyKey.findOne({ key }).lean())!;
    await models().IdempotencyKey.updateOne({ key }, { $unset: { completedAt: '', status: '', body: '' }, $set: { claimedAt: new Date() } });
    const retry = create(payload, admin.auth, key);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await models().IdempotencyKey.updateOne({ key }, { $set: { completedAt: new Date(), status: kept.status, body: kept.body } });
    const answered = await retry;
    expect(answered.statusCode).toBe(201);
    expect(answered.headers['idempotent-replayed']).toBe('true');
    expect(json(answered)).toEqual(json(first));
    expect(await models().Resource.countDocuments({ name: payload.name })).toBe(1);
  });

  it('keys are per caller: the same key from another caller is a separate request', async () => {
    const key = randomUUID();
    const a = await create(body(), admin.auth, key);
    const b = await create(body(), service, key);
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(json(a)._id).not.toBe(json(b)._id);
  });

  it('a refusal frees its key: the same request succeeds with it once the reason is gone', async () => {
    const waiting = await seedUser(models(), { status: 'pending' });
    const key = randomUUID();
    const payload = { ...body(), ownerId: String(waiting.user._id) };
    expectError(await create(payload, admin.auth, key), 422, 'owner_inactive');
    expect(await models().IdempotencyKey.countDocuments({ key })).toBe(0);
    await models().User.updateOne({ _id: waiting.user._id }, { $set: { status: 'active' } });
    const ok = await create(payload, admin.auth, key);
    expect(ok.statusCode, ok.body).toBe(201);
    expect(json(ok).ownerId).toBe(String(waiting.user._id));
  });

  it('refuses bad input with a code and writes nothing', async () => {
    const pending = await seedUser(models(), { status: 'pending' });
    const gone = await seedUser(models(), { status: 'deactivated' });
    const unknownId = '0123456789abcdef01234567';
    const cases: Array<[string, InjectOptions, number, string]> = [
      ['unknown owner', { payload: { ...body(), ownerId: unknownId } }, 422, 'unknown_owner'],
      ['pending owner', { payload: { ...body(), ownerId: String(pending.user._id) } }, 422, 'owner_inactive'],
      ['deactivated owner', { payload: { ...body(), ownerId: String(gone.user._id) } }, 422, 'owner_inactive'],
      ['bad kind', { payload: { ...body(), kind: 'database' } }, 400, 'invalid_request'],
      ['unknown field', { payload: { ...body(), color: 'blue' } }, 400, 'invalid_request'],
      ['operator object', { payload: { ...body(), name: { $gt: '' } } }, 400, 'invalid_request'],
      ['malformed owner id', { payload: { ...body(), ownerId: 'nobody' } }, 400, 'invalid_request'],
      ['control character in name', { payload: body('bad\u0000name') }, 400, 'invalid_request'],
      ['missing name', { payload: { kind: 'task', ownerId: String(owner.user._id) } }, 400, 'invalid_request'],
      ['not JSON', { payload: 'kind=pipeline&name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported_media_type'],
      ['broken JSON', { payload: '{"kind": "pipeline",', headers: { 'content-type': 'application/json' } }, 400, 'malformed_json'],
      ['createdBy with an API token', { payload: { ...body(), createdBy: String(plain.user._id) } }, 422, 'creator_is_caller'],
      ['bad idempotency key', { payload: body(), headers: { 'idempotency-key': 'has space' } }, 400, 'invalid_idempotency_key'],
    ];
    for (const [what, req, status, code] of cases) {
      const before = await writes();
      const res = await h.app.inject({ method: 'POST', url: '/v1/resources', ...req, headers: { ...admin.auth, ...(req.headers as Record<string, string>) } });
      expect(res.statusCode, `${what}: ${res.body}`).toBe(status);
      expect(json(res).error.code, what).toMatch(code === 'invalid_request' ? /^invalid/ : new RegExp(`^${code}$`));
      expect(await writes(), what).toBe(before);
    }
  });

  it('refuses callers whose role has no resource permissions, before reading the body', async () => {
    const before = await writes();
    expectError(await create(body(), plain.auth), 403, 'forbidden');
    expectError(await create('not even json', plain.auth), 403, 'forbidden');
    expectError(await create(body(), { authorization: 'Bearer nope' }), 401, 'invalid_token');
    expect(await writes()).toBe(before);
  });

  it('a service records itself as createdByService and the user it names as createdBy', async () => {
    const named = await create({ ...body(), createdBy: String(plain.user._id) }, service);
    expect(named.statusCode, named.body).toBe(201);
    expect(json(named)).toMatchObject({ createdBy: String(plain.user._id), createdByService: serviceName });
    const unnamed = await create(body(), service);
    expect(json(unnamed)).toMatchObject({ createdBy: null, creatorName: serviceName, createdByService: serviceName });
    const stored = await models().Resource.findById(json(unnamed)._id).lean();
    const credential = await models().ServiceCredential.findOne({ name: serviceName }).lean();
    expect(String(stored!.createdByService)).toBe(String(credential!._id));
    const audit = await models().AuditEvent.findOne({ action: 'resource.created', 'details.resourceId': json(unnamed)._id }).lean();
    expect(audit).toMatchObject({ actorType: 'service', actorId: credential!._id, details: { service: { name: serviceName } } });
    expectError(await create({ ...body(), createdBy: '0123456789abcdef01234567' }, service), 422, 'unknown_creator');
  });
});

describe('update', () => {
  it('renames and re-describes, clears with null, audits the change, and never moves ownership', async () => {
    const resource = await seedResource(models(), owner.user._id, { name: 'old-name' });
    await models().Resource.updateOne({ _id: resource._id }, { $set: { description: 'old' } });
    const url = `/v1/resources/${resource._id}`;
    const res = await h.app.inject({ method: 'PATCH', url, headers: service, payload: { name: 'new-name', description: null, externalId: 'x-1' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res)).toMatchObject({ name: 'new-name', externalId: 'x-1', ownerId: String(owner.user._id) });
    expect(json(res).description).toBeUndefined();
    const audit = await models().AuditEvent.find({ action: 'resource.updated', 'details.resourceId': String(resource._id) }).lean();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ changes: { name: { from: 'old-name', to: 'new-name' }, description: { from: 'old', to: null }, externalId: { from: null, to: 'x-1' } } });

    const before = await writes();
    expectError(await h.app.inject({ method: 'PATCH', url, headers: admin.auth, payload: { ownerId: String(plain.user._id) } }), 400, 'invalid_request');
    expectError(await h.app.inject({ method: 'PATCH', url, headers: admin.auth, payload: {} }), 400, 'nothing_to_change');
    expectError(await h.app.inject({ method: 'PATCH', url: '/v1/resources/0123456789abcdef01234567', headers: admin.auth, payload: { name: 'x' } }), 404, 'resource_not_found');
    expectError(await h.app.inject({ method: 'PATCH', url, headers: plain.auth, payload: { name: 'x' } }), 403, 'forbidden');
    expect(await writes()).toBe(before);
  });

  it('with a key: a retry answers the first result, another body under the same key is refused', async () => {
    const resource = await seedResource(models(), owner.user._id);
    const url = `/v1/resources/${resource._id}`;
    const key = randomUUID();
    const first = await h.app.inject({ method: 'PATCH', url, headers: { ...admin.auth, 'idempotency-key': key }, payload: { name: 'first' } });
    expect(first.statusCode).toBe(200);
    // Someone else renames it; the retry answers what the first request answered and changes nothing.
    await h.app.inject({ method: 'PATCH', url, headers: admin.auth, payload: { name: 'second' } });
    const retry = await h.app.inject({ method: 'PATCH', url, headers: { ...admin.auth, 'idempotency-key': key }, payload: { name: 'first' } });
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(json(retry)).toEqual(json(first));
    expect((await models().Resource.findById(resource._id).lean())!.name).toBe('second');
    expectError(await h.app.inject({ method: 'PATCH', url, headers: { ...admin.auth, 'idempotency-key': key }, payload: { name: 'third' } }), 422, 'idempotency_key_reused');
  });
});

describe('delete', () => {
  it('removes the resource, audits it once, and a retry with the key answers the first result', async () => {
    const resource = await seedResource(models(), owner.user._id);
    const url = `/v1/resources/${resource._id}`;
    const key = randomUUID();
    const first = await h.app.inject({ method: 'DELETE', url, headers: { ...service, 'idempotency-key': key } });
    expect(first.statusCode, first.body).toBe(200);
    expect(json(first).resource._id).toBe(String(resource._id));
    expect(await models().Resource.countDocuments({ _id: resource._id })).toBe(0);
    const retry = await h.app.inject({ method: 'DELETE', url, headers: { ...service, 'idempotency-key': key } });
    expect(retry.statusCode).toBe(200);
    expect(json(retry)).toEqual(json(first));
    expect(await models().AuditEvent.countDocuments({ action: 'resource.deleted', 'details.resourceId': String(resource._id) })).toBe(1);
    expectError(await h.app.inject({ method: 'DELETE', url, headers: service }), 404, 'resource_not_found');
    expectError(await h.app.inject({ method: 'DELETE', url, headers: { ...service, 'idempotency-key': key }, payload: { force: true } }), 400, 'invalid_request');
  });

  it('refuses a caller without resource permissions and leaves the resource', async () => {
    const resource = await seedResource(models(), owner.user._id);
    expectError(await h.app.inject({ method: 'DELETE', url: `/v1/resources/${resource._id}`, headers: plain.auth }), 403, 'forbidden');
    expect(await models().Resource.countDocuments({ _id: resource._id })).toBe(1);
  });
});

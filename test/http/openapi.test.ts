/**
 * The OpenAPI documents: servers, one operationId per operation, the error envelope as one
 * shared component, the statuses every route shares, the CSV form of the bulk offboarding, and
 * SCIM's own document. Also the 503 the documents promise when a server the API depends on is
 * down, answered by a real app whose Temporal server cannot be reached.
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { createTestApp } from '../helpers/http';
import { seedUser, type SeededUser } from '../helpers/users';
import { json, openHarness, type Harness } from '../users/harness';

const BASE_URL = 'https://tenure.example.org';
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

interface Response {
  description?: string;
  content?: Record<string, { schema?: Record<string, unknown> }>;
}
interface Operation {
  operationId?: string;
  security?: unknown[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, Response>;
}
interface Document {
  servers?: Array<{ url: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas?: Record<string, unknown> };
}

let h: Harness;
let app: App;
let doc: Document;
let admin: SeededUser;

function operations(d: Document = doc): Array<{ where: string; path: string; method: string; op: Operation }> {
  return Object.entries(d.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod)
      .filter(([method]) => METHODS.has(method))
      .map(([method, op]) => ({ where: `${method.toUpperCase()} ${path}`, path, method, op })),
  );
}

/** Objects anywhere in `value` shaped like the error envelope (`{ error: { code, message } }`) written out in place. */
function inlinedEnvelopes(value: unknown): number {
  if (!value || typeof value !== 'object') return 0;
  const v = value as { properties?: { error?: { properties?: Record<string, unknown> } } };
  const own = v.properties?.error?.properties?.code && v.properties.error.properties.message ? 1 : 0;
  return own + Object.values(value).reduce<number>((n, child) => n + inlinedEnvelopes(child), 0);
}

beforeAll(async () => {
  h = await openHarness('openapi');
  app = await createTestApp(h.ctx, h.client, { PUBLIC_BASE_URL: `${BASE_URL}/` });
  admin = await seedUser(h.ctx.models, { email: 'admin@openapi.test', siteRole: 'Administrators' });
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = json<Document>(res);
});

afterAll(async () => {
  await app?.close();
  await h?.close();
});

describe('the API document', () => {
  it('names the configured public base URL as its server', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: BASE_URL })]);
  });

  it('gives every operation an operationId, unique across the document, derived from method and path', () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(40);
    const missing = ops.filter(({ op }) => !op.operationId).map(({ where }) => where);
    expect(missing).toEqual([]);
    const ids = ops.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { op } of ops) expect(op.operationId).toMatch(/^(get|post|put|patch|delete)[A-Z][A-Za-z0-9]*$/);
    expect(doc.paths['/v1/users/{idOrEmail}/offboarding/approve']!.post!.operationId).toBe('postUsersByIdOrEmailOffboardingApprove');
  });

  it('keeps the same operationIds when the document is built again', async () => {
    const again = json<Document>(await h.app.inject({ method: 'GET', url: '/openapi.json' }));
    expect(operations(again).map(({ where, op }) => `${where} ${op.operationId}`)).toEqual(operations().map(({ where, op }) => `${where} ${op.operationId}`));
  });

  it('writes the error envelope once, as a component every error response refers to', () => {
    expect(doc.components.schemas?.Error).toBeDefined();
    const { components, ...rest } = doc;
    expect(inlinedEnvelopes(rest)).toBe(0);
    const notReferring: string[] = [];
    for (const { where, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        // The health check's 503 is its own report (which dependency failed), not an error.
        if (where === 'GET /healthz' && status === '503') continue;
        if (response.content?.['application/json']?.schema?.$ref !== '#/components/schemas/Error') notReferring.push(`${where} ${status}`);
        if (!response.description || response.description === 'Default Response') notReferring.push(`${where} ${status} (no description)`);
      }
    }
    expect(notReferring).toEqual([]);
    expect(components.schemas).not.toHaveProperty('ErrorInput');
  });

  it('documents a success answer and the shared statuses on every operation', () => {
    const problems: string[] = [];
    for (const { where, method, op } of operations()) {
      const statuses = Object.keys(op.responses);
      if (!statuses.some((s) => /^2\d\d$/.test(s))) problems.push(`${where}: no 2xx`);
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      const expected = ['400', '414', '429', '503', ...(isPublic ? [] : ['401', '403']), ...(method === 'get' ? [] : ['413', '415'])];
      for (const s of expected) if (!statuses.includes(s)) problems.push(`${where}: no ${s}`);
    }
    expect(problems).toEqual([]);
  });

  it('documents the offboarding and HR routes with their own error statuses', () => {
    const offboarding = doc.paths['/v1/users/{idOrEmail}/offboarding']!;
    expect(Object.keys(offboarding.post!.responses)).toEqual(expect.arrayContaining(['202', '404', '409', '422']));
    expect(Object.keys(offboarding.get!.responses)).toEqual(expect.arrayContaining(['200', '404']));
    expect(offboarding.get!.responses['200']!.content?.['application/json']?.schema).toMatchObject({ properties: { status: expect.anything(), steps: expect.anything() } });
    const webhook = doc.paths['/webhooks/hr/{provider}']!.post!;
    expect(Object.keys(webhook.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '404', '503']));
    expect(Object.keys(doc.paths['/v1/hr/dead-letters']!.get!.responses)).toEqual(expect.arrayContaining(['200', '401', '403']));
  });

  it('documents the bulk offboarding body as JSON or text/csv', () => {
    const body = doc.paths['/v1/offboardings/bulk']!.post!.requestBody!;
    expect(Object.keys(body.content).sort()).toEqual(['application/json', 'text/csv']);
    expect(body.content['text/csv']!.schema).toMatchObject({ type: 'string', description: expect.stringContaining('email') });
    expect(body.content['application/json']!.schema).toMatchObject({ type: 'object', required: expect.arrayContaining(['users', 'reason']) });
  });

  it('requires the approve body (no default contradicting planVersion) and lets the optional bodies be left out', () => {
    const approve = doc.paths['/v1/users/{idOrEmail}/offboarding/approve']!.post!.requestBody!;
    expect(approve.required).toBe(true);
    expect(approve.content['application/json']!.schema).not.toHaveProperty('default');
    expect(approve.content['application/json']!.schema.required).toEqual(['planVersion']);
    const reject = doc.paths['/v1/users/{idOrEmail}/offboarding/reject']!.post!.requestBody!;
    expect(reject.required).toBe(false);
    expect(reject.content['application/json']!.schema.default).toEqual({});
  });

  it('refuses an approval without a body as invalid input, as documented', async () => {
    const res = await app.inject({ method: 'POST', url: `/v1/users/${encodeURIComponent('nobody@openapi.test')}/offboarding/approve`, headers: admin.auth });
    expect(res.statusCode).toBe(400);
    expect(json(res).error.code).toBe('invalid_request');
  });

  it('leaves the SCIM routes and the admin pages out of the API document', () => {
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/scim/') || p.startsWith('/invitations/'))).toEqual([]);
  });
});

describe('the SCIM document', () => {
  let scim: Document;
  beforeAll(async () => {
    const res = await app.inject({ method: 'GET', url: '/scim/v2/openapi.json' });
    expect(res.statusCode).toBe(200);
    scim = json<Document>(res);
  });

  it('is public, served under /scim/v2 and names the SCIM base URL as its server', () => {
    expect(scim.servers).toEqual([expect.objectContaining({ url: `${BASE_URL}/scim/v2` })]);
  });

  it('describes the Users operations with application/scim+json bodies and SCIM errors, each with a unique operationId', () => {
    const ops = operations(scim);
    expect(ops.map(({ where }) => where)).toEqual(expect.arrayContaining(['GET /Users', 'POST /Users', 'GET /Users/{id}', 'PUT /Users/{id}', 'PATCH /Users/{id}', 'DELETE /Users/{id}', 'POST /Users/.search']));
    const ids = ops.map(({ op }) => op.operationId);
    expect(ids.every(Boolean)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const create = scim.paths['/Users']!.post!;
    expect(Object.keys(create.requestBody!.content)).toContain('application/scim+json');
    expect(create.responses['409']!.content?.['application/scim+json']?.schema).toEqual({ $ref: '#/components/schemas/Error' });
  });

  it('matches the routes the server answers: each documented path exists (401 without a token, not 404)', async () => {
    for (const { method, path } of operations(scim)) {
      const url = `/scim/v2${path.replace('{id}', '0123456789abcdef01234567').replace('/Schemas/0123456789abcdef01234567', '/Schemas/urn:x')}`;
      const res = await app.inject({ method: method.toUpperCase() as 'GET', url });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
  });
});

describe('a server the API depends on is down', () => {
  let offline: App;
  let client: Client;
  beforeAll(async () => {
    // A real client whose Temporal server does not answer (nothing listens on port 1).
    client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 1_000 }) });
    offline = await createTestApp(h.ctx, client);
  });
  afterAll(async () => {
    await offline?.close();
    await client?.connection.close().catch(() => undefined);
  });

  it('answers 503 with the error envelope, not 500, as every operation documents', async () => {
    const leaver = await seedUser(h.ctx.models, { email: 'leaver@openapi.test' });
    const res = await offline.inject({ method: 'GET', url: `/v1/users/${leaver.user._id}/offboarding`, headers: admin.auth });
    expect(res.statusCode).toBe(503);
    expect(json(res).error).toEqual({ code: 'dependency_unavailable', message: expect.any(String) });
  });
});

/**
 * The rules every API route follows, checked by walking every route of the OpenAPI document:
 * authentication before anything else, closed bodies and query strings, CSV only where a CSV is
 * meant. A route added later is walked too, so it cannot forget a rule.
 */
import Fastify, { type InjectOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRouteRules } from '../../src/http/route-rules';
import { getOffboardingProgress } from '../../src/processes/offboarding';
import { eventually } from '../helpers/context';
import { withWorker } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';
import { seedOrg } from '../offboarding/fixtures';
import { json, openHarness, type Harness } from '../users/harness';

let h: Harness;
let admin: SeededUser;

const NOBODY = 'nobody@walk.test';
const SOME_ID = '0123456789abcdef01234567';
const TOKEN = 'A'.repeat(43);
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const PARAM_VALUES: Record<string, string> = { idOrEmail: encodeURIComponent(NOBODY), id: SOME_ID, token: TOKEN, provider: 'generic', tokenId: 'A'.repeat(16) };

interface Operation {
  method: string;
  path: string;
  url: string;
  isPublic: boolean;
  operation: { security?: unknown[]; requestBody?: { content: Record<string, { schema: unknown }> } };
}

/** Every operation of the OpenAPI document, with its path parameters filled in. */
function operations(): Operation[] {
  const doc = h.app.swagger() as { paths: Record<string, Record<string, Operation['operation']>> };
  const ops: Operation[] = [];
  for (const [path, byMethod] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(byMethod)) {
      // A valid value for every path parameter; ids not listed get an object id.
      const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => PARAM_VALUES[name] ?? SOME_ID);
      ops.push({ method: method.toUpperCase(), path, url, isPublic: Array.isArray(operation.security) && operation.security.length === 0, operation });
    }
  }
  // The walk must cover the whole API, public routes included.
  expect(ops.length).toBeGreaterThan(35);
  return ops;
}

/** Routes that speak another protocol and check their own input (signed HR webhooks). */
const ownProtocol = (op: Operation) => op.path.startsWith('/webhooks/');

/** A body each route would accept; the walk adds one unknown key to it. */
const VALID_BODIES: Record<string, Record<string, unknown>> = {
  'POST /v1/users': { email: 'walker@walk.test' },
  'PUT /v1/users/{idOrEmail}/site-role': { siteRole: 'Users' },
  'POST /v1/users/bulk/site-role': { ids: [SOME_ID], siteRole: 'Users' },
  'POST /v1/sessions/introspect': { session: 'not-a-session' },
  'POST /v1/resources': { kind: 'pipeline', name: 'walk', ownerId: SOME_ID },
  'POST /v1/resources/{id}/transfer': { newOwnerId: SOME_ID },
  'POST /v1/service-credentials': { name: 'walker' },
  'POST /v1/groups': { name: 'walkers' },
  'POST /v1/users/{idOrEmail}/registration': { siteRole: 'Users' },
  'POST /v1/users/{idOrEmail}/offboarding': { reason: 'leaving' },
  'POST /v1/users/{idOrEmail}/offboarding/approve': { planVersion: 'v1' },
  'POST /v1/users/{idOrEmail}/offboarding/change-owner': { newOwnerId: SOME_ID },
  'POST /v1/offboardings/bulk': { users: [NOBODY], reason: 'leaving' },
  'POST /v1/webhook-subscriptions': { url: 'https://hooks.walk.test/tenure', events: ['user.created'] },
  'PATCH /v1/webhook-subscriptions/{id}': { enabled: false },
};

beforeAll(async () => {
  h = await openHarness('routerules');
  admin = await seedUser(h.ctx.models, { email: 'admin@walk.test', siteRole: 'Administrators' });
});

afterAll(async () => {
  await h?.close();
});

function expectEnvelope(res: { statusCode: number; body: string }, status: number, what: string): { code: string; message: string; details?: unknown } {
  expect(res.statusCode, `${what}: ${res.body.slice(0, 300)}`).toBe(status);
  const body = json(res);
  expect(typeof body.error?.code, what).toBe('string');
  expect(typeof body.error?.message, what).toBe('string');
  return body.error;
}

describe('hardening #6: authentication first, closed bodies, CSV only for bulk', () => {
  it('hardening #6: an unauthenticated bad body on an offboarding route gets 401, not 400 with schema details', async () => {
    const res = await h.app.inject({ method: 'POST', url: `/v1/users/${NOBODY}/offboarding`, payload: { reason: 42, $where: '1' } });
    const error = expectEnvelope(res, 401, 'unauthenticated offboarding start');
    expect(error.details).toBeUndefined();
  });

  it('hardening #6: every non-public route answers 401 before it looks at the query or the body', async () => {
    for (const op of operations().filter((o) => !o.isPublic)) {
      for (const headers of [{}, { authorization: 'Bearer not-a-token' }]) {
        const req: InjectOptions = { method: op.method as InjectOptions['method'], url: `${op.url}?limit=abc&zzz=1`, headers };
        if (BODY_METHODS.has(op.method)) req.payload = { $where: 'sleep(1000)', reason: 42 };
        const error = expectEnvelope(await h.app.inject(req), 401, `${op.method} ${op.path}`);
        expect(error.details, `${op.method} ${op.path}`).toBeUndefined();
      }
    }
  });

  it('hardening #6: every JSON body schema is closed at every depth', () => {
    const open: string[] = [];
    const walk = (schema: unknown, where: string): void => {
      if (!schema || typeof schema !== 'object') return;
      const s = schema as Record<string, unknown>;
      if (s.type === 'object' && s.additionalProperties !== false) open.push(where);
      for (const [key, value] of Object.entries(s)) {
        if (key === 'properties') for (const [name, sub] of Object.entries(value as object)) walk(sub, `${where}.${name}`);
        else if (Array.isArray(value)) value.forEach((sub, i) => walk(sub, `${where}.${key}[${i}]`));
        else if (typeof value === 'object') walk(value, `${where}.${key}`);
      }
    };
    for (const op of operations().filter((o) => !ownProtocol(o))) {
      const content = op.operation.requestBody?.content ?? {};
      for (const [type, { schema }] of Object.entries(content)) walk(schema, `${op.method} ${op.path} (${type})`);
    }
    expect(open).toEqual([]);
  });

  it('hardening #6: an unknown body key such as $where is 400 on every route, top level and nested', async () => {
    for (const op of operations().filter((o) => BODY_METHODS.has(o.method) && !ownProtocol(o))) {
      const key = `${op.method} ${op.path}`;
      const valid = VALID_BODIES[key] ?? {};
      const res = await h.app.inject({ method: op.method as InjectOptions['method'], url: op.url, headers: admin.auth, payload: { ...valid, $where: 'sleep(1000)' } });
      const error = expectEnvelope(res, 400, key);
      expect(error.code, key).toBe('invalid_request');
      expect(JSON.stringify(error), key).toContain('$where');
    }
    const nested = await h.app.inject({ method: 'POST', url: '/v1/offboardings/bulk', headers: admin.auth, payload: { users: [{ user: NOBODY, $where: '1' }], reason: 'leaving' } });
    expect(expectEnvelope(nested, 400, 'nested unknown key').code).toBe('invalid_request');
  });

  it('hardening #6: text/csv is 415 on every route but the bulk offboarding', async () => {
    const csv = `email,reason\n${NOBODY},leaving\n`;
    for (const op of operations().filter((o) => BODY_METHODS.has(o.method) && !ownProtocol(o))) {
      const res = await h.app.inject({ method: op.method as InjectOptions['method'], url: op.url, headers: { ...admin.auth, 'content-type': 'text/csv' }, payload: csv });
      const key = `${op.method} ${op.path}`;
      if (op.path === '/v1/offboardings/bulk') expect(res.statusCode, key).toBe(422);
      else expect(expectEnvelope(res, 415, key).code, key).toBe('unsupported_media_type');
    }
  });

  it('hardening #6: the CSV options of the bulk route are checked and refused with a JSON body', async () => {
    const csv = { ...admin.auth, 'content-type': 'text/csv' };
    for (const query of ['immediateLockout=yes', 'newOwnerId=$ne', 'reason=%00', 'reason=x&extra=1']) {
      const res = await h.app.inject({ method: 'POST', url: `/v1/offboardings/bulk?${query}`, headers: csv, payload: `email\n${NOBODY}\n` });
      expect(expectEnvelope(res, 400, query).code, query).toBe('invalid_request');
    }
    const json = await h.app.inject({ method: 'POST', url: '/v1/offboardings/bulk?reason=reorg', headers: admin.auth, payload: { users: [NOBODY], reason: 'leaving' } });
    expect(expectEnvelope(json, 400, 'CSV option with a JSON body').code).toBe('invalid_request');
  });

  it('hardening #6: a CSV body sent to cancel does not cancel a running offboarding', async () => {
    const org = await seedOrg(h.ctx.models);
    await withWorker(h.ctx, async () => {
      const effectiveDate = new Date(Date.now() + 3_600_000).toISOString();
      const started = await h.app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user._id}/offboarding`, headers: org.admin.auth, payload: { reason: 'leaving', effectiveDate } });
      expect(started.statusCode).toBe(202);
      const status = () => getOffboardingProgress(h.client, String(org.leaver.user._id)).then((p) => p.status);
      await eventually('the offboarding to wait for its effective date', async () => (await status()) === 'waiting_effective_date');
      const csv = await h.app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user._id}/offboarding/cancel`, headers: { ...org.admin.auth, 'content-type': 'text/csv' }, payload: `email\n${org.leaver.user.email}\n` });
      expect(expectEnvelope(csv, 415, 'CSV cancel').code).toBe('unsupported_media_type');
      await new Promise((r) => setTimeout(r, 500));
      expect(await status()).toBe('waiting_effective_date');
      expect(await h.ctx.models.AuditEvent.countDocuments({ action: 'offboarding.cancel', targetUserId: org.leaver.user._id })).toBe(0);
      // Cancelled properly, the process ends.
      const cancelled = await h.app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user._id}/offboarding/cancel`, headers: org.admin.auth, payload: { reason: 'test over' } });
      expect(cancelled.statusCode).toBe(200);
      await eventually('the offboarding to end', async () => (await status()) === 'cancelled');
    });
  });
});

describe('hardening #7: unknown query parameters', () => {
  it('hardening #7: dead letters and the offboarding plan refuse unknown query keys like every other route', async () => {
    const dead = await h.app.inject({ method: 'GET', url: '/v1/hr/dead-letters?limit=5&sort=-at', headers: admin.auth });
    expect(expectEnvelope(dead, 400, 'dead letters').code).toBe('invalid_request');
    const target = await seedUser(h.ctx.models, { email: 'planned@walk.test' });
    const plan = await h.app.inject({ method: 'GET', url: `/v1/users/${target.user._id}/offboarding-plan?dryRun=true`, headers: admin.auth });
    expect(expectEnvelope(plan, 400, 'offboarding plan').code).toBe('invalid_request');
  });

  it('hardening #7: an unknown query key is 400 on every route, public or not, with or without query parameters', async () => {
    const ops = operations().filter((o) => !ownProtocol(o));
    const extra = [{ method: 'GET', path: '/openapi.json', url: '/openapi.json' }, { method: 'GET', path: '/healthz', url: '/healthz' }];
    for (const op of [...ops, ...extra]) {
      const req: InjectOptions = { method: op.method as InjectOptions['method'], url: `${op.url}?zzz=1`, headers: admin.auth };
      if (BODY_METHODS.has(op.method)) req.payload = VALID_BODIES[`${op.method} ${op.path}`] ?? {};
      const res = await h.app.inject(req);
      const error = expectEnvelope(res, 400, `${op.method} ${op.path}`);
      expect(error.code).toBe('invalid_request');
      expect(JSON.stringify(error), `${op.method} ${op.path}`).toContain('zzz');
    }
  });

  it('hardening #7: a route whose query or body schema accepts unknown keys cannot be added', async () => {
    const build = async (schema: Record<string, unknown>, method: 'GET' | 'POST' = 'GET') => {
      const app = Fastify();
      app.setValidatorCompiler(validatorCompiler);
      app.setSerializerCompiler(serializerCompiler);
      app.addHook('onRoute', applyRouteRules);
      app.route({ method, url: '/v1/loose', schema, handler: async () => ({}) });
      await app.ready();
      await app.close();
    };
    await expect(build({ querystring: z.object({ limit: z.string().optional() }) })).rejects.toThrow(/query schema accepts unknown keys/);
    await expect(build({ body: z.strictObject({ user: z.object({ id: z.string() }) }) }, 'POST')).rejects.toThrow(/body schema accepts unknown keys at user/);
    await expect(build({ body: z.strictObject({ users: z.array(z.union([z.string(), z.object({ id: z.string() })])) }).default({ users: [] }) }, 'POST')).rejects.toThrow(/users\[\]/);
    await expect(build({ querystring: z.strictObject({ limit: z.string().optional() }) })).resolves.toBeUndefined();
  });
});

/**
 * HTTP hardening on the real app and the real Redis: per-address rate limits on invitation links,
 * HR webhooks and SCIM, and on failed authentication, shared by two API instances on one Redis;
 * 429 with Retry-After and the error envelope; security headers on JSON answers while pages keep
 * their own nonce policy; load shedding while the event loop lags.
 */
import type { Client } from '@temporalio/client';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/env';
import type { App } from '../../src/http/app';
import { renderMetrics } from '../../src/metrics/metrics';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { sampleValue } from '../helpers/prometheus';
import { createTestApp } from '../helpers/http';
import { createPrivateRedis } from '../helpers/private-redis';
import { createClient } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';
import { HR_TEST_CONFIG, hrEvent, signedGeneric } from '../hr/hr-test-kit';

const SCIM_TOKEN = 'scim-test-token-0123456789abcdef';
const LIMITS: Partial<Config> = {
  ...HR_TEST_CONFIG,
  SCIM_BEARER_TOKEN: SCIM_TOKEN,
  RATE_LIMIT_WINDOW: 60_000,
  RATE_LIMIT_INVITATIONS: 3,
  RATE_LIMIT_CONSOLE_SIGN_IN: 2,
  RATE_LIMIT_HR_WEBHOOKS: 2,
  RATE_LIMIT_SCIM: 2,
  RATE_LIMIT_AUTH_FAILURES: 3,
};

let ctx: TestContext;
let client: Client;
let first: App;
let second: App;
let admin: SeededUser;
let addressCounter = 0;

/** A client address no other test used (the counts live in Redis for the whole window). */
const freshAddress = () => `10.1.${Math.floor(++addressCounter / 250)}.${(addressCounter % 250) + 1}`;

const from = (remoteAddress: string, options: InjectOptions): InjectOptions => ({ ...options, remoteAddress });
const unknownInvitation = () => `/v1/invitations/${'Q'.repeat(40)}${addressCounter}/accept`;

function expectRateLimited(res: Awaited<ReturnType<App['inject']>>): void {
  expect(res.statusCode).toBe(429);
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.headers['x-ratelimit-remaining']).toBe('0');
}

beforeAll(async () => {
  ctx = await createTestContext('protection');
  client = await createClient(ctx);
  first = await createTestApp(ctx, client, LIMITS);
  second = await createTestApp(ctx, client, LIMITS);
  admin = await seedUser(ctx.models, { email: 'protect.admin@example.com', siteRole: 'Administrators' });
  // Until an instance's Redis connection is up its limits let requests through uncounted.
  for (const app of [first, second]) {
    await eventually('the instance to count in Redis', async () => (await app.inject(from(freshAddress(), { method: 'POST', url: unknownInvitation(), payload: {} }))).headers['x-ratelimit-remaining'] !== undefined);
  }
});

afterAll(async () => {
  await first?.close();
  await second?.close();
  await client?.connection.close();
  await ctx?.close();
});

describe('rate limits', () => {
  it('invitation links: a burst from one address past the limit gets 429 with Retry-After and the envelope, counted across two instances, page and API alike', async () => {
    const address = freshAddress();
    const refusals = async () => sampleValue(await renderMetrics(), 'tenure_http_refused_total', { reason: 'rate_limit', limit: 'invitations' });
    const refusedBefore = await refusals();
    const accept = (app: App) => app.inject(from(address, { method: 'POST', url: unknownInvitation(), payload: {} }));
    expect((await accept(first)).statusCode).toBe(404);
    expect((await accept(second)).statusCode).toBe(404);
    expect((await first.inject(from(address, { method: 'GET', url: `/invitations/${'R'.repeat(40)}/accept` }))).statusCode).toBe(404);

    const refused = await accept(second);
    expectRateLimited(refused);
    expect(refused.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringMatching(/^Too many requests from this address; retry in \d+ s\.$/) } });
    // The page shares the budget, and answers in the same envelope.
    const page = await first.inject(from(address, { method: 'GET', url: `/invitations/${'R'.repeat(40)}/accept` }));
    expectRateLimited(page);
    expect(page.json().error.code).toBe('rate_limited');
    expect((await refusals()) - refusedBefore).toBe(2);

    // Another address is not limited by this one's burst.
    const other = freshAddress();
    expect((await first.inject(from(other, { method: 'POST', url: unknownInvitation(), payload: {} }))).statusCode).toBe(404);
  });

  it('a request within the limit carries the remaining budget', async () => {
    const res = await first.inject(from(freshAddress(), { method: 'POST', url: unknownInvitation(), payload: {} }));
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-ratelimit-limit']).toBe('3');
    expect(res.headers['x-ratelimit-remaining']).toBe('2');
  });

  it('HR webhooks: the third delivery from one address within the window is refused before its signature is read', async () => {
    const address = freshAddress();
    for (const app of [first, second]) expect((await app.inject(from(address, signedGeneric(hrEvent('employee.updated', { id: 'RL-1' }))))).statusCode).toBe(202);
    const refused = await first.inject(from(address, { ...signedGeneric(hrEvent('employee.updated', { id: 'RL-1' })), headers: { 'content-type': 'application/json' } }));
    expectRateLimited(refused);
    expect(refused.json().error.code).toBe('rate_limited');
    const queued = await ctx.redis.keys(`${ctx.queue.prefix}:hr-intake:hr-generic-*`);
    expect(queued.filter((k) => /hr-generic-[0-9a-f]{64}$/.test(k))).toHaveLength(2);
  });

  it('console sign-in: past the limit, 429 with Retry-After as a console page', async () => {
    const address = freshAddress();
    const form = (app: App) => app.inject(from(address, { method: 'GET', url: '/console/sign-in' }));
    expect((await form(first)).statusCode).toBe(200);
    expect((await second.inject(from(address, { method: 'GET', url: `/console/sign-in/${'T'.repeat(43)}` }))).statusCode).toBeLessThan(429);
    const refused = await form(second);
    expectRateLimited(refused);
    expect(refused.headers['content-type']).toMatch(/^text\/html/);
    expect(refused.body).toContain('data-code="rate_limited"');
    expect(String(refused.headers['content-security-policy'])).toMatch(/style-src 'nonce-/);
  });

  it('SCIM: past the limit, 429 in SCIM\'s error format with Retry-After', async () => {
    const address = freshAddress();
    const list = (app: App) => app.inject(from(address, { method: 'GET', url: '/scim/v2/Users', headers: { authorization: `Bearer ${SCIM_TOKEN}` } }));
    expect((await list(first)).statusCode).toBe(200);
    expect((await list(second)).statusCode).toBe(200);
    const refused = await list(first);
    expectRateLimited(refused);
    expect(refused.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '429' });
  });

  it('failed authentication: after repeated bad tokens an address gets 429 even with a good token, on both instances; other addresses are unaffected', async () => {
    const address = freshAddress();
    const bad = { authorization: 'Bearer wrong-token-0123456789abcdef' };
    expect((await first.inject(from(address, { method: 'GET', url: '/v1/users', headers: bad }))).statusCode).toBe(401);
    expect((await second.inject(from(address, { method: 'GET', url: '/v1/users', headers: bad }))).statusCode).toBe(401);
    // A bad SCIM token counts too.
    expect((await first.inject(from(address, { method: 'GET', url: '/scim/v2/Users', headers: bad }))).statusCode).toBe(401);

    const blocked = await second.inject(from(address, { method: 'GET', url: '/v1/users', headers: admin.auth }));
    expectRateLimited(blocked);
    expect(blocked.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('failed authentications') } });
    // Public routes without a token stay reachable for the address.
    expect((await first.inject(from(address, { method: 'GET', url: '/healthz' }))).statusCode).toBe(200);

    const other = freshAddress();
    expect((await first.inject(from(other, { method: 'GET', url: '/v1/users', headers: admin.auth }))).statusCode).toBe(200);
  });

  it('successful requests do not count as failures', async () => {
    const address = freshAddress();
    for (let i = 0; i < 6; i++) expect((await first.inject(from(address, { method: 'GET', url: '/v1/users', headers: admin.auth }))).statusCode).toBe(200);
  });

  it('with Redis unreachable the limits let requests through instead of failing them', async () => {
    const redis = await createPrivateRedis();
    await redis.start();
    const app = await createTestApp(ctx, client, { ...LIMITS, REDIS_URL: redis.url });
    try {
      const address = freshAddress();
      // Counted in Redis once the connection is up.
      await eventually('the limit to be counted in Redis', async () => (await app.inject(from(address, { method: 'POST', url: unknownInvitation(), payload: {} }))).headers['x-ratelimit-remaining'] !== undefined);
      await redis.stop();
      for (let i = 0; i < 5; i++) expect((await app.inject(from(address, { method: 'POST', url: unknownInvitation(), payload: {} }))).statusCode).toBe(404);
    } finally {
      await app.close();
      await redis.close();
    }
  }, 60_000);
});

describe('security headers', () => {
  it('JSON answers carry a policy that loads nothing, no framing, no sniffing, HSTS', async () => {
    for (const res of [
      await first.inject({ method: 'GET', url: '/healthz' }),
      await first.inject({ method: 'GET', url: '/v1/users', headers: admin.auth }),
      await first.inject({ method: 'GET', url: '/v1/users' }),
      await first.inject({ method: 'GET', url: '/openapi.json' }),
    ]) {
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
      expect(res.headers['referrer-policy']).toBe('no-referrer');
    }
    const doc = await first.inject({ method: 'GET', url: '/openapi.json' });
    expect(doc.statusCode).toBe(200);
    expect(doc.json().openapi).toBe('3.1.0');
  });

  it('pages keep their own nonce policy', async () => {
    const page = await first.inject({ method: 'GET', url: `/invitations/${'S'.repeat(40)}/accept` });
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(page.body).toContain(`<style nonce="${nonce}">`);
    expect(csp).toBe(`default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`);
    expect(page.headers['x-frame-options']).toBe('DENY');
  });
});

describe('load shedding', () => {
  it('answers 503 overloaded with Retry-After while the event loop lags, health still answers, and recovers', async () => {
    const app = await createTestApp(ctx, client, { HTTP_SHED_EVENT_LOOP_DELAY_MS: 100 });
    // Blocks the event loop for 300 ms out of every 350 ms.
    const blocker = setInterval(() => {
      const until = Date.now() + 300;
      while (Date.now() < until);
    }, 50);
    try {
      const shed = await eventually('a shed request', async () => {
        const res = await app.inject({ method: 'GET', url: '/v1/users', headers: admin.auth });
        return res.statusCode === 503 ? res : undefined;
      }, 20_000);
      expect(shed.headers['retry-after']).toBe('1');
      expect(shed.json()).toEqual({ error: { code: 'overloaded', message: expect.any(String) } });
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      clearInterval(blocker);
    }
    try {
      await eventually('the load to pass', async () => (await app.inject({ method: 'GET', url: '/v1/users', headers: admin.auth })).statusCode === 200, 20_000);
    } finally {
      await app.close();
    }
  }, 60_000);
});

/**
 * The queue dashboard (Bull Board) under /console/queues: every BullMQ queue for Administrators,
 * read-only; Security Managers and Auditors refused; no session, no dashboard; a write (retry,
 * clean) refused whatever the caller sends, and the job left as it was. Real Redis and BullMQ.
 */
import type { Client } from '@temporalio/client';
import { Queue, Worker, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { QUEUES_PAGE_CSP } from '../../src/http/console/queues';
import { QUEUE_NAMES } from '../../src/jobs/queues';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createClient } from '../helpers/temporal';
import { seedUser } from '../helpers/users';
import { signIn, type ConsoleBrowser } from './console-kit';

let ctx: TestContext;
let client: Client;
let app: App;
let smtp: TestSmtpServer;
let admin: ConsoleBrowser;
let manager: ConsoleBrowser;
let auditor: ConsoleBrowser;
let failed: Job;
let queue: Queue;

const API = '/console/queues/api';

beforeAll(async () => {
  ctx = await createTestContext('queueboard');
  client = await createClient(ctx);
  smtp = await startSmtpServer();
  app = await createTestApp(ctx, client, { SMTP_URL: smtp.url, PUBLIC_BASE_URL: 'http://localhost:3000' });
  await seedUser(ctx.models, { email: 'ada@acme.test', siteRole: 'Administrators' });
  await seedUser(ctx.models, { email: 'sam@acme.test', siteRole: 'SecurityManagers' });
  await seedUser(ctx.models, { email: 'aud@acme.test', siteRole: 'Auditors' });
  admin = await signIn(app, smtp, 'ada@acme.test');
  manager = await signIn(app, smtp, 'sam@acme.test');
  auditor = await signIn(app, smtp, 'aud@acme.test');

  // One failed job on a real queue, failed by a real worker.
  queue = new Queue(QUEUE_NAMES.systemCheck, ctx.queue);
  const worker = new Worker(
    QUEUE_NAMES.systemCheck,
    async () => {
      throw new Error('the check failed on purpose');
    },
    ctx.queue,
  );
  failed = await queue.add('check', { what: 'disk' }, { attempts: 1 });
  await eventually('the job to fail', async () => (await queue.getJobState(failed.id!)) === 'failed');
  await worker.close();
});

afterAll(async () => {
  await queue?.close();
  await app?.close();
  await smtp?.close();
  await client?.connection.close();
  await ctx?.close();
});

const get = (url: string, who?: ConsoleBrowser) => app.inject({ method: 'GET', url, headers: who ? { cookie: who.cookie } : {} });

describe('the queue dashboard', () => {
  it("shows an Administrator every queue of tenure's, with the failed job, read-only", async () => {
    const res = await get(`${API}/queues?activeQueue=${QUEUE_NAMES.systemCheck}&status=failed&page=1`, admin);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { queues: Array<{ name: string; readOnlyMode: boolean; allowRetries: boolean; counts: Record<string, number>; jobs: Array<{ id: string; failedReason: string }> }> };
    expect(body.queues.map((q) => q.name).sort()).toEqual(Object.values(QUEUE_NAMES).sort());
    for (const q of body.queues) expect([q.name, q.readOnlyMode, q.allowRetries]).toEqual([q.name, true, false]);
    const check = body.queues.find((q) => q.name === QUEUE_NAMES.systemCheck)!;
    expect(check.counts.failed).toBe(1);
    expect(check.jobs.map((j) => [j.id, j.failedReason])).toEqual([[failed.id, 'the check failed on purpose']]);
  });

  it('serves its page with a policy of its own (scripts from this origin only) and its assets, and the console links to it', async () => {
    const page = await get('/console/queues', admin);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toBe(QUEUES_PAGE_CSP);
    expect(page.body).toContain('<base href="/console/queues/" />');
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(page.body)![1]!;
    const asset = await get(`/console/queues/${script}`, admin);
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toContain('javascript');
    expect((await get(`/console/queues/queue/${QUEUE_NAMES.hrIntake}`, admin)).statusCode).toBe(200);
    expect((await get('/console/users', admin)).body).toContain('href="/console/queues"');
    // Other console pages keep their nonce policy.
    expect((await get('/console/users', admin)).headers['content-security-policy']).toContain("style-src 'nonce-");
  });

  it('refuses Security Managers and Auditors (403), page and API alike, and shows them no link', async () => {
    for (const reader of [manager, auditor]) {
      const api = await get(`${API}/queues`, reader);
      expect(api.statusCode).toBe(403);
      expect(api.json()).toEqual({ error: { code: 'forbidden', message: 'Only Administrators may see the job queues.' } });
      const page = await get('/console/queues', reader);
      expect(page.statusCode).toBe(403);
      expect(page.body).toContain('data-code="forbidden"');
      expect(page.body).not.toContain('static/js');
      expect((await get(`/console/queues/queue/${QUEUE_NAMES.systemCheck}`, reader)).statusCode).toBe(403);
      expect((await get('/console/users', reader)).body).not.toContain('href="/console/queues"');
    }
  });

  it('sends a browser without a session to the sign-in page; a write without one is 401; nothing is served', async () => {
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec((await get('/console/queues', admin)).body)![1]!;
    for (const url of ['/console/queues', `${API}/queues`, `/console/queues/queue/${QUEUE_NAMES.systemCheck}`, `/console/queues/${script}`, '/console/queues/static/favicon-32x32.png']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(303);
      expect(res.headers.location).toBe('/console/sign-in');
    }
    const stale = await get(`${API}/queues`, { cookie: 'tenure_console=not-a-session', csrf: '' });
    expect(stale.statusCode).toBe(303);
    const write = await app.inject({ method: 'PUT', url: `${API}/queues/${QUEUE_NAMES.systemCheck}/retry/failed` });
    expect(write.statusCode).toBe(401);
    expect(write.body).toContain('data-code="console_session_required"');
  });

  it('refuses retry, clean, add and pause even to an Administrator with the CSRF token, and the job stays failed', async () => {
    const writes: Array<[string, string]> = [
      ['PUT', `${API}/queues/${QUEUE_NAMES.systemCheck}/retry/failed`],
      ['PUT', `${API}/queues/${QUEUE_NAMES.systemCheck}/${failed.id}/retry`],
      ['PUT', `${API}/queues/${QUEUE_NAMES.systemCheck}/clean/failed`],
      ['PUT', `${API}/queues/${QUEUE_NAMES.systemCheck}/${failed.id}/clean`],
      ['PUT', `${API}/queues/${QUEUE_NAMES.systemCheck}/empty`],
      ['PUT', `${API}/queues/${QUEUE_NAMES.systemCheck}/pause`],
      ['POST', `${API}/queues/${QUEUE_NAMES.systemCheck}/add`],
    ];
    for (const [method, url] of writes) {
      // Without the console's CSRF token: refused by the console's guard.
      const forged = await app.inject({ method: method as 'PUT', url, headers: { cookie: admin.cookie, 'content-type': 'application/json' }, payload: {} });
      expect(forged.statusCode, `${method} ${url}`).toBe(403);
      expect(forged.json().error.code).toBe('csrf_failed');
      // With it: refused by the dashboard's read-only mode.
      const res = await app.inject({ method: method as 'PUT', url, headers: { cookie: admin.cookie, 'content-type': 'application/json' }, payload: { _csrf: admin.csrf } });
      expect(res.statusCode, `${method} ${url}`).toBe(405);
      expect(res.json().error.key).toBe('ERRORS.QUEUE_READ_ONLY');
    }
    expect(await queue.getJobState(failed.id!)).toBe('failed');
    expect(await queue.getJobCounts('failed', 'wait', 'active')).toEqual({ failed: 1, wait: 0, active: 0 });
    expect(await queue.isPaused()).toBe(false);
  });
});

/**
 * `/metrics` on both processes after real traffic: the API (listening, scraped over HTTP with its
 * token) counts requests by route pattern and status and the offboardings it rejects or cancels;
 * the real worker process (src/main/worker.ts, health port) reports BullMQ queue depths and job
 * outcomes, completed offboardings, the time from an HR termination's receipt to the lockout, and
 * the Temporal SDK runtime's own series.
 */
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { offboardingActivities } from '../../activities/offboarding';
import { renderMetrics } from '../../src/metrics/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/devstack/ports';
import type { App } from '../../src/http/app';
import { offboardingWorkflowId } from '../../src/processes/offboarding';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { familyNames, sampleValue } from '../helpers/prometheus';
import { closeDeps, createActivityDeps, createClient } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';
import { setPolicy } from '../offboarding/fixtures';
import { HR_TEST_CONFIG, hrEvent, signedGeneric } from '../hr/hr-test-kit';

const METRICS_TOKEN = 'metrics-scrape-token-0123456789abcdef';

let ctx: TestContext;
let client: Client;
let app: App;
let worker: WorkerProcess | undefined;
let apiUrl: string;
let workerUrl: string;
let admin: SeededUser;

async function scrapeApi(): Promise<string> {
  const res = await fetch(`${apiUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

async function scrapeWorker(): Promise<string> {
  const res = await fetch(`${workerUrl}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = admin.auth): Promise<{ status: number; json: any }> {
  const res = await fetch(`${apiUrl}${path}`, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  ctx = await createTestContext('metrics');
  client = await createClient(ctx);
  app = await createTestApp(ctx, client, { ...HR_TEST_CONFIG, METRICS_TOKEN });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = address;
  admin = await seedUser(ctx.models, { email: 'metrics.admin@example.com', siteRole: 'Administrators' });
  const port = await freePort();
  workerUrl = `http://127.0.0.1:${port}`;
  worker = await startWorkerProcess(ctx, { env: { WORKER_HEALTH_PORT: String(port), HR_INTAKE_BACKOFF: '100ms' } });
}, 90_000);

afterAll(async () => {
  await worker?.kill();
  await app?.close();
  await client?.connection.close();
  await ctx?.close();
});

describe('API /metrics', () => {
  it('refuses a scrape without the metrics token, and an API token is not it', async () => {
    // The token comes first, before the query is looked at.
    for (const url of [`${apiUrl}/metrics`, `${apiUrl}/metrics?name[]=tenure_jobs_total`]) {
      const none = await fetch(url);
      expect(none.status).toBe(401);
      expect(((await none.json()) as { error: { code: string } }).error.code).toBe('missing_token');
    }
    for (const authorization of [`Bearer ${METRICS_TOKEN}x`, admin.auth.authorization]) {
      const wrong = await fetch(`${apiUrl}/metrics`, { headers: { authorization } });
      expect(wrong.status).toBe(401);
      expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('invalid_token');
    }
  });

  it('answers 503 metrics_not_configured while no metrics token is set', async () => {
    const bare = await createTestApp(ctx, client);
    try {
      const res = await bare.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('metrics_not_configured');
    } finally {
      await bare.close();
    }
  });

  it('counts each request under its route pattern and status, with its duration; no id, email or token in a label', async () => {
    const user = await seedUser(ctx.models, { email: 'counted.person@example.com' });
    const route = { method: 'GET', route: '/v1/users/:idOrEmail' };
    const before = await scrapeApi();
    expect((await api('GET', `/v1/users/${user.user.email}`)).status).toBe(200);
    expect((await api('GET', `/v1/users/${String(user.user._id)}`)).status).toBe(200);
    expect((await api('GET', '/v1/users/nobody.here@example.com')).status).toBe(404);
    expect((await api('GET', `/v1/users/${user.user.email}`, undefined, { authorization: 'Bearer not-a-token-at-all-0123' })).status).toBe(401);
    expect((await api('GET', '/v1/no-such-route/secret-looking-segment')).status).toBe(404);
    const after = await scrapeApi();

    const delta = (name: string, labels: Record<string, string>) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(delta('tenure_http_requests_total', { ...route, status: '200' })).toBe(2);
    expect(delta('tenure_http_requests_total', { ...route, status: '404' })).toBe(1);
    expect(delta('tenure_http_requests_total', { ...route, status: '401' })).toBe(1);
    expect(delta('tenure_http_requests_total', { method: 'GET', route: '(unmatched)', status: '404' })).toBe(1);
    expect(delta('tenure_http_request_duration_seconds_count', { ...route, status: '200' })).toBe(2);
    expect(sampleValue(after, 'tenure_http_request_duration_seconds_bucket', { ...route, status: '200', le: '+Inf' })).toBe(sampleValue(after, 'tenure_http_requests_total', { ...route, status: '200' }));
    for (const secret of [user.user.email, String(user.user._id), 'nobody.here', 'secret-looking-segment', 'not-a-token-at-all', admin.token]) expect(after).not.toContain(secret);
    // The process's own figures come along.
    expect(familyNames(after)).toContain('tenure_process_cpu_user_seconds_total');
  });

  it('counts the offboardings it rejects and cancels', async () => {
    await setPolicy(ctx.models, { approvalRequired: true, retentionMs: null });
    const rejected = await seedUser(ctx.models, { email: 'rejected.leaver@example.com' });
    const cancelled = await seedUser(ctx.models, { email: 'cancelled.leaver@example.com' });
    const before = await scrapeApi();
    for (const leaver of [rejected, cancelled]) expect((await api('POST', `/v1/users/${String(leaver.user._id)}/offboarding`, { reason: 'metrics' })).status).toBe(202);
    await eventually('the offboarding to await approval', async () => (await api('GET', `/v1/users/${String(rejected.user._id)}/offboarding`)).json?.status === 'awaiting_approval', 45_000);
    expect((await api('POST', `/v1/users/${String(rejected.user._id)}/offboarding/reject`, { reason: 'not now' })).status).toBe(200);
    expect((await api('POST', `/v1/users/${String(cancelled.user._id)}/offboarding/cancel`, {})).status).toBe(200);
    // A refused action counts nothing: the rejected offboarding cannot be cancelled any more.
    expect((await api('POST', `/v1/users/${String(rejected.user._id)}/offboarding/cancel`, {})).status).toBeGreaterThanOrEqual(400);
    const after = await scrapeApi();
    const delta = (outcome: string) => sampleValue(after, 'tenure_offboardings_total', { outcome }) - sampleValue(before, 'tenure_offboardings_total', { outcome });
    expect(delta('rejected')).toBe(1);
    expect(delta('cancelled')).toBe(1);
    for (const leaver of [rejected, cancelled]) {
      const result = await client.workflow.getHandle(offboardingWorkflowId(String(leaver.user._id))).result();
      expect(result.status).toBe(leaver === rejected ? 'rejected' : 'cancelled');
    }
  }, 90_000);
});

describe('worker /metrics', () => {
  it('reports HR intake jobs in queue depths and outcomes, a completed HR offboarding with its lockout delay, and the Temporal runtime', async () => {
    await setPolicy(ctx.models, { approvalRequired: false, retentionMs: null });
    const leaver = await seedUser(ctx.models, { email: 'hr.metrics.leaver@example.com', hrEmployeeId: 'M-1' });
    const before = await scrapeWorker();
    const intake = (outcome: string) => ({ queue: 'hr-intake', outcome });
    const failedDepth = { queue: 'hr-intake', state: 'failed' };

    // A termination of nobody tenure knows fails for good (dead letter) and stays in the failed set.
    const unknown = hrEvent('employee.terminated', { id: 'NOBODY-1', email: 'nobody.at.all@example.com' });
    const sentAt = Date.now();
    expect((await app.inject(signedGeneric(unknown))).statusCode).toBe(202);
    const failed = await eventually('the failed HR job in the worker metrics', async () => {
      const text = await scrapeWorker();
      return sampleValue(text, 'tenure_jobs_total', intake('failed')) > sampleValue(before, 'tenure_jobs_total', intake('failed')) ? text : undefined;
    }, 30_000);
    expect(sampleValue(failed, 'tenure_jobs_total', intake('failed')) - sampleValue(before, 'tenure_jobs_total', intake('failed'))).toBe(1);
    expect(sampleValue(failed, 'tenure_queue_jobs', failedDepth) - sampleValue(before, 'tenure_queue_jobs', failedDepth)).toBe(1);

    // The leaver's termination: the job completes, the offboarding locks out, then completes clean.
    const event = hrEvent('employee.terminated', { id: 'M-1' });
    expect((await app.inject(signedGeneric(event))).statusCode).toBe(202);
    const handle = client.workflow.getHandle(offboardingWorkflowId(String(leaver.user._id)));
    await eventually('the HR offboarding to complete', async () => (await handle.query<{ status: string }>('progress')).status === 'completed', 60_000);
    const elapsedSeconds = (Date.now() - sentAt) / 1000;
    const after = await scrapeWorker();
    const delta = (name: string, labels: Record<string, string> = {}) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(delta('tenure_jobs_total', intake('completed'))).toBe(1);
    expect(delta('tenure_offboardings_total', { outcome: 'completed' })).toBe(1);
    expect(delta('tenure_offboardings_total', { outcome: 'completed_with_access_left_behind' })).toBe(0);
    expect(delta('tenure_hr_termination_to_lockout_seconds_count')).toBe(1);
    const observed = delta('tenure_hr_termination_to_lockout_seconds_sum');
    expect(observed).toBeGreaterThan(0);
    expect(observed).toBeLessThanOrEqual(elapsedSeconds);
    // Every queue's depth is there, by state.
    for (const queue of ['hr-intake', 'hr-reconciliation', 'invitation-sweep', 'system-check', 'slack-sync']) {
      for (const state of ['waiting', 'active', 'delayed', 'failed']) expect(after).toContain(`tenure_queue_jobs{queue="${queue}",state="${state}"}`);
    }

    // The Temporal SDK runtime's own series, from its Prometheus exporter.
    const temporal = [...familyNames(after)].filter((name) => name.startsWith('temporal_'));
    expect(temporal).toEqual(expect.arrayContaining(['temporal_request', 'temporal_workflow_task_execution_latency']));
    expect(sampleValue(after, 'temporal_worker_start', { task_queue: ctx.taskQueue })).toBeGreaterThanOrEqual(1);
    await handle.terminate('test over');
  }, 120_000);
});

describe('the HR termination-to-lockout delay', () => {
  it('is observed once by the step that ends access first, and only for an HR offboarding', async () => {
    const deps = createActivityDeps(ctx);
    const acts = offboardingActivities(deps);
    const env = new MockActivityEnvironment();
    const count = async () => sampleValue(await renderMetrics(), 'tenure_hr_termination_to_lockout_seconds_count');
    const sum = async () => sampleValue(await renderMetrics(), 'tenure_hr_termination_to_lockout_seconds_sum');
    try {
      const leaver = await seedUser(ctx.models);
      const ref = { userId: String(leaver.user._id), workflowId: `offboarding:${String(leaver.user._id)}`, runId: 'run-hr' };
      const start = await count();
      // Not from HR: nothing observed.
      await env.run(acts.lockOutUser, ref);
      await env.run(acts.revokeAccess, ref);
      expect(await count()).toBe(start);
      // From HR without an immediate lockout: the revocation at the effective date ends access.
      const sumBefore = await sum();
      await env.run(acts.revokeAccess, { ...ref, hrReceivedAt: new Date(Date.now() - 90_000).toISOString() });
      expect(await count()).toBe(start + 1);
      expect((await sum()) - sumBefore).toBeGreaterThanOrEqual(90);
      // From HR with an immediate lockout.
      await env.run(acts.lockOutUser, { ...ref, hrReceivedAt: new Date().toISOString() });
      expect(await count()).toBe(start + 2);
      // A receipt time that is not one is ignored.
      await env.run(acts.lockOutUser, { ...ref, hrReceivedAt: 'yesterday' });
      expect(await count()).toBe(start + 2);
    } finally {
      await closeDeps(deps);
    }
  });
});

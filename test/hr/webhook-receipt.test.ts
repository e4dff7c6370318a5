/**
 * Receipt of HR webhooks against the real app and Redis: only authentic, fresh, well-formed
 * deliveries are queued, and a redelivered event is queued once.
 */
import type { Client } from '@temporalio/client';
import type { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { hrJobId } from '../../src/jobs/hr-intake-queue';
import { createQueue, QUEUE_NAMES } from '../../src/jobs/queues';
import { createTestContext, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { createClient } from '../helpers/temporal';
import { BAMBOOHR_SECRET, GENERIC_SECRET, HR_TEST_CONFIG, hrEvent, PERSONIO_TOKEN, signedBambooHr, signedGeneric } from './hr-test-kit';

let ctx: TestContext;
let client: Client;
let app: App;
let queue: Queue;

beforeAll(async () => {
  ctx = await createTestContext('hrreceipt');
  client = await createClient(ctx);
  app = await createTestApp(ctx, client, HR_TEST_CONFIG);
  queue = createQueue(QUEUE_NAMES.hrIntake, ctx.queue);
});

afterEach(async () => {
  await queue.obliterate({ force: true });
});

afterAll(async () => {
  await app?.close();
  await queue?.close();
  await client?.connection.close();
  await ctx?.close();
});

async function queuedCount(): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

describe('POST /webhooks/hr/generic', () => {
  it('queues a signed, fresh event and answers 202 with its job id', async () => {
    const event = hrEvent('employee.terminated', { email: 'leaver@example.com', lastDay: '2030-01-31' });
    const res = await app.inject(signedGeneric(event));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 1, events: [{ eventId: event.eventId, type: 'employee.terminated', jobId: hrJobId('generic', event.eventId) }] });
    const job = await queue.getJob(hrJobId('generic', event.eventId));
    expect(job?.data).toMatchObject({ provider: 'generic', event });
    expect(job?.opts.attempts).toBe(8);
    expect(job?.opts.backoff).toEqual({ type: 'exponential', delay: 100 });
  });

  it('queues the same event delivered ten times once', async () => {
    const event = hrEvent('employee.updated', { email: 'someone@example.com', managerEmail: 'boss@example.com' });
    const answers = await Promise.all(Array.from({ length: 10 }, () => app.inject(signedGeneric(event))));
    expect(answers.map((r) => r.statusCode)).toEqual(Array(10).fill(202));
    expect(await queuedCount()).toBe(1);
  });

  it('hardening #16: events whose ids differ only by ":" and "_" are separate jobs; a redelivery of each is still one', async () => {
    // Every one of these ids became "a_1"-like under the old ':' → '_' job id and was dropped as a redelivery.
    const ids = ['a:1', 'a_1', 'a::1', 'a__1', 'a:_1', 'a_:1'];
    const events = ids.map((id) => hrEvent('employee.updated', { email: 'someone@example.com', managerEmail: 'boss@example.com' }, id));
    const first = [];
    for (const event of events) first.push(await app.inject(signedGeneric(event)));
    expect(first.map((r) => r.statusCode)).toEqual(Array(ids.length).fill(202));
    const jobIds = first.map((r) => r.json().events[0].jobId as string);
    expect(new Set(jobIds).size).toBe(ids.length);
    for (const jobId of jobIds) expect(jobId).not.toContain(':');
    expect(await queuedCount()).toBe(ids.length);
    for (const [i, event] of events.entries()) expect((await queue.getJob(jobIds[i]!))?.data.event.eventId).toBe(event.eventId);

    // The same event again (and the same id from another provider's point of view) changes nothing / stays apart.
    const again = await Promise.all(events.map((event) => app.inject(signedGeneric(event))));
    expect(again.map((r) => r.json().events[0].jobId)).toEqual(jobIds);
    expect(await queuedCount()).toBe(ids.length);
    expect(hrJobId('personio', 'a:1')).not.toBe(hrJobId('generic', 'a:1'));
  });

  it('refuses a bad signature, a stale or future timestamp and another provider\'s secret, queueing nothing', async () => {
    const event = hrEvent('employee.terminated', { email: 'leaver@example.com' });
    const tampered = signedGeneric(event);
    tampered.payload = tampered.payload.replace('leaver@', 'other@');
    const cases = [
      { name: 'tampered body', request: tampered, code: 'invalid_signature' },
      { name: 'garbage signature', request: { ...signedGeneric(event), headers: { ...signedGeneric(event).headers, 'x-tenure-signature': 'sha256=abc' } }, code: 'invalid_signature' },
      { name: 'no signature', request: { ...signedGeneric(event), headers: { 'content-type': 'application/json', 'x-tenure-timestamp': String(Math.floor(Date.now() / 1000)) } }, code: 'missing_signature' },
      { name: 'six minutes old', request: signedGeneric(event, { timestamp: Date.now() - 6 * 60_000 }), code: 'stale_timestamp' },
      { name: 'ten minutes ahead', request: signedGeneric(event, { timestamp: Date.now() + 10 * 60_000 }), code: 'invalid_timestamp' },
      { name: "BambooHR's secret", request: signedGeneric(event, { secret: BAMBOOHR_SECRET }), code: 'invalid_signature' },
      { name: 'a guessed secret', request: signedGeneric(event, { secret: `${GENERIC_SECRET}x` }), code: 'invalid_signature' },
    ];
    for (const c of cases) {
      const res = await app.inject(c.request);
      expect(res.statusCode, c.name).toBe(401);
      expect(res.json().error.code, c.name).toBe(c.code);
      expect(res.json().error.message, c.name).toMatch(/\w+ \w+/);
    }
    expect(await queuedCount()).toBe(0);
  });

  it('refuses a malformed body (signed correctly) with 400, queueing nothing', async () => {
    const cases = [
      { body: '{"eventId": "x", ', code: 'malformed_json' },
      { body: '', code: 'malformed_json' },
      { body: JSON.stringify({ ...hrEvent('employee.hired'), type: 'employee.promoted' }), code: 'invalid_event' },
      { body: JSON.stringify({ ...hrEvent('employee.hired'), eventId: '' }), code: 'invalid_event' },
      { body: JSON.stringify({ ...hrEvent('employee.hired'), employee: { id: 'E1', email: 'not-an-email' } }), code: 'invalid_event' },
      { body: JSON.stringify({ ...hrEvent('employee.terminated'), employee: { id: 'E1', lastDay: 'next friday' } }), code: 'invalid_event' },
      { body: JSON.stringify([1, 2, 3]), code: 'invalid_event' },
    ];
    for (const c of cases) {
      const res = await app.inject(signedGeneric(undefined, { body: c.body }));
      expect(res.statusCode, c.body).toBe(400);
      expect(res.json().error.code, c.body).toBe(c.code);
    }
    expect(await queuedCount()).toBe(0);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/webhooks/hr/{provider}', '/v1/hr/dead-letters']));
  });

  it('answers 404 for an unknown provider', async () => {
    const res = await app.inject({ ...signedGeneric(hrEvent('employee.hired')), url: '/webhooks/hr/workday' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('unknown_hr_provider');
    expect(await queuedCount()).toBe(0);
  });
});

describe('POST /webhooks/hr/bamboohr', () => {
  const at = new Date().toISOString();
  const termination = (id: string) => ({
    employees: [
      {
        id,
        action: 'Updated',
        timestamp: at,
        changedFields: ['Employment Status'],
        fields: { 'First Name': 'Lee', 'Last Name': 'Ver', 'Work Email': 'lee.ver@example.com', 'Employment Status': 'Terminated', 'Termination Date': '2030-02-28' },
      },
      { id: `${id}b`, action: 'Created', fields: { 'First Name': 'New', 'Last Name': 'Hire', 'Work Email': 'new.hire@example.com', 'Supervisor Email': 'boss@example.com' } },
      { id: `${id}c`, action: 'Updated', changedFields: ['Supervisor Email'], fields: { 'Work Email': 'mover@example.com', 'Employment Status': 'Full-Time', 'Supervisor Email': 'boss2@example.com' } },
    ],
  });

  it('maps a signed delivery to generic events: termination from the employment status, hire from a created employee', async () => {
    const res = await app.inject(signedBambooHr(termination('501')));
    expect(res.statusCode).toBe(202);
    const { events } = res.json() as { events: Array<{ eventId: string; type: string; jobId: string }> };
    expect(events.map((e) => e.type)).toEqual(['employee.terminated', 'employee.hired', 'employee.updated']);
    const job = await queue.getJob(events[0]!.jobId);
    expect(job?.data.event.employee).toEqual({ id: '501', email: 'lee.ver@example.com', firstName: 'Lee', lastName: 'Ver', lastDay: '2030-02-28' });
    expect((await queue.getJob(events[2]!.jobId))?.data.event.employee.managerEmail).toBe('boss2@example.com');
    // BambooHR retrying the same delivery maps to the same event ids: nothing new is queued.
    const again = await app.inject(signedBambooHr(termination('501')));
    expect(again.json().events.map((e: { eventId: string }) => e.eventId)).toEqual(events.map((e) => e.eventId));
    expect(await queuedCount()).toBe(3);
  });

  it('refuses the generic secret, a stale timestamp and a body without employees', async () => {
    const wrong = await app.inject(signedBambooHr(termination('502'), { secret: GENERIC_SECRET }));
    expect([wrong.statusCode, wrong.json().error.code]).toEqual([401, 'invalid_signature']);
    const stale = await app.inject(signedBambooHr(termination('502'), { timestamp: Date.now() - 10 * 60_000 }));
    expect([stale.statusCode, stale.json().error.code]).toEqual([401, 'stale_timestamp']);
    const empty = await app.inject(signedBambooHr({ employees: [] }));
    expect([empty.statusCode, empty.json().error.code]).toEqual([400, 'invalid_event']);
    expect(await queuedCount()).toBe(0);
  });
});

describe('POST /webhooks/hr/personio (bearer token)', () => {
  it('accepts the configured token only', async () => {
    const event = hrEvent('employee.hired', { email: 'p.hire@example.com' });
    const request = { method: 'POST' as const, url: '/webhooks/hr/personio', payload: JSON.stringify(event), headers: { 'content-type': 'application/json' } };
    const none = await app.inject(request);
    expect([none.statusCode, none.json().error.code]).toEqual([401, 'missing_token']);
    const wrong = await app.inject({ ...request, headers: { ...request.headers, authorization: `Bearer ${PERSONIO_TOKEN}x` } });
    expect([wrong.statusCode, wrong.json().error.code]).toEqual([401, 'invalid_token']);
    expect(await queuedCount()).toBe(0);
    const ok = await app.inject({ ...request, headers: { ...request.headers, authorization: `Bearer ${PERSONIO_TOKEN}` } });
    expect(ok.statusCode).toBe(202);
    expect(await queue.getJob(hrJobId('personio', event.eventId))).toBeTruthy();
  });

  it('answers 503 hr_provider_not_configured when the provider has no secret', async () => {
    const bare = await createTestApp(ctx, client, { HR_GENERIC_SECRET: GENERIC_SECRET });
    try {
      const res = await bare.inject({ method: 'POST', url: '/webhooks/hr/personio', payload: '{}', headers: { 'content-type': 'application/json', authorization: `Bearer ${PERSONIO_TOKEN}` } });
      expect([res.statusCode, res.json().error.code]).toEqual([503, 'hr_provider_not_configured']);
      expect(await queuedCount()).toBe(0);
    } finally {
      await bare.close();
    }
  });
});

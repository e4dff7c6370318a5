/**
 * The intake processor on real Redis, MongoDB-wire and Temporal: unknown employees go to the
 * dead-letter list (with an audit entry) without retries, manager changes update the user,
 * and transient failures are retried with backoff rather than dead-lettered.
 */
import { Client, Connection } from '@temporalio/client';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/devstack/ports';
import type { App } from '../../src/http/app';
import { createQueue, QUEUE_NAMES } from '../../src/jobs/queues';
import { startJobWorkers } from '../../src/jobs/workers';
import { onboardingWorkflowId } from '../../src/processes/onboarding';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { createClient } from '../helpers/temporal';
import { seedUser } from '../helpers/users';
import { HR_TEST_CONFIG, hrEvent, signedGeneric } from './hr-test-kit';

let ctx: TestContext;
let client: Client;
let app: App;
let workers: Worker[];

beforeAll(async () => {
  ctx = await createTestContext('hrintake');
  client = await createClient(ctx);
  app = await createTestApp(ctx, client, HR_TEST_CONFIG);
  workers = startJobWorkers({ models: ctx.models, queue: ctx.queue, logger: ctx.logger, hr: { temporal: client, taskQueue: ctx.taskQueue, terminationLockout: true } });
});

afterAll(async () => {
  await Promise.all((workers ?? []).map((w) => w.close()));
  await app?.close();
  await client?.connection.close();
  await ctx?.close();
});

async function deliver(event: ReturnType<typeof hrEvent>, target: App = app): Promise<string> {
  const res = await target.inject(signedGeneric(event));
  expect(res.statusCode).toBe(202);
  return res.json().events[0].jobId;
}

describe('employee.hired', () => {
  it("creates the pending user in the job itself, as the API's invitation does, with HR as actor, then starts the onboarding", async () => {
    const event = hrEvent('employee.hired', { id: 'HR-NEW-1', email: 'Hired.Now@example.com', firstName: 'Hired', lastName: 'Now' });
    const jobId = await deliver(event);
    const queue = createQueue(QUEUE_NAMES.hrIntake, ctx.queue);
    const workflowId = onboardingWorkflowId('hired.now@example.com');
    try {
      await eventually('the job to complete', async () => (await queue.getJobState(jobId)) === 'completed');
      expect((await queue.getJob(jobId))?.returnvalue).toMatchObject({ outcome: 'onboarding_started', workflowId, started: true });
    } finally {
      await queue.close();
    }
    // No Temporal worker runs here: the user exists because the job created it.
    expect(await ctx.models.User.findOne({ email: 'hired.now@example.com' }).lean()).toMatchObject({ status: 'pending', hrEmployeeId: 'HR-NEW-1', firstName: 'Hired', lastName: 'Now' });
    expect(await ctx.models.AuditEvent.find({ action: 'user.created', targetEmail: 'hired.now@example.com' }).lean()).toMatchObject([{ actorType: 'hr', processId: workflowId }]);
    await client.workflow.getHandle(workflowId).terminate('test over');
  });

  it("dead-letters a hire the invitation rules refuse (outside the organization's domain) with the API's sentence, creating nothing", async () => {
    const event = hrEvent('employee.hired', { id: 'HR-NEW-2', email: 'contractor@elsewhere.org' });
    await ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { domain: 'example.com' } }, { upsert: true });
    const queue = createQueue(QUEUE_NAMES.hrIntake, ctx.queue);
    try {
      const jobId = await deliver(event);
      await eventually('the job to fail', async () => (await queue.getJobState(jobId)) === 'failed');
    } finally {
      await queue.close();
      await ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { domain: '' } });
    }
    const [letter] = await ctx.models.HrDeadLetter.find({ eventId: event.eventId }).lean();
    expect(letter).toMatchObject({ reason: 'start_refused' });
    expect(letter!.message).toMatch(/confirmDomainMismatch/);
    expect(await ctx.models.User.exists({ email: 'contractor@elsewhere.org' })).toBeNull();
    expect(await client.workflow.getHandle(onboardingWorkflowId('contractor@elsewhere.org')).describe().then(() => 'started', () => 'none')).toBe('none');
  });
});

describe('unknown employee', () => {
  it('is dead-lettered once, audited, not retried, and listed for Administrators only', async () => {
    const admin = await seedUser(ctx.models, { siteRole: 'Administrators' });
    const auditor = await seedUser(ctx.models, { siteRole: 'Auditors' });
    const event = hrEvent('employee.terminated', { id: 'NOBODY-1', email: 'ghost@example.com', lastDay: '2030-01-01' });
    const jobId = await deliver(event);
    const queue = createQueue(QUEUE_NAMES.hrIntake, ctx.queue);
    try {
      await eventually('the job to fail', async () => (await queue.getJobState(jobId)) === 'failed');
      const job = await queue.getJob(jobId);
      expect(job?.attemptsMade).toBe(1);
      expect(job?.failedReason).toMatch(/no user has HR employee id NOBODY-1 or email ghost@example.com/);
    } finally {
      await queue.close();
    }
    const letters = await ctx.models.HrDeadLetter.find({ eventId: event.eventId }).lean();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ jobId, provider: 'generic', eventType: 'employee.terminated', reason: 'unknown_employee' });
    const audit = await ctx.models.AuditEvent.find({ action: 'hr.event_dead_lettered', eventKey: `hr-dead-letter:${jobId}` }).lean();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorType: 'hr', targetEmail: 'ghost@example.com' });

    // Redelivery: no second job, no second dead letter.
    expect(await deliver(event)).toBe(jobId);
    await new Promise((r) => setTimeout(r, 300));
    expect(await ctx.models.HrDeadLetter.countDocuments({ eventId: event.eventId })).toBe(1);

    const listed = await app.inject({ method: 'GET', url: '/v1/hr/dead-letters', headers: admin.auth });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().deadLetters.find((d: { eventId: string }) => d.eventId === event.eventId)).toMatchObject({ reason: 'unknown_employee', type: 'employee.terminated', employee: { id: 'NOBODY-1' } });
    expect((await app.inject({ method: 'GET', url: '/v1/hr/dead-letters', headers: auditor.auth })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/v1/hr/dead-letters' })).statusCode).toBe(401);
  });

  it('an update for nobody is dead-lettered too', async () => {
    const event = hrEvent('employee.updated', { id: 'NOBODY-2', managerEmail: 'x@example.com' });
    await deliver(event);
    const letter = await eventually('the dead letter', () => ctx.models.HrDeadLetter.findOne({ eventId: event.eventId }).lean());
    expect(letter.reason).toBe('unknown_employee');
  });
});

describe('employee.updated', () => {
  it('sets the new manager (found by HR id, else by email), audits it, and dead-letters an unknown manager', async () => {
    const boss = await seedUser(ctx.models, { email: 'the.boss@example.com' });
    const byHrId = await seedUser(ctx.models, { hrEmployeeId: 'HR-100' });
    const byEmail = await seedUser(ctx.models, { email: 'no.hr.id@example.com' });

    await deliver(hrEvent('employee.updated', { id: 'HR-100', email: 'stale.address@example.com', managerEmail: 'THE.BOSS@example.com' }));
    await deliver(hrEvent('employee.updated', { id: 'HR-200', email: byEmail.user.email, managerEmail: boss.user.email }));
    await eventually('both managers set', async () => {
      const [a, b] = await Promise.all([ctx.models.User.findById(byHrId.user._id).lean(), ctx.models.User.findById(byEmail.user._id).lean()]);
      return a?.managerId?.equals(boss.user._id) && b?.managerId?.equals(boss.user._id);
    });
    // Matched by email, the user now carries the HR employee id for next time.
    expect((await ctx.models.User.findById(byEmail.user._id).lean())?.hrEmployeeId).toBe('HR-200');
    expect(await ctx.models.AuditEvent.countDocuments({ action: 'user.manager_changed', targetUserId: byHrId.user._id, actorType: 'hr' })).toBe(1);

    const unknownManager = hrEvent('employee.updated', { id: 'HR-100', managerEmail: 'nobody.boss@example.com' });
    await deliver(unknownManager);
    const letter = await eventually('the dead letter', () => ctx.models.HrDeadLetter.findOne({ eventId: unknownManager.eventId }).lean());
    expect(letter.reason).toBe('unknown_manager');
    expect((await ctx.models.User.findById(byHrId.user._id).lean())?.managerId?.equals(boss.user._id)).toBe(true);
  });
});

describe('transient failures', () => {
  it('are retried with exponential backoff up to the configured attempts, not dead-lettered', async () => {
    // A Temporal client that cannot reach its server: every start fails, as during an outage.
    const deadTemporal = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 200, interceptors: [] }) });
    const prefix = `${ctx.queue.prefix}-transient`;
    const transientApp = await createTestApp(ctx, client, { ...HR_TEST_CONFIG, REDIS_PREFIX: prefix, HR_INTAKE_ATTEMPTS: 3, HR_INTAKE_BACKOFF: 50 });
    const transientWorkers = startJobWorkers({ models: ctx.models, queue: { connection: ctx.redis, prefix }, logger: ctx.logger, hr: { temporal: deadTemporal, taskQueue: ctx.taskQueue, terminationLockout: true } });
    const queue = createQueue(QUEUE_NAMES.hrIntake, { connection: ctx.redis, prefix });
    try {
      const leaver = await seedUser(ctx.models, { hrEmployeeId: 'HR-300' });
      const event = hrEvent('employee.terminated', { id: 'HR-300', lastDay: '2030-03-01' });
      const jobId = await deliver(event, transientApp);
      await eventually('the job to exhaust its attempts', async () => (await queue.getJobState(jobId)) === 'failed', 45_000);
      const job = await queue.getJob(jobId);
      expect(job?.attemptsMade).toBe(3);
      expect(await ctx.models.HrDeadLetter.countDocuments({ eventId: event.eventId })).toBe(0);
      // What HR said is kept even though no process could start: the reconciliation sweep picks it up.
      expect((await ctx.models.User.findById(leaver.user._id).lean())?.hrStatus).toBe('terminated');
    } finally {
      await Promise.all(transientWorkers.map((w) => w.close()));
      await queue.obliterate({ force: true });
      await queue.close();
      await transientApp.close();
      await deadTemporal.connection.close().catch(() => undefined);
    }
  }, 60_000);
});

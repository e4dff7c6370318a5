/**
 * HR events start the real processes on the real Temporal server: a termination delivered ten
 * times (and by SCIM at the same moment) makes one offboarding with the HR last day and the
 * configured lockout; a hire starts the onboarding that creates the pending user.
 */
import type { Client } from '@temporalio/client';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { createQueue, QUEUE_NAMES } from '../../src/jobs/queues';
import { startJobWorkers } from '../../src/jobs/workers';
import { verifyAccessToken } from '../../src/security/access-tokens';
import { offboardingWorkflowId } from '../../src/processes/offboarding';
import { onboardingWorkflowId } from '../../src/processes/onboarding';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createClient, withWorker } from '../helpers/temporal';
import { seedUser } from '../helpers/users';
import { PATCH_SCHEMA, SCIM_TOKEN, scimRequest } from '../scim/scim-kit';
import { HR_TEST_CONFIG, hrEvent, signedGeneric } from './hr-test-kit';

let ctx: TestContext;
let client: Client;
let app: App;
let workers: Worker[];
let smtp: TestSmtpServer;

beforeAll(async () => {
  ctx = await createTestContext('hrprocess');
  client = await createClient(ctx);
  smtp = await startSmtpServer();
  app = await createTestApp(ctx, client, { ...HR_TEST_CONFIG, SCIM_BEARER_TOKEN: SCIM_TOKEN });
  // A zone far from UTC (UTC+14): a last day that ended at UTC midnight would be ten hours late.
  workers = startJobWorkers({ models: ctx.models, queue: ctx.queue, logger: ctx.logger, hr: { temporal: client, taskQueue: ctx.taskQueue, terminationLockout: true, timeZone: 'Pacific/Kiritimati' } });
});

afterAll(async () => {
  await Promise.all((workers ?? []).map((w) => w.close()));
  await app?.close();
  await smtp?.close();
  await client?.connection.close();
  await ctx?.close();
});

async function runsOf(workflowId: string): Promise<number> {
  let n = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) n += 1;
  return n;
}

describe('employee.terminated', () => {
  it('delivered ten times, and by SCIM at once, makes one offboarding with the last day and an immediate lockout', async () => {
    await seedUser(ctx.models, { siteRole: 'Administrators' });
    const leaver = await seedUser(ctx.models, { email: 'leaving.soon@example.com', hrEmployeeId: 'HR-900' });
    const event = hrEvent('employee.terminated', { id: 'HR-900', email: leaver.user.email, lastDay: '2031-06-30' });
    const workflowId = offboardingWorkflowId(String(leaver.user._id));
    await withWorker(
      ctx,
      async () => {
        const answers = await Promise.all([
          ...Array.from({ length: 10 }, () => app.inject(signedGeneric(event))),
          scimRequest(app, 'PATCH', `/Users/${leaver.user._id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] }),
        ]);
        expect(answers.map((r) => r.statusCode)).toEqual([...Array(10).fill(202), 200]);
        const jobIds = new Set(answers.slice(0, 10).map((r) => r.json().events[0].jobId));
        expect(jobIds.size).toBe(1);

        const queue = createQueue(QUEUE_NAMES.hrIntake, ctx.queue);
        try {
          const jobId = [...jobIds][0]!;
          await eventually('the intake job to complete', async () => (await queue.getJobState(jobId)) === 'completed', 20_000);
          const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'delayed', 'active');
          expect(counts).toMatchObject({ completed: 1, failed: 0, waiting: 0, delayed: 0, active: 0 });
          expect((await queue.getJob(jobId))?.returnvalue).toMatchObject({ outcome: 'offboarding_started', workflowId });
        } finally {
          await queue.close();
        }

        const handle = client.workflow.getHandle(workflowId);
        expect((await handle.describe()).status.name).toBe('RUNNING');
        await eventually('the run to be visible', async () => (await runsOf(workflowId)) >= 1);
        expect(await runsOf(workflowId)).toBe(1);
        // Whichever way in came first, the process waits for the last day and locked the leaver out at once.
        const history = await handle.fetchHistory();
        const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
        const started = JSON.parse(Buffer.from(input!).toString('utf8'));
        expect(started.userId).toBe(String(leaver.user._id));
        expect(started.immediateLockout).toBe(true);
        expect(['hr', 'scim']).toContain(started.source);
        // Both ways in leave the trail of a person's request: one started it, the other joined it.
        const trail = await ctx.models.AuditEvent.find({ processId: workflowId, action: { $in: ['offboarding.requested', 'offboarding.request_joined'] } }).lean();
        expect(trail.map((e) => e.actorType).sort()).toEqual(['hr', 'scim']);
        expect(trail.filter((e) => e.action === 'offboarding.requested').map((e) => e.actorType)).toEqual([started.source]);
        expect(trail.find((e) => e.actorType === 'hr')).toMatchObject({ targetUserId: leaver.user._id, details: { source: 'hr', provider: 'generic', eventId: event.eventId } });
        await eventually('the lockout to revoke the API token', async () => !(await verifyAccessToken(ctx.models, leaver.token)));
        expect((await ctx.models.User.findById(leaver.user._id).lean())?.hrStatus).toBe('terminated');
        await handle.terminate('test over');
      },
      { smtpUrl: smtp.url },
    );
  }, 60_000);

  it("hardening #17: takes the end of the HR last day in the organization's time zone as the effective date; the API shows hrStatus and the source", async () => {
    const admin = await seedUser(ctx.models, { siteRole: 'Administrators' });
    const leaver = await seedUser(ctx.models, { email: 'last.day@example.com', hrEmployeeId: 'HR-901' });
    const userId = String(leaver.user._id);
    await withWorker(
      ctx,
      async () => {
        const res = await app.inject(signedGeneric(hrEvent('employee.terminated', { id: 'HR-901', lastDay: '2032-01-15' })));
        expect(res.statusCode).toBe(202);
        const handle = client.workflow.getHandle(offboardingWorkflowId(userId));
        const history = await eventually('the offboarding to start', () => handle.fetchHistory().catch(() => undefined));
        const started = JSON.parse(Buffer.from(history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!).toString('utf8'));
        // 2032-01-15 23:59:59.999 at UTC+14, not 2032-01-15 00:00 UTC.
        expect(started).toMatchObject({ source: 'hr', effectiveDate: '2032-01-15T09:59:59.999Z', immediateLockout: true, requestedBy: { type: 'hr' } });

        const view = await app.inject({ method: 'GET', url: `/v1/users/${userId}`, headers: admin.auth });
        expect(view.json()).toMatchObject({ hrStatus: 'terminated', hrEmployeeId: 'HR-901' });
        const progress = await eventually('the offboarding to wait for the last day', async () => {
          const body = (await app.inject({ method: 'GET', url: `/v1/users/${userId}/offboarding`, headers: admin.auth })).json();
          return body.status === 'waiting_effective_date' ? body : undefined;
        }, 20_000);
        expect(progress).toMatchObject({ source: 'hr', effectiveDate: '2032-01-15T09:59:59.999Z', requestedBy: { type: 'hr' } });
        expect(progress.plan).toMatchObject({ hrStatus: 'terminated' });
        expect(progress.steps.find((st: { name: string }) => st.name === 'effective_date').detail).toContain('2032-01-15T09:59:59.999Z');
        const plan = await app.inject({ method: 'GET', url: `/v1/users/${userId}/offboarding-plan`, headers: admin.auth });
        expect(plan.json()).toMatchObject({ hrStatus: 'terminated' });
        await handle.terminate('test over');
      },
      { smtpUrl: smtp.url },
    );
  }, 60_000);
});

describe('employee.hired', () => {
  it('starts the onboarding, which creates the pending user with the HR id and manager and sends the invitation', async () => {
    const manager = await seedUser(ctx.models, { email: 'hiring.manager@example.com', siteRole: 'Administrators' });
    const event = hrEvent('employee.hired', { id: 'HR-950', email: 'New.Starter@example.com', firstName: 'New', lastName: 'Starter', managerEmail: manager.user.email });
    await withWorker(
      ctx,
      async () => {
        for (let i = 0; i < 3; i += 1) expect((await app.inject(signedGeneric(event))).statusCode).toBe(202);
        const user = await eventually('the pending user', () => ctx.models.User.findOne({ email: 'new.starter@example.com' }).lean(), 20_000);
        expect(user).toMatchObject({ status: 'pending', hrEmployeeId: 'HR-950', firstName: 'New', lastName: 'Starter' });
        expect(user.managerId?.equals(manager.user._id)).toBe(true);
        const workflowId = onboardingWorkflowId('new.starter@example.com');
        // The job creates the pending user, then starts its onboarding: the process follows the user.
        await eventually('the onboarding to run', async () => (await client.workflow.getHandle(workflowId).describe().catch(() => undefined))?.status.name === 'RUNNING', 20_000);
        await eventually('the invitation email', async () => smtp.to('new.starter@example.com').length > 0, 20_000);
        expect(await runsOf(workflowId)).toBe(1);
        await client.workflow.getHandle(workflowId).terminate('test over');
      },
      { smtpUrl: smtp.url },
    );
  }, 60_000);
});

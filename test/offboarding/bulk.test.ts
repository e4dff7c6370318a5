/** Bulk offboarding through the API (JSON and CSV) on the real servers. */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { createSession } from '../../src/services/sessions';
import { startOffboarding } from '../../src/processes/offboarding';
import { progressQuery, type BulkOffboardingProgress } from '../../workflows/offboarding-messages';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { createClient, withWorker } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';
import { setPolicy } from './fixtures';

let ctx: TestContext;
let client: Client;
let app: App;
let admin: SeededUser;
let manager: SeededUser;

beforeAll(async () => {
  ctx = await createTestContext('bulkoff');
  client = await createClient(ctx);
  app = await createTestApp(ctx, client);
  admin = await seedUser(ctx.models, { email: 'bulk-admin@example.com', siteRole: 'Administrators' });
  manager = await seedUser(ctx.models, { email: 'bulk-manager@example.com' });
  await setPolicy(ctx.models, { approvalRequired: false, retentionMs: null });
});

afterAll(async () => {
  await app?.close();
  await client?.connection.close();
  await ctx?.close();
});

async function seedLeavers(n: number, prefix: string): Promise<SeededUser[]> {
  const leavers: SeededUser[] = [];
  for (let i = 0; i < n; i++) {
    const leaver = await seedUser(ctx.models, { email: `${prefix}-${i}@example.com`, managerId: manager.user._id });
    await createSession(ctx.models, leaver.user._id, {}, { type: 'system' });
    leavers.push(leaver);
  }
  await ctx.models.Resource.insertMany(leavers.flatMap((l, i) => [0, 1].map((k) => ({ kind: 'pipeline', name: `${prefix}-${i}-${k}`, ownerId: l.user._id, createdBy: l.user._id }))));
  return leavers;
}

const worker = { deps: { offboarding: { approvalReminderMs: 600_000, approvalEscalationMs: 1_200_000, undoGraceMs: 200 } } };

async function bulkProgress(id: string): Promise<BulkOffboardingProgress> {
  const res = await app.inject({ method: 'GET', url: `/v1/offboardings/bulk/${id}`, headers: admin.auth });
  expect(res.statusCode).toBe(200);
  return res.json();
}

describe('bulk offboarding', () => {
  it('offboards 50 users as child workflows with a concurrency limit and one progress view', async () => {
    const leavers = await seedLeavers(50, 'bulk50');
    await withWorker(
      ctx,
      async () => {
        const res = await app.inject({
          method: 'POST',
          url: '/v1/offboardings/bulk',
          headers: admin.auth,
          payload: { users: leavers.map((l) => l.user.email), reason: 'site closure', concurrency: 10 },
        });
        expect(res.statusCode).toBe(202);
        const { processId, users } = res.json();
        expect(users).toBe(50);
        let maxRunning = 0;
        const done = await eventually(
          'the bulk offboarding to finish',
          async () => {
            const p = await bulkProgress(processId);
            maxRunning = Math.max(maxRunning, p.items.filter((i) => i.status === 'running').length);
            return p.done ? p : undefined;
          },
          110_000,
        );
        expect(maxRunning).toBeLessThanOrEqual(10);
        expect(done.total).toBe(50);
        expect(done.byStatus).toEqual({ completed: 50 });
        const ids = leavers.map((l) => l.user._id);
        expect(await ctx.models.User.countDocuments({ _id: { $in: ids }, status: 'deactivated' })).toBe(50);
        expect(await ctx.models.Resource.countDocuments({ ownerId: { $in: ids } })).toBe(0);
        expect(await ctx.models.Resource.countDocuments({ ownerId: manager.user._id, name: /^bulk50-/ })).toBe(100);
        expect(await ctx.models.Session.countDocuments({ userId: { $in: ids }, endedAt: null })).toBe(0);
        expect(await ctx.models.AuditEvent.countDocuments({ action: 'offboarding.bulk_requested', processId })).toBe(1);
      },
      worker,
    );
  }, 120_000);

  it('takes a CSV body with an email column', async () => {
    const leavers = await seedLeavers(3, 'bulkcsv');
    await withWorker(
      ctx,
      async () => {
        const csv = `Name,Email,Reason\r\n"Doe, Jane",${leavers[0]!.user.email},contract ended\r\nBob,${leavers[1]!.user.email},\r\nEve,${leavers[2]!.user.email},"said ""bye"""\r\n`;
        const res = await app.inject({ method: 'POST', url: '/v1/offboardings/bulk?reason=reorg', headers: { ...admin.auth, 'content-type': 'text/csv' }, payload: csv });
        expect(res.statusCode).toBe(202);
        const done = await eventually('the CSV bulk to finish', async () => {
          const p = await bulkProgress(res.json().processId);
          return p.done ? p : undefined;
        }, 40_000);
        expect(done.byStatus).toEqual({ completed: 3 });
        expect(await ctx.models.User.countDocuments({ _id: { $in: leavers.map((l) => l.user._id) }, status: 'deactivated' })).toBe(3);
        const reasons = await ctx.models.AuditEvent.find({ action: 'offboarding.bulk_requested', processId: res.json().processId }).lean();
        expect(reasons[0]!.details).toMatchObject({ reason: 'reorg', users: 3 });
      },
      worker,
    );
  }, 60_000);

  it('joins a leaver whose offboarding already runs instead of starting a second one', async () => {
    const [waiting, fresh] = await seedLeavers(2, 'bulkjoin');
    await withWorker(
      ctx,
      async () => {
        const own = await startOffboarding(client, ctx.taskQueue, {
          userId: String(waiting!.user._id),
          reason: 'started alone',
          requestedBy: { type: 'hr' },
          source: 'hr',
          effectiveDate: new Date(Date.now() + 3_600_000).toISOString(),
        });
        const res = await app.inject({ method: 'POST', url: '/v1/offboardings/bulk', headers: admin.auth, payload: { users: [waiting!.user.email, fresh!.user.email], reason: 'bulk' } });
        expect(res.statusCode).toBe(202);
        const done = await eventually('the bulk to finish', async () => {
          const p = await bulkProgress(res.json().processId);
          return p.done ? p : undefined;
        }, 40_000);
        expect(done.byStatus).toEqual({ already_running: 1, completed: 1 });
        // The one started alone is still its own single run, waiting for its date.
        const progress = await client.workflow.getHandle(own.workflowId).query(progressQuery);
        expect(progress.status).toBe('waiting_effective_date');
        await client.workflow.getHandle(own.workflowId).terminate('test finished');
      },
      worker,
    );
  }, 60_000);

  it('refuses bad bulk requests before starting anything', async () => {
    const [someone] = await seedLeavers(1, 'bulkbad');
    const noEmail = await app.inject({ method: 'POST', url: '/v1/offboardings/bulk', headers: { ...admin.auth, 'content-type': 'text/csv' }, payload: 'name\nBob\n' });
    expect(noEmail.statusCode).toBe(400);
    expect(noEmail.json().error.code).toBe('invalid_csv');
    const unknown = await app.inject({ method: 'POST', url: '/v1/offboardings/bulk', headers: admin.auth, payload: { users: [someone!.user.email, 'ghost@example.com'], reason: 'x' } });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().error.details.problems).toHaveLength(1);
    const tooBig = await app.inject({ method: 'POST', url: '/v1/offboardings/bulk', headers: { ...admin.auth, 'content-type': 'text/csv' }, payload: `email\n${'x@example.com\n'.repeat(30_000)}` });
    expect(tooBig.statusCode).toBe(413);
    const empty = await app.inject({ method: 'POST', url: '/v1/offboardings/bulk', headers: admin.auth, payload: { users: [], reason: 'x' } });
    expect(empty.statusCode).toBe(400);
    const notAdmin = await app.inject({ method: 'POST', url: '/v1/offboardings/bulk', headers: manager.auth, payload: { users: [someone!.user.email], reason: 'x' } });
    expect(notAdmin.statusCode).toBe(403);
    const missing = await app.inject({ method: 'GET', url: '/v1/offboardings/bulk/bulk-offboarding:nope', headers: admin.auth });
    expect(missing.statusCode).toBe(404);
    // Nothing started: the leaver is untouched.
    expect((await ctx.models.User.findById(someone!.user._id).lean())!.status).toBe('active');
  });
});

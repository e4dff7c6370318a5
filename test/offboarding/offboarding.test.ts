/**
 * Offboarding end to end on the real servers: API → Temporal workflow → activities → store.
 */
import type { Client } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { getOffboardingProgress, offboardingWorkflowId } from '../../src/processes/offboarding';
import { approveUpdate, type OffboardingProgress } from '../../workflows/offboarding-messages';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createClient, withWorker, type WorkerOptions } from '../helpers/temporal';
import { seedResource } from '../helpers/users';
import { seedOrg, seedUntransferableResource, setPolicy, type Org } from './fixtures';

let ctx: TestContext;
let client: Client;
let app: App;
let smtp: TestSmtpServer;

beforeAll(async () => {
  ctx = await createTestContext('offboarding');
  client = await createClient(ctx);
  app = await createTestApp(ctx, client);
  smtp = await startSmtpServer();
});

afterAll(async () => {
  await app?.close();
  await smtp?.close();
  await client?.connection.close();
  await ctx?.close();
});

beforeEach(async () => {
  await setPolicy(ctx.models, { approvalRequired: true, retentionMs: null });
});

const fast = (over: Partial<NonNullable<WorkerOptions['deps']>['offboarding']> = {}): WorkerOptions => ({
  smtpUrl: smtp.url,
  deps: { offboarding: { approvalReminderMs: 600_000, approvalEscalationMs: 1_200_000, undoGraceMs: 500, ...over } },
});

async function start(org: Org, body: Record<string, unknown>, auth = org.manager.auth) {
  return app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user.email}/offboarding`, headers: auth, payload: { reason: 'leaving the company', ...body } });
}

async function progress(org: Org): Promise<OffboardingProgress> {
  return getOffboardingProgress(client, String(org.leaver.user._id));
}

async function waitForStatus(org: Org, status: OffboardingProgress['status'] | Array<OffboardingProgress['status']>, timeoutMs = 20_000): Promise<OffboardingProgress> {
  const wanted = Array.isArray(status) ? status : [status];
  let last: OffboardingProgress | undefined;
  try {
    return await eventually(`offboarding to be ${wanted.join('|')}`, async () => {
      last = await progress(org);
      return wanted.includes(last.status) ? last : undefined;
    }, timeoutMs);
  } catch (err) {
    const raw = await client.workflow.getHandle(offboardingWorkflowId(String(org.leaver.user._id))).describe().then((d) => d.raw.pendingActivities?.map((a) => a.lastFailure?.message));
    throw new Error(`${(err as Error).message}; pending activity failures: ${JSON.stringify(raw)}; last progress: ${JSON.stringify({ status: last?.status, steps: last?.steps, error: last?.error, awaiting: last?.awaiting })}`);
  }
}

async function act(org: Org, action: string, auth: { authorization: string }, payload: Record<string, unknown> = {}) {
  return app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user._id}/offboarding/${action}`, headers: auth, payload });
}

async function liveTokens(org: Org) {
  return ctx.models.AccessToken.countDocuments({ userId: org.leaver.user._id, revokedAt: null });
}

describe('offboarding', () => {
  it('runs the whole path: lockout, plan, approval by the manager, transfers, revoke, deactivate, verify, notify', async () => {
    const org = await seedOrg(ctx.models);
    await withWorker(
      ctx,
      async () => {
        const started = await start(org, { immediateLockout: true });
        expect(started.statusCode).toBe(202);
        expect(started.json()).toEqual({ processId: offboardingWorkflowId(String(org.leaver.user._id)), started: true });

        const waiting = await waitForStatus(org, 'awaiting_approval');
        // Immediate lockout happened before anything else.
        expect(waiting.steps.find((s) => s.name === 'lockout')!.state).toBe('done');
        expect(await liveTokens(org)).toBe(0);
        expect(await ctx.models.Session.countDocuments({ userId: org.leaver.user._id, endedAt: null })).toBe(0);
        expect(waiting.plan!.newOwner).toMatchObject({ id: String(org.manager.user._id), source: 'manager' });
        expect(waiting.plan!.resources).toHaveLength(3);
        expect(waiting.plan!.groups).toEqual([String(org.groupId)]);
        const request = await eventually('the approval request mail', async () => smtp.to(org.manager.user.email).find((m) => m.subject.startsWith('Approval needed')));
        // It links to the leaver's page in the console, never to a raw API URL.
        expect(request.body).toContain(`Open: http://tenure.test/console/users/${org.leaver.user._id}`);
        expect(request.body).not.toContain('/v1/');

        const approved = await act(org, 'approve', org.manager.auth, { planVersion: waiting.plan!.version });
        expect(approved.statusCode).toBe(200);

        const done = await waitForStatus(org, ['completed', 'completed_with_access_left_behind']);
        expect(done.status).toBe('completed');
        expect(done.verification).toMatchObject({ clean: true, status: 'deactivated', activeSessions: 0, liveTokens: 0, owned: 0, groups: 0 });
        expect(done.resources).toEqual({ done: 3, total: 3, failed: [] });
        for (const st of done.steps.filter((s) => ['plan', 'approval', 'transfer', 'revoke_access', 'deactivate', 'verify', 'notify'].includes(s.name))) {
          expect(st.state, st.name).toBe('done');
          expect(Date.parse(st.startedAt!), st.name).toBeLessThanOrEqual(Date.parse(st.finishedAt!));
        }
        const resources = await ctx.models.Resource.find({ _id: { $in: org.resources.map((r) => r._id) } }).lean();
        for (const r of resources) {
          expect(String(r.ownerId)).toBe(String(org.manager.user._id));
          expect(r.transfers).toHaveLength(1);
          expect(r.transfers[0]!.processId).toBe(done.workflowId);
        }
        const leaver = await ctx.models.User.findById(org.leaver.user._id).lean();
        expect(leaver!.status).toBe('deactivated');
        expect(leaver!.groups).toEqual([]);
        await eventually('the completion mail to the manager', async () => smtp.to(org.manager.user.email).find((m) => m.subject.includes('is complete')));

        const actions = (await ctx.models.AuditEvent.find({ processId: done.workflowId }).lean()).map((e) => e.action);
        expect(actions).toEqual(expect.arrayContaining(['offboarding.requested', 'offboarding.locked_out', 'offboarding.planned', 'offboarding.approve', 'resource.transferred', 'offboarding.access_revoked', 'user.deactivated']));
        expect(actions.filter((a) => a === 'resource.transferred')).toHaveLength(3);
      },
      fast(),
    );
  });

  it('refuses the leaver and an unrelated user as approvers synchronously; nothing changes', async () => {
    const org = await seedOrg(ctx.models);
    await withWorker(
      ctx,
      async () => {
        expect((await start(org, {})).statusCode).toBe(202);
        const before = await waitForStatus(org, 'awaiting_approval');

        const byLeaver = await act(org, 'approve', org.leaver.auth, { planVersion: before.plan!.version });
        expect(byLeaver.statusCode).toBe(403);
        expect(byLeaver.json().error.code).toBe('not_an_approver');
        const byOther = await act(org, 'approve', org.other.auth, { planVersion: before.plan!.version });
        expect(byOther.statusCode).toBe(403);
        const rejectByLeaver = await act(org, 'reject', org.leaver.auth);
        expect(rejectByLeaver.statusCode).toBe(403);

        // The validator itself refuses, whoever calls Temporal directly.
        const handle = client.workflow.getHandle(offboardingWorkflowId(String(org.leaver.user._id)));
        const direct = await handle
          .executeUpdate(approveUpdate, { args: [{ caller: { id: String(org.leaver.user._id), role: 'Administrators' }, planVersion: before.plan!.version }] })
          .catch((e: unknown) => e);
        expect(direct).toBeInstanceOf(WorkflowUpdateFailedError);
        expect(((direct as WorkflowUpdateFailedError).cause as Error).message).toMatch(/leaver cannot act on their own offboarding/);
        // So does the caller shape of histories recorded before Caller was one shape (`userId`).
        const legacy = await handle
          .executeUpdate(approveUpdate, { args: [{ caller: { userId: String(org.leaver.user._id), role: 'Administrators' } as never, planVersion: before.plan!.version }] })
          .catch((e: unknown) => e);
        expect(((legacy as WorkflowUpdateFailedError).cause as Error).message).toMatch(/leaver cannot act on their own offboarding/);
        const anonymous = await handle.executeUpdate(approveUpdate, { args: [{ caller: { role: 'Administrators' } as never, planVersion: before.plan!.version }] }).catch((e: unknown) => e);
        expect(((anonymous as WorkflowUpdateFailedError).cause as Error).message).toMatch(/not identified/);

        // A stale plan version is refused too.
        const stale = await act(org, 'approve', org.admin.auth, { planVersion: 'deadbeef' });
        expect(stale.statusCode).toBe(409);
        expect(stale.json().error.code).toBe('stale_plan');

        const after = await progress(org);
        expect(after.status).toBe('awaiting_approval');
        expect(after.decision).toBeUndefined();
        expect(await ctx.models.Resource.countDocuments({ ownerId: org.leaver.user._id })).toBe(3);
        expect((await ctx.models.User.findById(org.leaver.user._id).lean())!.status).toBe('active');
        // Refused updates leave no trace in the workflow's history.
        const history = await handle.fetchHistory();
        expect(history.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toHaveLength(0);
        const refused = await ctx.models.AuditEvent.countDocuments({ action: 'offboarding.approve_refused', processId: after.workflowId });
        expect(refused).toBe(3);

        // The administrator may cancel; the leaver's account is untouched.
        expect((await act(org, 'cancel', org.admin.auth)).statusCode).toBe(200);
        await waitForStatus(org, 'cancelled');
      },
      fast(),
    );
  });

  it('reject undoes the lockout exactly: tokens revoked by it come back, others stay revoked', async () => {
    const org = await seedOrg(ctx.models);
    // A token revoked before the offboarding, for another reason.
    await ctx.models.AccessToken.updateOne({ userId: org.leaver.user._id, name: 'second token' }, { $set: { revokedAt: new Date(), revokedReason: 'admin' } });
    await withWorker(
      ctx,
      async () => {
        expect((await start(org, { immediateLockout: true }, org.admin.auth)).statusCode).toBe(202);
        await waitForStatus(org, 'awaiting_approval');
        const lockedOut = await app.inject({ method: 'GET', url: `/v1/users/${org.leaver.user._id}/offboarding-plan`, headers: org.leaver.auth });
        expect(lockedOut.statusCode).toBe(401);

        expect((await act(org, 'reject', org.manager.auth, { reason: 'stays after all' })).statusCode).toBe(200);
        const rejected = await waitForStatus(org, 'rejected');
        expect(rejected.decision).toMatchObject({ action: 'rejected', by: String(org.manager.user._id), reason: 'stays after all' });
        // The leaver's own token works again (403 for the role, not 401 for the token).
        const back = await app.inject({ method: 'GET', url: `/v1/users/${org.leaver.user._id}/offboarding-plan`, headers: org.leaver.auth });
        expect(back.statusCode).toBe(403);
        expect(await liveTokens(org)).toBe(1);
        const other = await ctx.models.AccessToken.findOne({ userId: org.leaver.user._id, name: 'second token' }).lean();
        expect(other!.revokedReason).toBe('admin');
        expect(await ctx.models.Resource.countDocuments({ ownerId: org.leaver.user._id })).toBe(3);
      },
      fast(),
    );
  });

  it('cancels during the effective-date wait and undoes the lockout', async () => {
    const org = await seedOrg(ctx.models);
    await withWorker(
      ctx,
      async () => {
        const effectiveDate = new Date(Date.now() + 3_600_000).toISOString();
        expect((await start(org, { immediateLockout: true, effectiveDate })).statusCode).toBe(202);
        const waiting = await waitForStatus(org, 'waiting_effective_date');
        const waitStep = waiting.steps.find((s) => s.name === 'effective_date')!;
        expect(waitStep).toMatchObject({ state: 'running', detail: `until ${effectiveDate}` });
        expect(waitStep.startedAt).toBeTruthy();
        expect(waitStep.finishedAt).toBeUndefined();
        expect(await liveTokens(org)).toBe(0);

        expect((await act(org, 'cancel', org.manager.auth, { reason: 'changed plans' })).statusCode).toBe(200);
        const cancelled = await waitForStatus(org, 'cancelled');
        expect(cancelled.decision?.action).toBe('cancelled');
        // The interrupted wait failed; the steps never reached are skipped.
        const ended = cancelled.steps.find((s) => s.name === 'effective_date')!;
        expect(ended).toMatchObject({ state: 'failed', detail: `until ${effectiveDate}`, startedAt: waitStep.startedAt });
        expect(Date.parse(ended.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(ended.startedAt!));
        expect(cancelled.steps.filter((s) => !['lockout', 'plan', 'effective_date'].includes(s.name)).map((s) => s.state)).toEqual(Array(cancelled.steps.length - 3).fill('skipped'));
        expect(await liveTokens(org)).toBe(2);
        expect((await ctx.models.User.findById(org.leaver.user._id).lean())!.status).toBe('active');
        expect(await ctx.models.Resource.countDocuments({ ownerId: org.leaver.user._id })).toBe(3);
        // A second cancel is a state conflict, not a success.
        const again = await act(org, 'cancel', org.manager.auth);
        expect([404, 409]).toContain(again.statusCode);
      },
      fast(),
    );
  });

  it('transfers resources created between the plan and the execution', async () => {
    const org = await seedOrg(ctx.models);
    await withWorker(
      ctx,
      async () => {
        await start(org, { newOwnerId: String(org.spare.user._id) });
        const waiting = await waitForStatus(org, 'awaiting_approval');
        expect(waiting.plan!.newOwner).toMatchObject({ id: String(org.spare.user._id), source: 'given' });
        const late = await seedResource(ctx.models, org.leaver.user._id, { kind: 'task', name: 'created after the plan' });
        expect((await act(org, 'approve', org.admin.auth, { planVersion: waiting.plan!.version })).statusCode).toBe(200);
        const done = await waitForStatus(org, ['completed', 'completed_with_access_left_behind']);
        expect(done.status).toBe('completed');
        expect(done.resources.done).toBe(4);
        const moved = await ctx.models.Resource.findById(late._id).lean();
        expect(String(moved!.ownerId)).toBe(String(org.spare.user._id));
      },
      fast(),
    );
  });

  it('ends as "completed_with_access_left_behind" with an alert when a resource cannot be transferred', async () => {
    await setPolicy(ctx.models, { approvalRequired: false });
    const org = await seedOrg(ctx.models);
    const broken = await seedUntransferableResource(ctx.models, org.leaver.user._id);
    await withWorker(
      ctx,
      async () => {
        await start(org, {}, org.admin.auth);
        const done = await waitForStatus(org, ['completed', 'completed_with_access_left_behind'], 30_000);
        expect(done.status).toBe('completed_with_access_left_behind');
        expect(done.resources.failed).toEqual([String(broken)]);
        expect(done.verification).toMatchObject({ clean: false, owned: 1, activeSessions: 0, liveTokens: 0 });
        expect(done.steps.find((s) => s.name === 'transfer')!.state).toBe('failed');
        // The other resources moved, access was revoked, but the account stays (it owns something).
        expect(await ctx.models.Resource.countDocuments({ ownerId: org.manager.user._id })).toBe(3);
        expect(await ctx.models.AuditEvent.countDocuments({ action: 'offboarding.access_left_behind', processId: done.workflowId })).toBe(1);
        await eventually('the alert mail to the Administrators', async () => smtp.to(org.admin.user.email).find((m) => m.subject.startsWith('ALERT')));
        expect(smtp.to(org.manager.user.email).some((m) => m.subject.includes('is complete') && m.body.includes(org.leaver.user.email))).toBe(false);
      },
      fast(),
    );
  });

  it('undo within the grace period reactivates and hands the resources back; tokens stay revoked', async () => {
    await setPolicy(ctx.models, { approvalRequired: false });
    const org = await seedOrg(ctx.models);
    await withWorker(
      ctx,
      async () => {
        await start(org, {}, org.admin.auth);
        const done = await waitForStatus(org, 'completed');
        expect(done.undoUntil).toBeTruthy();
        expect((await act(org, 'undo', org.leaver.auth)).statusCode).toBe(401); // deactivated: their token is dead
        const undone = await act(org, 'undo', org.admin.auth, { reason: 'offboarded by mistake' });
        expect(undone.statusCode).toBe(200);
        const final = await waitForStatus(org, 'undone');
        expect(final.steps.find((s) => s.name === 'undo_window')!.detail).toContain('3 resources handed back');
        const leaver = await ctx.models.User.findById(org.leaver.user._id).lean();
        expect(leaver!.status).toBe('active');
        expect(leaver!.groups.map(String)).toEqual([String(org.groupId)]);
        for (const r of await ctx.models.Resource.find({ _id: { $in: org.resources.map((x) => x._id) } }).lean()) {
          expect(String(r.ownerId)).toBe(String(org.leaver.user._id));
          expect(r.transfers).toHaveLength(2);
        }
        expect(await liveTokens(org)).toBe(0);
      },
      fast({ undoGraceMs: 60_000 }),
    );
  });

  it('joins a duplicate start instead of starting a second process', async () => {
    const org = await seedOrg(ctx.models);
    await withWorker(
      ctx,
      async () => {
        const [a, b] = await Promise.all([start(org, {}), start(org, { reason: 'again' }, org.admin.auth)]);
        expect(a.statusCode).toBe(202);
        expect(b.statusCode).toBe(202);
        expect(a.json().processId).toBe(b.json().processId);
        expect([a.json().started, b.json().started].sort()).toEqual([false, true]);
        const third = await start(org, {});
        expect(third.json().started).toBe(false);
        const runs = [];
        for await (const w of client.workflow.list({ query: `WorkflowId = '${a.json().processId}'` })) runs.push(w);
        expect(runs).toHaveLength(1);
        await waitForStatus(org, 'awaiting_approval');
        expect((await act(org, 'cancel', org.admin.auth)).statusCode).toBe(200);
        await waitForStatus(org, 'cancelled');
      },
      fast(),
    );
  });

  it('goes back to the approver when the new owner became inactive, then finishes with the new choice', async () => {
    await setPolicy(ctx.models, { approvalRequired: false });
    const org = await seedOrg(ctx.models);
    await withWorker(
      ctx,
      async () => {
        await start(org, { newOwnerId: String(org.spare.user._id), effectiveDate: new Date(Date.now() + 2_500).toISOString() }, org.admin.auth);
        await waitForStatus(org, 'waiting_effective_date');
        await ctx.models.User.updateOne({ _id: org.spare.user._id }, { $set: { status: 'deactivated' } });
        const asking = await waitForStatus(org, 'awaiting_approval');
        expect(asking.awaiting).toContain('can no longer receive');
        // Approving without choosing is refused; choosing an inactive owner is refused.
        expect((await act(org, 'approve', org.admin.auth, { planVersion: asking.plan!.version })).statusCode).toBe(409);
        const bad = await act(org, 'change-owner', org.admin.auth, { newOwnerId: String(org.spare.user._id) });
        expect(bad.statusCode).toBe(422);
        const changed = await act(org, 'change-owner', org.manager.auth, { newOwnerId: String(org.other.user._id) });
        expect(changed.statusCode).toBe(200);
        expect(changed.json().planVersion).not.toBe(asking.plan!.version);
        expect((await act(org, 'approve', org.manager.auth, { planVersion: changed.json().planVersion })).statusCode).toBe(200);
        const done = await waitForStatus(org, 'completed');
        expect(done.resources.done).toBe(3);
        expect(await ctx.models.Resource.countDocuments({ ownerId: org.other.user._id })).toBe(3);
      },
      fast(),
    );
  });

  it('reminds the approver, then escalates to the Administrators', async () => {
    const org = await seedOrg(ctx.models);
    await withWorker(
      ctx,
      async () => {
        await start(org, {});
        await waitForStatus(org, 'awaiting_approval');
        await eventually('the reminder', async () => smtp.to(org.manager.user.email).find((m) => m.subject.startsWith('Reminder') && m.body.includes(org.leaver.user.email)));
        await eventually('the escalation', async () => smtp.to(org.admin.user.email).find((m) => m.subject.startsWith('Escalation') && m.body.includes(org.leaver.user.email)));
        expect((await act(org, 'cancel', org.admin.auth)).statusCode).toBe(200);
      },
      fast({ approvalReminderMs: 1_000, approvalEscalationMs: 2_500 }),
    );
  });

  it('deletes the account after the retention period', async () => {
    await setPolicy(ctx.models, { approvalRequired: false, retentionMs: 1_500 });
    const org = await seedOrg(ctx.models);
    await withWorker(
      ctx,
      async () => {
        await start(org, {}, org.admin.auth);
        const final = await waitForStatus(org, 'deleted');
        expect(await ctx.models.User.findById(org.leaver.user._id).lean()).toBeNull();
        // Every step as the progress query reports it: what ran has a start before its end, what was skipped says why.
        const steps = Object.fromEntries(final.steps.map((st) => [st.name, st]));
        expect(steps.lockout).toMatchObject({ state: 'skipped', detail: 'not requested' });
        expect(steps.effective_date).toMatchObject({ state: 'skipped', detail: 'effective now' });
        expect(steps.approval).toMatchObject({ state: 'skipped', detail: 'not required by policy' });
        for (const name of ['lockout', 'effective_date', 'approval']) {
          expect(steps[name]!.startedAt, name).toBeUndefined();
          expect(steps[name]!.finishedAt, name).toBeTruthy();
        }
        expect(steps.transfer!.detail).toBe('3 transferred');
        expect(steps.undo_window!.detail).toBe('closed');
        expect(steps.retention!.detail).toBe('permanently deleted');
        for (const name of ['plan', 'transfer', 'revoke_access', 'deactivate', 'verify', 'notify', 'undo_window', 'retention']) {
          expect(steps[name]!.state, name).toBe('done');
          expect(Date.parse(steps[name]!.startedAt!), name).toBeLessThanOrEqual(Date.parse(steps[name]!.finishedAt!));
        }
        for (const r of await ctx.models.Resource.find({ _id: { $in: org.resources.map((x) => x._id) } }).lean()) expect(r.createdBy).toBeNull();
      },
      fast({ undoGraceMs: 300 }),
    );
  });

  it('a reactivation during retention ends the offboarding without deleting', async () => {
    await setPolicy(ctx.models, { approvalRequired: false, retentionMs: 120_000 });
    const org = await seedOrg(ctx.models);
    await withWorker(
      ctx,
      async () => {
        await start(org, {}, org.admin.auth);
        await waitForStatus(org, 'completed');
        const refused = await app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user._id}/reactivation`, headers: org.manager.auth, payload: {} });
        expect(refused.statusCode).toBe(403);
        const res = await app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user._id}/reactivation`, headers: org.admin.auth, payload: {} });
        expect(res.statusCode).toBe(202);
        expect(res.json().processId).toBe(`reactivation:${org.leaver.user._id}`);
        await waitForStatus(org, 'reactivated');
        expect((await ctx.models.User.findById(org.leaver.user._id).lean())!.status).toBe('active');
        const again = await app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user._id}/reactivation`, headers: org.admin.auth, payload: {} });
        expect(again.statusCode).toBe(409);
      },
      fast({ undoGraceMs: 300 }),
    );
  });
});

describe('offboarding API input and roles', () => {
  it('refuses bad input and unauthorized starters with 4xx and changes nothing', async () => {
    const org = await seedOrg(ctx.models);
    const byOther = await start(org, {}, org.other.auth);
    expect(byOther.statusCode).toBe(403);
    const byLeaver = await start(org, {}, org.leaver.auth);
    expect(byLeaver.statusCode).toBe(403);
    const noReason = await app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user._id}/offboarding`, headers: org.admin.auth, payload: {} });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().error.code).toBe('invalid_request');
    const badDate = await start(org, { effectiveDate: 'next tuesday' }, org.admin.auth);
    expect(badDate.statusCode).toBe(400);
    const selfOwner = await start(org, { newOwnerId: String(org.leaver.user._id) }, org.admin.auth);
    expect(selfOwner.statusCode).toBe(422);
    expect(selfOwner.json().error.code).toBe('invalid_new_owner');
    const unknown = await app.inject({ method: 'POST', url: '/v1/users/nobody@example.com/offboarding', headers: org.admin.auth, payload: { reason: 'x' } });
    expect(unknown.statusCode).toBe(404);
    const noToken = await app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user._id}/offboarding`, payload: { reason: 'x' } });
    expect(noToken.statusCode).toBe(401);
    const noProcess = await app.inject({ method: 'GET', url: `/v1/users/${org.leaver.user._id}/offboarding`, headers: org.admin.auth });
    expect(noProcess.statusCode).toBe(404);
    expect(await ctx.models.AuditEvent.countDocuments({ targetUserId: org.leaver.user._id, action: 'offboarding.requested' })).toBe(0);
  });

  it('refuses an Administrator starting or reading their own offboarding, as Slack does', async () => {
    const org = await seedOrg(ctx.models);
    const url = `/v1/users/${org.admin.user._id}/offboarding`;
    const own = await app.inject({ method: 'POST', url, headers: org.admin.auth, payload: { reason: 'leaving' } });
    expect(own.statusCode).toBe(403);
    expect(own.json().error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/own offboarding/) });
    for (const path of [url, `/v1/users/${org.admin.user._id}/offboarding-plan`]) {
      const read = await app.inject({ method: 'GET', url: path, headers: org.admin.auth });
      expect(read.statusCode, path).toBe(403);
    }
    // another Administrator may
    const plan = await app.inject({ method: 'GET', url: `/v1/users/${org.leaver.user._id}/offboarding-plan`, headers: org.admin.auth });
    expect(plan.statusCode).toBe(200);
    expect(await ctx.models.AuditEvent.countDocuments({ targetUserId: org.admin.user._id, action: 'offboarding.requested' })).toBe(0);
  });

  it('documents every offboarding route in the OpenAPI document', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const paths = Object.keys(res.json().paths);
    for (const path of ['/v1/users/{idOrEmail}/offboarding', '/v1/users/{idOrEmail}/offboarding-plan', '/v1/users/{idOrEmail}/offboarding/approve', '/v1/users/{idOrEmail}/offboarding/change-owner', '/v1/users/{idOrEmail}/reactivation', '/v1/offboardings/bulk', '/v1/offboardings/bulk/{id}']) {
      expect(paths).toContain(path);
    }
  });

  it('shows the plan as a dry run without changing anything', async () => {
    const org = await seedOrg(ctx.models);
    await ctx.models.User.updateOne({ _id: org.manager.user._id }, { $set: { status: 'deactivated' } });
    await setPolicy(ctx.models, { defaultNewOwnerId: org.spare.user._id });
    const res = await app.inject({ method: 'GET', url: `/v1/users/${org.leaver.user.email}/offboarding-plan`, headers: org.admin.auth });
    expect(res.statusCode).toBe(200);
    const plan = res.json();
    expect(plan.newOwner).toMatchObject({ id: String(org.spare.user._id), source: 'org_default' });
    expect(plan.notes.join(' ')).toMatch(/manager.*deactivated/);
    expect(plan.resourcesTotal).toBe(3);
    expect(plan.sessions.active).toBe(1);
    expect(plan.tokens).toHaveLength(2);
    expect(plan.version).toMatch(/^[0-9a-f]{8}$/);
    expect(await ctx.models.Resource.countDocuments({ ownerId: org.leaver.user._id })).toBe(3);
    const auditor = await app.inject({ method: 'GET', url: `/v1/users/${org.leaver.user.email}/offboarding-plan`, headers: org.other.auth });
    expect(auditor.statusCode).toBe(403);
    await setPolicy(ctx.models, { defaultNewOwnerId: undefined });
  });
});

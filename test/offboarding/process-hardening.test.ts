/**
 * How the offboarding process behaves towards the people around it: who may act from the first
 * moment, which owner the plan names after a change, when an owner is needed at all, and how a
 * reactivation from any way in reaches a running offboarding. Real servers, a real worker; the
 * API, Slack (through its Web API recorder) and the emails are read as a person would.
 */
import type { Client } from '@temporalio/client';
import type { Types } from 'mongoose';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { runSlackSync } from '../../src/slack/sync';
import { getOffboardingProgress, offboardingWorkflowId } from '../../src/processes/offboarding';
import { cancelUpdate, type OffboardingProgress } from '../../workflows/offboarding-messages';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { startSlackHarness, type SlackHarness, type SlackPerson } from '../helpers/slack-app';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createClient, withWorker, type WorkerOptions } from '../helpers/temporal';
import { seedResource, seedUser, type SeededUser } from '../helpers/users';
import { seedOrg, setPolicy, type Org } from './fixtures';

let ctx: TestContext;
let client: Client;
let slack: SlackHarness;
let app: App;
let smtp: TestSmtpServer;

beforeAll(async () => {
  ctx = await createTestContext('offbhard');
  client = await createClient(ctx);
  slack = await startSlackHarness(ctx, client);
  app = slack.app;
  smtp = await startSmtpServer();
  await slack.person('root', 'Administrators');
});

afterAll(async () => {
  await slack?.close();
  await smtp?.close();
  await client?.connection.close();
  await ctx?.close();
});

beforeEach(async () => {
  await setPolicy(ctx.models, { approvalRequired: true, retentionMs: null });
});

type Timings = NonNullable<NonNullable<WorkerOptions['deps']>['offboarding']>;
const fast = (over: Partial<Timings> = {}): WorkerOptions => ({
  smtpUrl: smtp.url,
  deps: { offboarding: { approvalReminderMs: 600_000, approvalEscalationMs: 1_200_000, undoGraceMs: 500, ...over } },
});

type Leaver = { user: { _id: Types.ObjectId; email: string } };

const progress = (leaver: Leaver) => getOffboardingProgress(client, String(leaver.user._id));

async function waitForStatus(leaver: Leaver, status: OffboardingProgress['status'] | Array<OffboardingProgress['status']>, timeoutMs = 20_000): Promise<OffboardingProgress> {
  const wanted = Array.isArray(status) ? status : [status];
  let last: OffboardingProgress | undefined;
  try {
    return await eventually(`offboarding to be ${wanted.join('|')}`, async () => {
      last = await progress(leaver);
      return wanted.includes(last.status) ? last : undefined;
    }, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last progress: ${JSON.stringify({ status: last?.status, steps: last?.steps, error: last?.error, awaiting: last?.awaiting })}`);
  }
}

const start = (leaver: Leaver, auth: { authorization: string }, body: Record<string, unknown> = {}) =>
  app.inject({ method: 'POST', url: `/v1/users/${String(leaver.user._id)}/offboarding`, headers: auth, payload: { reason: 'leaving the company', ...body } });

const act = (leaver: Leaver, action: string, auth: { authorization: string }, payload: Record<string, unknown> = {}) =>
  app.inject({ method: 'POST', url: `/v1/users/${String(leaver.user._id)}/offboarding/${action}`, headers: auth, payload });

const refusals = (leaver: Leaver, action: string, actorId?: unknown) =>
  ctx.models.AuditEvent.countDocuments({ action, processId: offboardingWorkflowId(String(leaver.user._id)), ...(actorId ? { actorId } : {}) });

const liveTokens = (leaver: Leaver) => ctx.models.AccessToken.countDocuments({ userId: leaver.user._id, revokedAt: null });

describe('authority from the first moment', () => {
  it('hardening #10: the manager who starts an offboarding may cancel it at once, before the plan exists; no refusal is audited against them', async () => {
    const org = await seedOrg(ctx.models);
    await withWorker(
      ctx,
      async () => {
        const started = await start(org.leaver, org.manager.auth, { immediateLockout: true });
        expect(started.statusCode).toBe(202);
        // Straight after the start: the process has not read the leaver yet.
        const cancel = await act(org.leaver, 'cancel', org.manager.auth, { reason: 'wrong person' });
        expect(cancel.statusCode, cancel.body).toBe(200);
        const done = await waitForStatus(org.leaver, 'cancelled');
        expect(done.decision).toMatchObject({ action: 'cancelled', by: String(org.manager.user._id), reason: 'wrong person' });
        expect(await refusals(org.leaver, 'offboarding.cancel_refused')).toBe(0);
        expect(await refusals(org.leaver, 'offboarding.cancel', org.manager.user._id)).toBe(1);
        // Nothing was transferred and the lockout, if it ran, was undone.
        expect(await ctx.models.Resource.countDocuments({ ownerId: org.leaver.user._id })).toBe(3);
        expect((await ctx.models.User.findById(org.leaver.user._id).lean())!.status).toBe('active');
        expect(await liveTokens(org.leaver)).toBe(2);
      },
      fast(),
    );
  });

  it('hardening #10: before the plan exists the leaver and a stranger are still refused, and the process goes on untouched', async () => {
    const org = await seedOrg(ctx.models);
    await withWorker(
      ctx,
      async () => {
        expect((await start(org.leaver, org.admin.auth, { immediateLockout: true })).statusCode).toBe(202);
        const [byLeaver, byStranger] = await Promise.all([act(org.leaver, 'cancel', org.leaver.auth), act(org.leaver, 'cancel', org.other.auth)]);
        // The leaver's token is revoked by the lockout (401) or the workflow refuses them (403); never a success.
        expect([401, 403]).toContain(byLeaver.statusCode);
        expect(byStranger.statusCode, byStranger.body).toBe(403);
        expect(byStranger.json().error.code).toBe('not_an_approver');
        // Called on Temporal directly, the leaver is refused whatever role they claim.
        const handle = client.workflow.getHandle(offboardingWorkflowId(String(org.leaver.user._id)));
        const direct = await handle.executeUpdate(cancelUpdate, { args: [{ caller: { id: String(org.leaver.user._id), role: 'Users' } }] }).catch((e: unknown) => e);
        expect(direct).toBeInstanceOf(WorkflowUpdateFailedError);

        const waiting = await waitForStatus(org.leaver, 'awaiting_approval');
        expect(waiting.decision).toBeUndefined();
        expect(await refusals(org.leaver, 'offboarding.cancel_refused', org.other.user._id)).toBe(1);
        expect(await refusals(org.leaver, 'offboarding.cancel_refused', org.manager.user._id)).toBe(0);
        // The manager, known by now, still may act.
        expect((await act(org.leaver, 'cancel', org.manager.auth)).statusCode).toBe(200);
        await waitForStatus(org.leaver, 'cancelled');
      },
      fast(),
    );
  });
});

describe('the chosen owner is the plan’s owner', () => {
  it('hardening #11: after change-owner the plan, the plan view, the reminder mail and the Slack request name the chosen owner', async () => {
    const boss = await slack.person('boss', 'Users');
    const quitter = await slack.person('quitter', 'Users', { managerId: boss.user._id });
    const heir = await slack.person('heir', 'Users');
    const sync = () => runSlackSync(slack.app.slack!.context, slack.app.slack!.app.client);
    const dmsOf = (who: SlackPerson) => slack.recorder.callsTo('chat.postMessage').filter((c) => c.args.channel === `D${who.slackId}`);
    await withWorker(
      ctx,
      async () => {
        expect((await start(quitter, boss.auth)).statusCode).toBe(202);
        const waiting = await waitForStatus(quitter, 'awaiting_approval');
        expect(waiting.plan!.newOwner).toMatchObject({ id: String(boss.user._id), source: 'manager' });
        await eventually('the first Slack request', async () => {
          await sync();
          return dmsOf(boss).find((c) => JSON.stringify(c.args.blocks).includes(waiting.plan!.version));
        });

        const changed = await act(quitter, 'change-owner', boss.auth, { newOwnerId: String(heir.user._id) });
        expect(changed.statusCode).toBe(200);
        const version = changed.json().planVersion as string;

        // The running process's plan.
        const after = await progress(quitter);
        expect(after.plan!.newOwner).toMatchObject({ id: String(heir.user._id), email: heir.user.email, source: 'approver' });
        expect(after.plan!.version).toBe(version);
        // The plan view answers what this process will do, with the version to approve.
        const view = await app.inject({ method: 'GET', url: `/v1/users/${quitter.user.email}/offboarding-plan`, headers: boss.auth });
        expect(view.statusCode).toBe(200);
        expect(view.json().newOwner).toMatchObject({ id: String(heir.user._id), source: 'approver' });
        expect(view.json().version).toBe(version);

        // Slack asks again about the new plan and names the chosen owner.
        const request = await eventually('the Slack request for the new plan', async () => {
          await sync();
          return dmsOf(boss).find((c) => JSON.stringify(c.args.blocks).includes(version));
        });
        const text = JSON.stringify(request.args.blocks);
        expect(text).toContain(`New owner: *heir User (${heir.user.email})*`);
        expect(text).not.toContain(`New owner: *boss User`);

        // The reminder (sent after the change) names the chosen owner too.
        const reminder = await eventually('the reminder', async () => smtp.to(boss.user.email).find((m) => m.subject.startsWith('Reminder') && m.body.includes(quitter.user.email)), 20_000);
        expect(reminder.body).toContain(`New owner: ${heir.user.email}`);
        expect(reminder.body).not.toContain(`New owner: ${boss.user.email}`);

        expect((await act(quitter, 'approve', boss.auth, { planVersion: view.json().version })).statusCode).toBe(200);
        const done = await waitForStatus(quitter, 'completed');
        expect(done.plan!.newOwner!.id).toBe(String(heir.user._id));
      },
      fast({ approvalReminderMs: 6_000 }),
    );
  }, 60_000);
});

describe('an owner only when something is owned', () => {
  async function orphan(resources = 0): Promise<SeededUser> {
    const leaver = await seedUser(ctx.models, { siteRole: 'Users' });
    for (let i = 0; i < resources; i++) await seedResource(ctx.models, leaver.user._id, { name: `orphan-${i}-${String(leaver.user._id).slice(-4)}` });
    return leaver;
  }
  const root = () => slack.people.root!;

  it('hardening #12: a leaver with no manager who owns nothing is approved without an owner, and no mail invents one', async () => {
    const leaver = await orphan();
    await withWorker(
      ctx,
      async () => {
        expect((await start(leaver, root().auth)).statusCode).toBe(202);
        const waiting = await waitForStatus(leaver, 'awaiting_approval');
        expect(waiting.plan!.newOwner).toBeNull();
        expect(waiting.awaiting).not.toMatch(/owner/);
        const mail = await eventually('the approval request to the Administrators', async () => smtp.to(root().user.email).find((m) => m.body.includes(leaver.user.email)));
        expect(mail.subject).toMatch(/^Approval needed/);
        expect(mail.body).not.toMatch(/proposed new owner/i);
        expect(mail.body).toContain('New owner: none needed (nothing owned)');
        // The Slack request says the same: no owner is waited for.
        const request = await eventually('the Slack request to the Administrators', async () => {
          await runSlackSync(slack.app.slack!.context, slack.app.slack!.app.client);
          return slack.recorder
            .callsTo('chat.postMessage')
            .find((c) => c.args.channel === `D${root().slackId}` && JSON.stringify(c.args.blocks ?? []).includes(leaver.user.email));
        });
        expect(JSON.stringify(request.args.blocks)).toContain('New owner: *none needed (nothing owned)*');
        expect(JSON.stringify(request.args.blocks)).not.toContain('to be chosen');

        const approved = await act(leaver, 'approve', root().auth, { planVersion: waiting.plan!.version });
        expect(approved.statusCode, approved.body).toBe(200);
        const done = await waitForStatus(leaver, 'completed');
        expect(done.verification?.clean).toBe(true);
        expect(smtp.messages.filter((m) => m.body.includes(leaver.user.email)).some((m) => /proposed new owner|A new owner is needed/i.test(m.body + m.subject))).toBe(false);
      },
      fast(),
    );
  });

  it('hardening #12: without approval by policy such a leaver is offboarded at once', async () => {
    await setPolicy(ctx.models, { approvalRequired: false });
    const leaver = await orphan();
    await withWorker(
      ctx,
      async () => {
        expect((await start(leaver, root().auth)).statusCode).toBe(202);
        const done = await waitForStatus(leaver, 'completed');
        expect(done.steps.find((s) => s.name === 'approval')!.state).toBe('skipped');
      },
      fast(),
    );
  });

  it('hardening #12: a leaver with no manager who owns something needs a choice, and the mail says nobody could be proposed', async () => {
    const leaver = await orphan(2);
    const heir = await seedUser(ctx.models, { siteRole: 'Users' });
    await withWorker(
      ctx,
      async () => {
        expect((await start(leaver, root().auth)).statusCode).toBe(202);
        const waiting = await waitForStatus(leaver, 'awaiting_approval');
        expect(waiting.awaiting).toMatch(/owner must be chosen/);
        const mail = await eventually('the owner request', async () => smtp.to(root().user.email).find((m) => m.body.includes(leaver.user.email)));
        expect(mail.subject).toMatch(/^A new owner is needed/);
        expect(mail.body).not.toMatch(/proposed new owner can no longer/i);
        expect(mail.body).toMatch(/nobody could be proposed/i);
        const early = await act(leaver, 'approve', root().auth, { planVersion: waiting.plan!.version });
        expect(early.statusCode).toBe(409);
        const changed = await act(leaver, 'change-owner', root().auth, { newOwnerId: String(heir.user._id) });
        expect(changed.statusCode).toBe(200);
        expect((await act(leaver, 'approve', root().auth, { planVersion: changed.json().planVersion })).statusCode).toBe(200);
        await waitForStatus(leaver, 'completed');
        expect(await ctx.models.Resource.countDocuments({ ownerId: heir.user._id })).toBe(2);
      },
      fast(),
    );
  });

  it('hardening #12: a resource that appears after an owner-less plan sends the process back for an owner instead of failing', async () => {
    const leaver = await orphan();
    const heir = await seedUser(ctx.models, { siteRole: 'Users' });
    await withWorker(
      ctx,
      async () => {
        expect((await start(leaver, root().auth)).statusCode).toBe(202);
        const waiting = await waitForStatus(leaver, 'awaiting_approval');
        await seedResource(ctx.models, leaver.user._id, { name: `late-${String(leaver.user._id).slice(-4)}` });
        expect((await act(leaver, 'approve', root().auth, { planVersion: waiting.plan!.version })).statusCode).toBe(200);
        const asking = await eventually('the process to ask for an owner', async () => {
          const p = await progress(leaver);
          return p.status === 'awaiting_approval' && p.awaiting ? p : undefined;
        });
        expect(asking.awaiting).toMatch(/owner/);
        const changed = await act(leaver, 'change-owner', root().auth, { newOwnerId: String(heir.user._id) });
        expect(changed.statusCode).toBe(200);
        expect((await act(leaver, 'approve', root().auth, { planVersion: changed.json().planVersion })).statusCode).toBe(200);
        const done = await waitForStatus(leaver, 'completed');
        expect(done.resources.done).toBe(1);
        expect(await ctx.models.Resource.countDocuments({ ownerId: heir.user._id })).toBe(1);
      },
      fast(),
    );
  });
});

describe('one way to reactivate', () => {
  async function offboarded(org: Org): Promise<OffboardingProgress> {
    expect((await start(org.leaver, org.admin.auth)).statusCode).toBe(202);
    const done = await waitForStatus(org.leaver, 'completed');
    expect(done.steps.find((s) => s.name === 'undo_window')!.state).toBe('running');
    return done;
  }

  async function endsReactivated(org: Org): Promise<void> {
    const final = await waitForStatus(org.leaver, 'reactivated');
    expect(final.steps.find((s) => s.name === 'undo_window')!.detail).toBe('account reactivated');
    const handle = client.workflow.getHandle(offboardingWorkflowId(String(org.leaver.user._id)));
    await eventually('the offboarding to close', async () => (await handle.describe()).status.name === 'COMPLETED');
    const history = await handle.fetchHistory();
    // The undo window's timer was cancelled, not left to fire.
    expect(history.events!.some((e) => e.timerCanceledEventAttributes)).toBe(true);
    expect((await ctx.models.User.findById(org.leaver.user._id).lean())!.status).toBe('active');
    const audit = await ctx.models.AuditEvent.find({ action: 'user.reactivated', targetUserId: org.leaver.user._id }).lean();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.processId).toBe(`reactivation:${String(org.leaver.user._id)}`);
  }

  it('hardening #15: POST …/reactivate tells the running offboarding, which ends as reactivated and keeps no timers', async () => {
    await setPolicy(ctx.models, { approvalRequired: false, retentionMs: 120_000 });
    const org = await seedOrg(ctx.models);
    await withWorker(
      ctx,
      async () => {
        await offboarded(org);
        const res = await app.inject({ method: 'POST', url: `/v1/users/${String(org.leaver.user._id)}/reactivate`, headers: org.admin.auth });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json()).toMatchObject({ message: 'User reactivation completed: true', user: { status: 'active' } });
        await endsReactivated(org);
        // A second reactivation is a conflict and changes nothing.
        const again = await app.inject({ method: 'POST', url: `/v1/users/${String(org.leaver.user._id)}/reactivate`, headers: org.admin.auth });
        expect(again.statusCode).toBe(409);
        expect(again.json().error.code).toBe('invalid_state');
      },
      fast({ undoGraceMs: 60_000 }),
    );
  }, 60_000);

  it('hardening #15: Slack /reactivate takes the same path and the offboarding hears it', async () => {
    await setPolicy(ctx.models, { approvalRequired: false, retentionMs: 120_000 });
    const org = await seedOrg(ctx.models);
    const leaverInSlack = 'ULEAVERREACT';
    slack.recorder.addUser({ id: leaverInSlack, email: org.leaver.user.email });
    await withWorker(
      ctx,
      async () => {
        await offboarded(org);
        slack.responses();
        await slack.command('/reactivate', org.leaver.user.email, slack.people.root!.slackId);
        expect(await slack.nextResponse()).toMatch(/is active again/);
        await endsReactivated(org);
      },
      fast({ undoGraceMs: 60_000 }),
    );
  }, 60_000);

  it('hardening #15: a refused reactivation changes nothing and the offboarding keeps going', async () => {
    await setPolicy(ctx.models, { approvalRequired: false, retentionMs: 120_000 });
    const org = await seedOrg(ctx.models);
    await withWorker(
      ctx,
      async () => {
        await offboarded(org);
        const byManager = await app.inject({ method: 'POST', url: `/v1/users/${String(org.leaver.user._id)}/reactivate`, headers: org.manager.auth });
        expect(byManager.statusCode).toBe(403);
        await ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { plan: 'Starter' } }, { upsert: true });
        try {
          // This organization has more active users than the Starter plan's five seats.
          const full = await app.inject({ method: 'POST', url: `/v1/users/${String(org.leaver.user._id)}/reactivate`, headers: org.admin.auth });
          expect(full.statusCode).toBe(422);
          expect(full.json().error.code).toBe('plan_limit_reached');
        } finally {
          await ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { plan: 'Enterprise' } });
        }
        const p = await progress(org.leaver);
        expect(p.status).toBe('completed');
        expect(p.steps.find((s) => s.name === 'undo_window')!.state).toBe('running');
        expect((await ctx.models.User.findById(org.leaver.user._id).lean())!.status).toBe('deactivated');
      },
      fast({ undoGraceMs: 60_000 }),
    );
  }, 60_000);
});

/**
 * What is done in Slack leaves the same audit trail as the same action through the API: the
 * Slack user's tenure account is the actor, `slack` the way in, and a refused click is audited as
 * the API audits a refused call (`offboarding.<action>_refused`). Real Bolt app over HTTP, real
 * workflow and worker; Slack's Web API is the local recorder.
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSlackSync } from '../../src/slack/sync';
import { ACTIONS } from '../../src/slack/blocks/approval';
import { progressQuery } from '../../workflows/offboarding-messages';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import type { RecordedCall } from '../helpers/slack-api';
import { clickApprovalButton, startSlackHarness, type SlackHarness, type SlackPerson } from '../helpers/slack-app';
import { createClient, withWorker } from '../helpers/temporal';
import { seedResource } from '../helpers/users';

let ctx: TestContext;
let temporal: Client;
let slack: SlackHarness;

const sync = () => runSlackSync(slack.app.slack!.context, slack.app.slack!.app.client);
const worker = { deps: { offboarding: { approvalReminderMs: 600_000, approvalEscalationMs: 1_200_000, undoGraceMs: 60_000 } } };
const processOf = (p: SlackPerson) => `offboarding:${String(p.user._id)}`;

const click = (who: string, actionId: string, message: RecordedCall) => clickApprovalButton(slack, who, actionId, message);

/** The manager's approval request about `leaver`, once the sync has posted it. */
async function requestAbout(leaver: SlackPerson): Promise<RecordedCall> {
  return eventually(`the approval request about ${leaver.user.email}`, async () => {
    await sync();
    return slack.recorder
      .callsTo('chat.postMessage')
      .find((c) => c.args.channel === `D${slack.people.manager!.slackId}` && Array.isArray(c.args.blocks) && JSON.stringify(c.args.blocks).includes(leaver.user.email));
  });
}

/** The audit events of a process with `action`, oldest first. */
const audited = (processId: string, action: string) => ctx.models.AuditEvent.find({ processId, action }).sort({ at: 1 }).lean();

/** The first audit event of a process with `action`, once written. */
const first = (processId: string, action: string) => eventually(action, async () => (await audited(processId, action))[0]);

/** Waits for the clicker's ephemeral answer, then for exactly `count` events of `action`. */
async function auditedAfterAnswer(processId: string, action: string, count: number) {
  await slack.nextResponse();
  return eventually(`${count} × ${action}`, async () => {
    const events = await audited(processId, action);
    return events.length === count ? events : undefined;
  });
}

beforeAll(async () => {
  ctx = await createTestContext('slackaudit');
  temporal = await createClient(ctx);
  slack = await startSlackHarness(ctx, temporal);
  await slack.person('admin', 'Administrators');
  const manager = await slack.person('manager', 'Users');
  for (const name of ['leavera', 'leaverb', 'leaverc', 'leaverd']) await slack.person(name, 'Users', { managerId: manager.user._id });
  await slack.person('stranger', 'PowerUsers');
});

afterAll(async () => {
  await slack?.close();
  await temporal?.connection.close();
  await ctx?.close();
});

describe('Slack actions in the audit log', () => {
  it('hardening #14: /offboard is audited as the API audits a start, with the Slack user as actor', async () => {
    const leaver = slack.people.leavera!;
    const manager = slack.people.manager!;
    slack.responses();
    await slack.command('/offboard', 'leavera@example.com on 2099-01-01 moving abroad', manager.slackId, 'C0REQUEST');
    expect(await slack.nextResponse()).toMatch(/Offboarding of leavera User .* started/);
    const requested = await first(processOf(leaver), 'offboarding.requested');
    expect(requested).toMatchObject({
      actorType: 'slack',
      actorId: manager.user._id,
      actorEmail: 'manager@example.com',
      targetUserId: leaver.user._id,
      targetEmail: 'leavera@example.com',
      details: { source: 'slack', reason: 'moving abroad', effectiveDate: '2099-01-01', immediateLockout: false, slackUserId: manager.slackId },
    });

    // A second /offboard joins the running process, and says so in the log, as the API does.
    slack.responses();
    await slack.command('/offboard', 'leavera@example.com', slack.people.admin!.slackId, 'C0REQUEST');
    expect(await slack.nextResponse()).toMatch(/already running; you joined it/);
    const joined = await first(processOf(leaver), 'offboarding.request_joined');
    expect(joined).toMatchObject({ actorType: 'slack', actorId: slack.people.admin!.user._id, details: { source: 'slack' } });
    expect(await audited(processOf(leaver), 'offboarding.requested')).toHaveLength(1);

    // The same start through the API writes the same event, from the API.
    const viaApi = await slack.app.inject({ method: 'POST', url: '/v1/users/leaverd@example.com/offboarding', headers: manager.auth, payload: { reason: 'moving abroad', effectiveDate: '2099-01-01' } });
    expect(viaApi.statusCode).toBe(202);
    const [api] = await audited(processOf(slack.people.leaverd!), 'offboarding.requested');
    expect(api).toMatchObject({ actorType: 'user', actorId: manager.user._id, details: { source: 'api', reason: 'moving abroad', effectiveDate: '2099-01-01', immediateLockout: false } });
  });

  it('hardening #14: Approve, Reject and refused clicks are audited as the same actions through the API', async () => {
    const manager = slack.people.manager!;
    const [a, b] = [slack.people.leaverb!, slack.people.leaverc!];
    await seedResource(ctx.models, a.user._id, { name: 'deploy-b' });
    await seedResource(ctx.models, b.user._id, { name: 'deploy-c' });
    await withWorker(
      ctx,
      async () => {
        await slack.command('/offboard', 'leaverb@example.com', manager.slackId, 'C0REQUEST');
        await slack.command('/offboard', 'leaverc@example.com', manager.slackId, 'C0REQUEST');
        const [requestA, requestB] = [await requestAbout(a), await requestAbout(b)];
        const refusalsBefore = await ctx.models.AuditEvent.countDocuments({ action: 'slack.refused' });

        // The leaver's own click and a stranger's are refused by the workflow, and audited as refusals.
        slack.responses();
        await click('leaverb', ACTIONS.approve, requestA);
        let [refused] = await auditedAfterAnswer(processOf(a), 'offboarding.approve_refused', 1);
        expect(refused).toMatchObject({ actorType: 'slack', actorId: a.user._id, targetUserId: a.user._id, details: { code: 'not_an_approver', source: 'slack', slackUserId: a.slackId } });
        expect(refused!.details.message).toMatch(/leaver cannot act on their own offboarding/);

        await click('stranger', ACTIONS.approve, requestA);
        const refusals = await auditedAfterAnswer(processOf(a), 'offboarding.approve_refused', 2);
        expect(refusals[1]).toMatchObject({ actorType: 'slack', actorId: slack.people.stranger!.user._id, details: { code: 'not_an_approver', source: 'slack' } });

        await click('stranger', ACTIONS.reject, requestB);
        [refused] = await auditedAfterAnswer(processOf(b), 'offboarding.reject_refused', 1);
        expect(refused).toMatchObject({ actorType: 'slack', actorId: slack.people.stranger!.user._id, details: { code: 'not_an_approver', source: 'slack' } });

        // The manager approves one and rejects the other: both decisions are audited.
        await click('manager', ACTIONS.approve, requestA);
        const approved = await first(processOf(a), 'offboarding.approve');
        expect(approved).toMatchObject({ actorType: 'slack', actorId: manager.user._id, actorEmail: 'manager@example.com', targetUserId: a.user._id, details: { action: 'approve', source: 'slack', slackUserId: manager.slackId, result: { status: 'executing' } } });
        expect(approved.details.planVersion).toEqual(expect.any(String));

        await click('manager', ACTIONS.reject, requestB);
        const rejected = await first(processOf(b), 'offboarding.reject');
        expect(rejected).toMatchObject({ actorType: 'slack', actorId: manager.user._id, details: { action: 'reject', source: 'slack', result: { status: 'rejected' } } });

        // A second click on a decided request is refused as the API refuses it (409), and audited.
        slack.responses();
        await click('manager', ACTIONS.approve, requestA);
        const late = await auditedAfterAnswer(processOf(a), 'offboarding.approve_refused', 3);
        expect(late[2]).toMatchObject({ actorId: manager.user._id, details: { source: 'slack' } });
        expect(['invalid_process_state', 'process_finished']).toContain(late[2]!.details.code);

        // A refusal reads the same from Slack and from the API: the rejected process has ended.
        await temporal.workflow.getHandle(processOf(b)).result();
        slack.responses();
        await click('manager', ACTIONS.reject, requestB);
        const [, lateInSlack] = await auditedAfterAnswer(processOf(b), 'offboarding.reject_refused', 2);
        expect(lateInSlack).toMatchObject({ actorType: 'slack', actorId: manager.user._id, details: { code: 'process_finished', source: 'slack' } });
        const viaApi = await slack.app.inject({ method: 'POST', url: '/v1/users/leaverc@example.com/offboarding/reject', headers: manager.auth, payload: {} });
        expect(viaApi.statusCode).toBe(409);
        expect(viaApi.json().error.code).toBe(lateInSlack!.details.code);
        const [, , lateInApi] = await audited(processOf(b), 'offboarding.reject_refused');
        expect(lateInApi).toMatchObject({ actorType: 'user', actorId: manager.user._id, details: { code: lateInSlack!.details.code, source: 'api' } });

        // Each refusal was written once, by the one rule, not a second time as a Slack-only event.
        expect(await ctx.models.AuditEvent.countDocuments({ action: 'slack.refused' })).toBe(refusalsBefore);
        await eventually('the approved offboarding to complete', async () => ((await temporal.workflow.getHandle(processOf(a)).query(progressQuery)).status === 'completed' ? true : undefined), 30_000);
      },
      worker,
    );
  }, 90_000);

  it('hardening #14: a change of owner from the Slack modal is audited, and so is its refusal', async () => {
    const manager = slack.people.manager!;
    const leaver = await slack.person('leavere', 'Users', { managerId: manager.user._id });
    await seedResource(ctx.models, leaver.user._id, { name: 'deploy-e' });
    await withWorker(
      ctx,
      async () => {
        await slack.command('/offboard', 'leavere@example.com', manager.slackId, 'C0REQUEST');
        const request = await requestAbout(leaver);
        await click('manager', ACTIONS.changeOwner, request);
        const opened = await eventually('the Change owner modal', async () => slack.recorder.callsTo('views.open').at(-1));
        const submit = (selected: string) =>
          slack.interaction({
            type: 'view_submission',
            user: { id: manager.slackId, username: 'manager', team_id: 'T1' },
            trigger_id: 'trigger-submit',
            view: { id: 'V1', callback_id: opened.args.view.callback_id, private_metadata: opened.args.view.private_metadata, state: { values: { owner: { user: { type: 'users_select', selected_user: selected } } } } },
          });

        const refusedAnswer = await submit(leaver.slackId);
        expect(refusedAnswer.body).toMatchObject({ response_action: 'errors' });
        const refused = await first(processOf(leaver), 'offboarding.change_owner_refused');
        expect(refused).toMatchObject({ actorType: 'slack', actorId: manager.user._id, targetUserId: leaver.user._id, details: { code: 'new_owner_inactive', source: 'slack' } });

        const accepted = await submit(slack.people.admin!.slackId);
        expect(accepted.body?.response_action).toBeUndefined();
        const changed = await first(processOf(leaver), 'offboarding.change_owner');
        expect(changed).toMatchObject({ actorType: 'slack', actorId: manager.user._id, details: { action: 'change-owner', newOwnerId: String(slack.people.admin!.user._id), source: 'slack' } });
        expect(await audited(processOf(leaver), 'offboarding.change_owner_refused')).toHaveLength(1);
      },
      worker,
    );
  }, 90_000);

  it('/onboard is audited through the same invitation service as the API, with the Slack user as actor', async () => {
    slack.responses();
    await slack.command('/onboard', 'newcomer@example.com', slack.people.admin!.slackId, 'C0REQUEST');
    expect(await slack.nextResponse()).toMatch(/Invitation to newcomer@example\.com is on its way/);
    const created = await ctx.models.AuditEvent.findOne({ action: 'user.created', targetEmail: 'newcomer@example.com' }).lean();
    expect(created).toMatchObject({ actorType: 'slack', actorId: slack.people.admin!.user._id, actorEmail: 'admin@example.com' });
  });
});

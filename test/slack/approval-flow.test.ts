/**
 * The whole Slack path against the real workflow: a manager's /offboard → approval DM to the
 * right person → the leaver's and a stranger's clicks refused and nothing changes → the
 * manager's Approve → the real workflow completes → the progress message shows the final state.
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressQuery } from '../../workflows/offboarding-messages';
import { runSlackSync } from '../../src/slack/sync';
import { startSlackSync } from '../../src/slack/sync-scheduler';
import { ACTIONS } from '../../src/slack/blocks/approval';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { clickApprovalButton, startSlackHarness, type SlackHarness } from '../helpers/slack-app';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createClient, withWorker } from '../helpers/temporal';
import { seedResource } from '../helpers/users';
import type { RecordedCall } from '../helpers/slack-api';

let ctx: TestContext;
let temporal: Client;
let slack: SlackHarness;
let smtp: TestSmtpServer;

const person = (...args: Parameters<SlackHarness['person']>) => slack.person(...args);

const sync = () => runSlackSync(slack.app.slack!.context, slack.app.slack!.app.client);
const timings = { approvalReminderMs: 60_000, approvalEscalationMs: 120_000, undoGraceMs: 60_000 };

const click = (who: string, actionId: string, message: RecordedCall) => clickApprovalButton(slack, who, actionId, message);

beforeAll(async () => {
  ctx = await createTestContext('slackflow');
  temporal = await createClient(ctx);
  slack = await startSlackHarness(ctx, temporal);
  smtp = await startSmtpServer();
  await person('admin', 'Administrators');
  const manager = await person('manager', 'Users');
  await person('leaver', 'Users', { managerId: manager.user._id });
  await person('stranger', 'PowerUsers');
});

afterAll(async () => {
  await slack?.close();
  await smtp?.close();
  await temporal?.connection.close();
  await ctx?.close();
});

describe('offboarding from Slack', () => {
  it('asks the manager, refuses the leaver and a stranger, and completes on the manager’s approval', async () => {
    const leaver = slack.people.leaver!;
    await seedResource(ctx.models, leaver.user._id, { kind: 'pipeline', name: 'deploy-prod' });
    await seedResource(ctx.models, leaver.user._id, { kind: 'tool', name: 'grafana' });
    const workflowId = `offboarding:${String(leaver.user._id)}`;

    await withWorker(
      ctx,
      async () => {
        const res = await slack.command('/offboard', 'leaver@example.com last day friday', slack.people.manager!.slackId, 'C0REQUEST');
        expect(res.status).toBe(200);
        const progressPost = await eventually('the progress message', async () => slack.recorder.callsTo('chat.postMessage').find((c) => c.args.channel === 'C0REQUEST'));
        expect(slack.responses().join('\n')).toMatch(/Offboarding of leaver User \(leaver@example\.com\) started/);

        // The approval request goes to the manager's DM, with the plan and the three buttons.
        const dm = await eventually('the approval DM', async () => {
          await sync();
          return slack.recorder.callsTo('chat.postMessage').find((c) => c.args.channel === `D${slack.people.manager!.slackId}`);
        });
        const blocksText = JSON.stringify(dm.args.blocks);
        expect(blocksText).toContain('deploy-prod');
        expect(blocksText).toContain('grafana');
        expect(blocksText).toContain('manager User (manager@example.com)');
        const actions = (dm.args.blocks as any[]).find((b) => b.type === 'actions').elements.map((e: any) => e.action_id);
        expect(actions).toEqual([ACTIONS.approve, ACTIONS.reject, ACTIONS.changeOwner]);
        expect(slack.recorder.callsTo('chat.postMessage').filter((c) => c.args.channel === `D${slack.people.leaver!.slackId}`)).toHaveLength(0);

        // A second sync pass sends nothing twice.
        const posted = slack.recorder.callsTo('chat.postMessage').length;
        await sync();
        expect(slack.recorder.callsTo('chat.postMessage').length).toBe(posted);

        // The leaver's and a stranger's clicks are refused by the workflow's validator.
        for (const who of ['leaver', 'stranger']) {
          slack.responses();
          expect((await click(who, ACTIONS.approve, dm)).status).toBe(200);
          const answer = await slack.nextResponse();
          expect(answer).toMatch(/^:no_entry: /);
          expect((await temporal.workflow.getHandle(workflowId).query(progressQuery)).status).toBe('awaiting_approval');
        }
        expect(await ctx.models.User.countDocuments({ _id: leaver.user._id, status: 'active' })).toBe(1);
        expect(slack.recorder.callsTo('chat.update').filter((c) => c.args.channel === dm.args.channel)).toHaveLength(0);

        // The manager approves: the DM shows who decided and loses its buttons.
        expect((await click('manager', ACTIONS.approve, dm)).status).toBe(200);
        const decided = await eventually('the decided approval message', async () => slack.recorder.callsTo('chat.update').find((c) => c.args.channel === dm.args.channel));
        expect(decided.args.text).toMatch(/approved by manager User at /);
        expect((decided.args.blocks as any[]).some((b) => b.type === 'actions')).toBe(false);

        // The real workflow completes, and the progress message ends on the final state.
        const final = await eventually('the offboarding to complete', async () => {
          const progress = await temporal.workflow.getHandle(workflowId).query(progressQuery);
          return progress.status === 'completed' ? progress : undefined;
        }, 30_000);
        expect(final.verification?.clean).toBe(true);
        expect(await ctx.models.Resource.countDocuments({ ownerId: leaver.user._id })).toBe(0);
        expect(await ctx.models.Resource.countDocuments({ ownerId: slack.people.manager!.user._id })).toBe(2);

        const scheduler = await startSlackSync(slack.app.slack!, ctx.queue, 200);
        try {
          const update = await eventually('the progress message to show completion', async () =>
            slack.recorder.callsTo('chat.update').find((c) => c.args.channel === progressPost.args.channel && /completed/.test(String(c.args.text))),
          );
          expect(update.args.text).toMatch(/Offboarding of leaver User: completed/);
        } finally {
          await scheduler.close();
        }
      },
      { smtpUrl: smtp.url, deps: { offboarding: timings } },
    );
  }, 90_000);

  it('changes the owner from a modal, supersedes the old request, and lists pending approvals on the App Home', async () => {
    const leaver = await person('leaver2', 'Users', { managerId: slack.people.manager!.user._id });
    await seedResource(ctx.models, leaver.user._id, { kind: 'task', name: 'nightly-report' });
    const workflowId = `offboarding:${String(leaver.user._id)}`;

    await withWorker(
      ctx,
      async () => {
        await slack.command('/offboard', 'leaver2@example.com', slack.people.admin!.slackId, 'C0ADMIN');
        const dm = await eventually('the approval DM', async () => {
          await sync();
          return slack.recorder.callsTo('chat.postMessage').find((c) => c.args.channel === `D${slack.people.manager!.slackId}` && JSON.stringify(c.args.blocks).includes('nightly-report'));
        });

        // App Home: the manager sees the pending approval.
        await slack.event({ type: 'app_home_opened', user: slack.people.manager!.slackId, channel: 'DHOME', tab: 'home' });
        const home = await eventually('the App Home view', async () => slack.recorder.callsTo('views.publish').find((c) => c.args.user_id === slack.people.manager!.slackId));
        expect(JSON.stringify(home.args.view)).toContain('Offboarding of *leaver2 User*');

        // Change owner opens a modal with a user picker.
        await click('manager', ACTIONS.changeOwner, dm);
        const opened = await eventually('the Change owner modal', async () => slack.recorder.callsTo('views.open').at(-1));
        expect(opened.args.view.callback_id).toBe('offboarding_change_owner_view');
        const submit = (selected: string) =>
          slack.interaction({
            type: 'view_submission',
            user: { id: slack.people.manager!.slackId, username: 'manager', team_id: 'T1' },
            trigger_id: 'trigger-submit',
            view: { id: 'V1', callback_id: opened.args.view.callback_id, private_metadata: opened.args.view.private_metadata, state: { values: { owner: { user: { type: 'users_select', selected_user: selected } } } } },
          });

        // The leaver cannot receive their own resources: the modal shows the workflow's refusal.
        const refused = await submit(leaver.slackId);
        expect(refused.status).toBe(200);
        expect(refused.body).toMatchObject({ response_action: 'errors', errors: { owner: expect.any(String) } });

        const accepted = await submit(slack.people.admin!.slackId);
        expect(accepted.status).toBe(200);
        expect(accepted.body?.response_action).toBeUndefined();

        // The next pass asks again about the new plan and closes the superseded request.
        const second = await eventually('a request for the new plan', async () => {
          await sync();
          return slack.recorder
            .callsTo('chat.postMessage')
            .find((c) => c !== dm && c.args.channel === dm.args.channel && JSON.stringify(c.args.blocks).includes('nightly-report') && JSON.stringify(c.args.blocks).includes('admin User (admin@example.com)'));
        });
        const superseded = slack.recorder.callsTo('chat.update').find((c) => c.args.channel === dm.args.channel && /superseded by a newer plan/.test(String(c.args.text)));
        expect(superseded).toBeDefined();

        await click('manager', ACTIONS.approve, second);
        await eventually('the offboarding to complete', async () => {
          const progress = await temporal.workflow.getHandle(workflowId).query(progressQuery);
          return progress.status === 'completed' ? progress : undefined;
        }, 30_000);
        expect(await ctx.models.Resource.countDocuments({ ownerId: slack.people.admin!.user._id, name: 'nightly-report' })).toBe(1);
      },
      { smtpUrl: smtp.url, deps: { offboarding: timings } },
    );
  }, 90_000);
});

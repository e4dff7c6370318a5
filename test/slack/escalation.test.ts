/**
 * Reminder and escalation of an unanswered offboarding approval, end to end in Slack: the real
 * workflow's reminder and escalation timers fire (the worker runs with timings of seconds, as the
 * other process tests do; the configured defaults stay days), and the Slack sync, reading the
 * workflow's own state, reminds the approver in the thread of their request and brings the
 * request to the Administrators, who can then answer it.
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressQuery } from '../../workflows/offboarding-messages';
import { runSlackSync } from '../../src/slack/sync';
import { ACTIONS } from '../../src/slack/blocks/approval';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import type { RecordedCall } from '../helpers/slack-api';
import { clickApprovalButton, startSlackHarness, type SlackHarness } from '../helpers/slack-app';
import { createClient, withWorker } from '../helpers/temporal';
import { seedResource } from '../helpers/users';

let ctx: TestContext;
let temporal: Client;
let slack: SlackHarness;

const sync = () => runSlackSync(slack.app.slack!.context, slack.app.slack!.app.client);
/** Seconds instead of the configured days: the timers are the workflow's own, only shorter. */
const timings = { approvalReminderMs: 2_000, approvalEscalationMs: 6_000, undoGraceMs: 60_000 };

const postsTo = (name: string) => slack.recorder.callsTo('chat.postMessage').filter((c) => c.args.channel === `D${slack.people[name]!.slackId}`);
const requestsTo = (name: string) => postsTo(name).filter((c) => Array.isArray(c.args.blocks) && c.args.blocks.some((b: any) => b.type === 'actions'));

const click = (who: string, actionId: string, message: RecordedCall) => clickApprovalButton(slack, who, actionId, message);

beforeAll(async () => {
  ctx = await createTestContext('slackescalation');
  temporal = await createClient(ctx);
  slack = await startSlackHarness(ctx, temporal);
  await slack.person('admin', 'Administrators');
  const manager = await slack.person('manager', 'Users');
  await slack.person('leaver', 'Users', { managerId: manager.user._id });
  await slack.person('stranger', 'PowerUsers');
});

afterAll(async () => {
  await slack?.close();
  await temporal?.connection.close();
  await ctx?.close();
});

describe('an unanswered approval in Slack', () => {
  it('hardening #13: reminds the approver, then brings the escalated request to the Administrators, who can answer it', async () => {
    const leaver = slack.people.leaver!;
    await seedResource(ctx.models, leaver.user._id, { kind: 'pipeline', name: 'deploy-prod' });
    const workflowId = `offboarding:${String(leaver.user._id)}`;
    const progress = () => temporal.workflow.getHandle(workflowId).query(progressQuery);

    await withWorker(
      ctx,
      async () => {
        await slack.command('/offboard', 'leaver@example.com', slack.people.manager!.slackId, 'C0REQUEST');

        // First the manager alone is asked.
        const managerRequest = await eventually('the approval request to the manager', async () => {
          await sync();
          return requestsTo('manager')[0];
        });
        await sync();
        if (!(await progress()).escalatedAt) expect(requestsTo('admin')).toHaveLength(0);

        // The reminder timer fires: the manager is reminded in the thread of their request.
        const reminder = await eventually('the reminder to the manager', async () => {
          await sync();
          return postsTo('manager').find((c) => c !== managerRequest && /reminder/i.test(String(c.args.text)));
        });
        const stored = await ctx.models.SlackMessage.findOne({ kind: 'approval', workflowId, slackUserId: slack.people.manager!.slackId }).lean();
        expect(reminder.args.thread_ts).toBe(stored!.ts);
        expect(String(reminder.args.text)).toContain('leaver User');
        const remindedAt = (await progress()).remindedAt;
        expect(remindedAt).toEqual(expect.any(String));
        if (!(await progress()).escalatedAt) expect(requestsTo('admin')).toHaveLength(0);

        // The escalation timer fires: the Administrators get the request, marked as escalated.
        const adminRequest = await eventually('the escalated request to the admin', async () => {
          await sync();
          return requestsTo('admin')[0];
        }, 20_000);
        const state = await progress();
        expect(state.status).toBe('awaiting_approval');
        expect(state.escalatedAt).toEqual(expect.any(String));
        expect(Date.parse(state.escalatedAt!)).toBeGreaterThan(Date.parse(remindedAt!));
        expect(JSON.stringify(adminRequest.args.blocks)).toMatch(/escalated/i);
        expect(JSON.stringify(adminRequest.args.blocks)).toContain('deploy-prod');

        // Nobody else is asked; nothing is sent twice.
        expect(postsTo('stranger')).toHaveLength(0);
        expect(postsTo('leaver')).toHaveLength(0);
        const posted = slack.recorder.callsTo('chat.postMessage').length;
        await sync();
        await sync();
        expect(slack.recorder.callsTo('chat.postMessage').length).toBe(posted);
        expect(postsTo('manager').filter((c) => /reminder/i.test(String(c.args.text)))).toHaveLength(1);
        expect(requestsTo('manager')).toHaveLength(1);

        // The admin answers from the escalated request; both requests close.
        expect((await click('admin', ACTIONS.approve, adminRequest)).status).toBe(200);
        await eventually('the offboarding to complete', async () => ((await progress()).status === 'completed' ? true : undefined), 30_000);
        await sync();
        for (const who of ['manager', 'admin']) {
          const message = await ctx.models.SlackMessage.findOne({ kind: 'approval', workflowId, slackUserId: slack.people[who]!.slackId }).lean();
          expect(message?.finishedAt).toBeInstanceOf(Date);
          const closed = slack.recorder.callsTo('chat.update').find((c) => c.args.channel === message!.channel && c.args.ts === message!.ts);
          expect(closed?.args.text).toMatch(/approved by admin User/);
        }
      },
      { deps: { offboarding: timings } },
    );
  }, 90_000);
});

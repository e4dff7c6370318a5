/**
 * What a Slack sync pass touches: the offboardings whose TenureStatus search attribute says they
 * wait for an approver, and the processes of open messages, never an offboarding that waits out
 * its undo window. The bot's Temporal client counts the queries it sends, per workflow id.
 */
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressQuery } from '../../workflows/offboarding-messages';
import { TENURE_PROCESS, TENURE_STATUS } from '../../workflows/search-attributes';
import { ACTIONS } from '../../src/slack/blocks/approval';
import { awaitingApprovalQuery } from '../../src/processes/offboarding';
import { runSlackSync } from '../../src/slack/sync';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { clickApprovalButton, startSlackHarness, type SlackHarness } from '../helpers/slack-app';
import { withWorker } from '../helpers/temporal';
import { seedResource } from '../helpers/users';

let ctx: TestContext;
let temporal: Client;
let slack: SlackHarness;
const queries = new Map<string, number>();

const sync = () => runSlackSync(slack.app.slack!.context, slack.app.slack!.app.client);
/** An undo window far longer than the test: the completed offboarding stays in it throughout. */
const timings = { approvalReminderMs: 600_000, approvalEscalationMs: 1_200_000, undoGraceMs: 3_600_000, retentionDayMs: 86_400_000 };

const requestsTo = (name: string, leaverEmail: string) =>
  slack.recorder.callsTo('chat.postMessage').filter((c) => c.args.channel === `D${slack.people[name]!.slackId}` && JSON.stringify(c.args.blocks ?? '').includes(leaverEmail));
const statusOf = async (workflowId: string) => (await temporal.workflow.getHandle(workflowId).describe()).typedSearchAttributes.get(TENURE_STATUS);

beforeAll(async () => {
  ctx = await createTestContext('slacksyncscope');
  const counter: WorkflowClientInterceptor = {
    async query(input, next) {
      const id = input.workflowExecution.workflowId;
      queries.set(id, (queries.get(id) ?? 0) + 1);
      return next(input);
    },
  };
  const connection = await Connection.connect({ address: ctx.stack.temporalAddress });
  temporal = new Client({ connection, namespace: 'default', interceptors: { workflow: [counter] } });
  slack = await startSlackHarness(ctx, temporal);
  await slack.person('admin', 'Administrators');
  await slack.person('manager', 'Users');
});

afterAll(async () => {
  await slack?.close();
  await temporal?.connection.close();
  await ctx?.close();
});

/** Starts the offboarding of a new report of the manager from Slack, and waits for its approval request. */
async function offboardFromSlack(name: string, channel: string) {
  const leaver = await slack.person(name, 'Users', { managerId: slack.people.manager!.user._id });
  await seedResource(ctx.models, leaver.user._id, { kind: 'pipeline', name: `${name}-deploy` });
  expect((await slack.command('/offboard', `${name}@example.com`, slack.people.manager!.slackId, channel)).status).toBe(200);
  const request = await eventually(`the approval request for ${name}`, async () => {
    await sync();
    return requestsTo('manager', `${name}@example.com`)[0];
  });
  return { leaver, request, workflowId: `offboarding:${String(leaver.user._id)}` };
}

describe('a Slack sync pass', () => {
  it('lists the offboardings awaiting approval by TenureStatus, and those started before it was published (none set)', async () => {
    // Started on a queue of their own with no worker: the visibility store answers from the start's attributes alone.
    const taskQueue = `scope-${randomUUID()}`;
    const started = { unpublished: `offboarding:scope-${randomUUID()}`, awaiting: `offboarding:scope-${randomUUID()}`, completed: `offboarding:scope-${randomUUID()}` };
    const status = { unpublished: undefined, awaiting: 'awaiting_approval', completed: 'completed' } as const;
    const handles = await Promise.all(
      (Object.keys(started) as Array<keyof typeof started>).map((name) =>
        temporal.workflow.start('offboardingWorkflow', {
          taskQueue,
          workflowId: started[name],
          args: [],
          typedSearchAttributes: [{ key: TENURE_PROCESS, value: 'offboarding' }, ...(status[name] ? [{ key: TENURE_STATUS, value: status[name] }] : [])],
        }),
      ),
    );
    try {
      const list = async (query: string) => {
        const ids: string[] = [];
        for await (const execution of temporal.workflow.list({ query })) ids.push(execution.workflowId);
        return ids.sort();
      };
      await eventually('the three to be visible', async () => ((await list(`TaskQueue = '${taskQueue}'`)).length === 3 ? true : undefined));
      expect(await list(awaitingApprovalQuery(taskQueue))).toEqual([started.unpublished, started.awaiting].sort());
    } finally {
      await Promise.all(handles.map((h) => h.terminate('test over')));
    }
  });

  it('never queries an offboarding that waits out its undo window, while still asking about one awaiting approval', async () => {
    await withWorker(
      ctx,
      async () => {
        const idle = await offboardFromSlack('idler', 'C0IDLE');
        expect((await clickApprovalButton(slack, 'manager', ACTIONS.approve, idle.request)).status).toBe(200);
        await eventually('the offboarding to wait out its undo window', async () => {
          const progress = await temporal.workflow.getHandle(idle.workflowId).query(progressQuery);
          return progress.status === 'completed' && progress.steps.find((s) => s.name === 'undo_window')?.state === 'running' ? progress : undefined;
        }, 30_000);
        // Its progress message shows the completion once, and stays open for a possible undo.
        await eventually('the progress message to show completion', async () => {
          await sync();
          return slack.recorder.callsTo('chat.update').find((c) => c.args.channel === 'C0IDLE' && /completed/.test(String(c.args.text)));
        });
        expect(await statusOf(idle.workflowId)).toBe('completed');

        const waiting = await offboardFromSlack('waiter', 'C0WAIT');
        queries.clear();
        for (let pass = 0; pass < 3; pass++) await sync();

        expect(queries.get(waiting.workflowId) ?? 0).toBeGreaterThan(0);
        expect(queries.get(idle.workflowId) ?? 0).toBe(0);
        const description = await temporal.workflow.getHandle(idle.workflowId).describe();
        expect(description.status.name).toBe('RUNNING');
        expect(await ctx.models.SlackMessage.countDocuments({ kind: 'progress', workflowId: idle.workflowId, finishedAt: null })).toBe(1);
      },
      { deps: { offboarding: timings } },
    );
  }, 90_000);

  it('posts the approval request of an offboarding its TenureStatus shows awaiting approval, and leaves it once approved', async () => {
    await withWorker(
      ctx,
      async () => {
        const { request, workflowId } = await offboardFromSlack('asked', 'C0ASKED');
        expect(await statusOf(workflowId)).toBe('awaiting_approval');
        expect(JSON.stringify(request.args.blocks)).toContain('asked-deploy');
        expect(requestsTo('admin', 'asked@example.com')).toHaveLength(0);

        // The approval (an update) changes the published status; the next passes close the request.
        expect((await clickApprovalButton(slack, 'manager', ACTIONS.approve, request)).status).toBe(200);
        await eventually('the published status to leave awaiting_approval', async () => ((await statusOf(workflowId)) === 'completed' ? true : undefined), 30_000);
        await sync();
        const closed = await ctx.models.SlackMessage.findOne({ kind: 'approval', workflowId }).lean();
        expect(closed?.finishedAt).toBeInstanceOf(Date);
        queries.clear();
        await sync();
        expect(queries.get(workflowId) ?? 0).toBe(0);

        // Its history, status upserts from the approval's update handler included, replays.
        const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
        expect(history.events?.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).length).toBeGreaterThan(3);
        await Worker.runReplayHistory({ workflowBundle: { codePath: ctx.workflowBundlePath } }, history, workflowId);
      },
      { deps: { offboarding: timings } },
    );
  }, 90_000);
});

/**
 * What a Slack sync pass asks of onboardings: an onboarding whose published TenureStatus is the
 * state its progress message last showed (one idling while it waits for the invitee) is not
 * queried; one whose status changed, or that publishes none (started before it did so), is. The
 * bot's Temporal client counts the queries it sends, per workflow id.
 */
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORG_SETTINGS_ID } from '../../src/db/models/org-settings';
import { completeRegistration } from '../../src/processes/onboarding';
import { runSlackSync } from '../../src/slack/sync';
import type { Caller } from '../../workflows/onboarding-messages';
import { TENURE_PROCESS, TENURE_STATUS } from '../../workflows/search-attributes';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { startSlackHarness, type SlackHarness } from '../helpers/slack-app';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { withWorker } from '../helpers/temporal';

let ctx: TestContext;
let temporal: Client;
let slack: SlackHarness;
let smtp: TestSmtpServer;
const queries = new Map<string, number>();
/** Processes on a queue no worker polls: a query to one is given up after a second (the server would wait far longer). */
const unanswered = new Set<string>();

const sync = () => runSlackSync(slack.app.slack!.context, slack.app.slack!.app.client);
const updatesIn = (channel: string) => slack.recorder.callsTo('chat.update').filter((c) => c.args.channel === channel);
const statusOf = async (workflowId: string) => (await temporal.workflow.getHandle(workflowId).describe()).typedSearchAttributes.get(TENURE_STATUS);

beforeAll(async () => {
  ctx = await createTestContext('slacksynconboarding');
  const counter: WorkflowClientInterceptor = {
    async query(input, next) {
      const id = input.workflowExecution.workflowId;
      queries.set(id, (queries.get(id) ?? 0) + 1);
      return unanswered.has(id) ? connection.withDeadline(Date.now() + 1_000, () => next(input)) : next(input);
    },
  };
  const connection = await Connection.connect({ address: ctx.stack.temporalAddress });
  temporal = new Client({ connection, namespace: 'default', interceptors: { workflow: [counter] } });
  slack = await startSlackHarness(ctx, temporal);
  smtp = await startSmtpServer();
  await slack.person('admin', 'Administrators');
  await ctx.models.OrgSettings.create({ _id: ORG_SETTINGS_ID, domain: 'example.com', plan: 'Enterprise' });
});

afterAll(async () => {
  await slack?.close();
  await smtp?.close();
  await temporal?.connection.close();
  await ctx?.close();
});

/** Onboards `<name>@example.com` from Slack into `channel`, and waits until its progress message shows it invited. */
async function onboardFromSlack(name: string, channel: string) {
  const email = `${name}@example.com`;
  expect((await slack.command('/onboard', email, slack.people.admin!.slackId, channel)).status).toBe(200);
  const workflowId = `onboarding:${email}`;
  await eventually(`the progress message of ${name} to show the invitation`, async () => {
    await sync();
    return updatesIn(channel).find((c) => /: invited$/.test(String(c.args.text)));
  }, 30_000);
  return { email, workflowId };
}

describe('a Slack sync pass over onboardings', () => {
  it('leaves an onboarding waiting for its invitee unqueried, and updates its message once when it is accepted or completed', async () => {
    await withWorker(
      ctx,
      async () => {
        const accepting = await onboardFromSlack('accepter', 'C0ACCEPT');
        const completing = await onboardFromSlack('completer', 'C0COMPLETE');
        expect(await statusOf(accepting.workflowId)).toBe('invited');
        expect(await statusOf(completing.workflowId)).toBe('invited');
        const shown = { accept: updatesIn('C0ACCEPT').length, complete: updatesIn('C0COMPLETE').length };

        // Idling while they wait for the invitees: three passes ask neither, and write nothing.
        queries.clear();
        for (let pass = 0; pass < 3; pass++) await sync();
        expect(queries.get(accepting.workflowId) ?? 0).toBe(0);
        expect(queries.get(completing.workflowId) ?? 0).toBe(0);
        expect(updatesIn('C0ACCEPT')).toHaveLength(shown.accept);
        expect(updatesIn('C0COMPLETE')).toHaveLength(shown.complete);
        expect(await ctx.models.SlackMessage.countDocuments({ kind: 'progress', workflowId: { $in: [accepting.workflowId, completing.workflowId] }, finishedAt: null })).toBe(2);

        // The invitee accepts through the link mailed to them; an administrator completes the other.
        const mail = await eventually('the invitation email', async () => smtp.to(accepting.email)[0]);
        const token = /\/invitations\/([A-Za-z0-9_-]{20,})\/accept/.exec(mail.body)![1]!;
        expect((await slack.app.inject({ method: 'POST', url: `/v1/invitations/${token}/accept` })).statusCode).toBe(200);
        const admin = slack.people.admin!;
        const caller: Caller = { id: String(admin.user._id), role: 'Administrators', email: admin.user.email };
        expect(await completeRegistration(temporal, completing.email, { caller, siteRole: 'Users' })).toMatchObject({ state: 'completed' });
        await eventually('both onboardings to end', async () => {
          const runs = await Promise.all([accepting, completing].map((o) => temporal.workflow.getHandle(o.workflowId).describe()));
          return runs.every((r) => r.status.name === 'COMPLETED') ? true : undefined;
        }, 30_000);

        for (let pass = 0; pass < 3; pass++) await sync();
        const accepted = updatesIn('C0ACCEPT').slice(shown.accept);
        const completed = updatesIn('C0COMPLETE').slice(shown.complete);
        expect(accepted.map((c) => c.args.text)).toEqual([`Onboarding of ${accepting.email}: accepted`]);
        expect(completed.map((c) => c.args.text)).toEqual([`Onboarding of ${completing.email}: completed`]);
        expect(await ctx.models.SlackMessage.countDocuments({ kind: 'progress', workflowId: { $in: [accepting.workflowId, completing.workflowId] }, finishedAt: null })).toBe(0);

        // Their histories, with the state upserts and the patch marker, replay.
        for (const { workflowId } of [accepting, completing]) {
          const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
          expect(history.events?.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).length).toBeGreaterThanOrEqual(3);
          await Worker.runReplayHistory({ workflowBundle: { codePath: ctx.workflowBundlePath } }, history, workflowId);
        }
      },
      { smtpUrl: smtp.url },
    );
  }, 120_000);

  it('asks an onboarding whose status changed since its message was written, or that publishes none, and no other', async () => {
    // Started on a queue of their own with no worker: the server describes them from the start's attributes.
    const taskQueue = `onboarding-scope-${randomUUID()}`;
    const cases = {
      unpublished: { published: undefined, shown: 'invited' },
      unchanged: { published: 'invited', shown: 'invited' },
      changed: { published: 'accepted', shown: 'invited' },
    } as const;
    const names = Object.keys(cases) as Array<keyof typeof cases>;
    const ids = Object.fromEntries(names.map((name) => [name, `onboarding:${name}-${randomUUID()}@example.com`])) as Record<keyof typeof cases, string>;
    for (const id of Object.values(ids)) unanswered.add(id);
    const handles = await Promise.all(
      names.map((name) =>
        temporal.workflow.start('onboardingWorkflow', {
          taskQueue,
          workflowId: ids[name],
          args: [],
          typedSearchAttributes: [{ key: TENURE_PROCESS, value: 'onboarding' }, ...(cases[name].published ? [{ key: TENURE_STATUS, value: cases[name].published! }] : [])],
        }),
      ),
    );
    await ctx.models.SlackMessage.insertMany(
      names.map((name) => ({ kind: 'progress', key: `progress:${ids[name]}:C0SCOPE`, workflowId: ids[name], channel: 'C0SCOPE', ts: `1.${name}`, title: name, rendered: 'as last shown', processStatus: cases[name].shown })),
    );
    try {
      queries.clear();
      await sync();
      expect(queries.get(ids.unpublished) ?? 0).toBeGreaterThan(0);
      expect(queries.get(ids.changed) ?? 0).toBeGreaterThan(0);
      expect(queries.get(ids.unchanged) ?? 0).toBe(0);
    } finally {
      await Promise.all(handles.map((h) => h.terminate('test over')));
      await ctx.models.SlackMessage.deleteMany({ workflowId: { $in: Object.values(ids) } });
    }
  }, 60_000);
});

/**
 * An offboarding with Slack as a connected system, through the real API, Temporal worker and
 * store; Slack itself is the local recorder of its Web and SCIM APIs (it cannot be reached from a
 * test machine). The plan lists Slack's actions; after approval the recorder's workspace holds the
 * leaver deactivated and out of their user group; a deactivation Slack refuses ends as access
 * left behind naming Slack, and a retry once Slack accepts completes it.
 */
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackConnector } from '../../src/connectors/slack';
import type { App } from '../../src/http/app';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { startSlackApiRecorder, type SlackApiRecorder } from '../helpers/slack-api';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createClient, withWorker, type WorkerOptions } from '../helpers/temporal';
import { seedOrg, setPolicy, type Org } from '../offboarding/fixtures';
import { offboardingDriver } from './offboarding-driver';

let ctx: TestContext;
let client: Client;
let app: App;
let smtp: TestSmtpServer;
let slack: SlackApiRecorder;

beforeAll(async () => {
  ctx = await createTestContext('offboarding-slack');
  client = await createClient(ctx);
  app = await createTestApp(ctx, client);
  smtp = await startSmtpServer();
  slack = await startSlackApiRecorder();
  slack.setEnterprise('E1');
  await setPolicy(ctx.models, { approvalRequired: true, retentionMs: null });
}, 120_000);

afterAll(async () => {
  await slack?.close();
  await app?.close();
  await smtp?.close();
  await client?.connection.close();
  await ctx?.close();
});

const worker = (undoGraceMs = 500): WorkerOptions => ({
  smtpUrl: smtp.url,
  deps: {
    offboarding: { approvalReminderMs: 600_000, approvalEscalationMs: 1_200_000, undoGraceMs },
    connectors: [createSlackConnector({ token: 'xoxp-test-admin-token-0123456789', apiUrl: slack.apiUrl, scimUrl: slack.apiUrl.replace(/\/api\/$/, '/scim/v2/'), timeoutMs: 3_000 })],
  },
});

/** The organization of the offboarding tests; the leaver and manager in Slack, both in one user group, the leaver signed in. */
function seedSlack(org: Org) {
  const tag = randomUUID().slice(0, 6).toUpperCase();
  const leaverId = `U${tag}L`;
  const managerId = `U${tag}M`;
  slack.addUser({ id: leaverId, email: org.leaver.user.email, name: `leaver-${tag.toLowerCase()}`, sessions: 1 });
  slack.addUser({ id: managerId, email: org.manager.user.email });
  const groupId = `S${tag}`;
  slack.addUserGroup({ id: groupId, handle: `eng-${tag.toLowerCase()}`, users: [leaverId, managerId] });
  return { leaverId, managerId, groupId };
}

const { start, act, waitForStatus } = offboardingDriver(() => ({ app, client }));

describe('offboarding with Slack connected (against the local recorder of Slack\'s API)', () => {
  it('lists Slack\'s actions in the plan, carries them out after approval (through a rate limit), verifies clean, and an undo gives back what the interrupted attempt did', async () => {
    const org = await seedOrg(ctx.models);
    const s = seedSlack(org);
    await withWorker(ctx, async () => {
      await start(org);
      const waiting = await waitForStatus(org, ['awaiting_approval']);
      const planned = waiting.plan!.systems!.find((x) => x.system === 'slack')!;
      expect(planned.account).toMatch(/^leaver-/);
      expect(planned.error).toBeUndefined();
      expect(planned.actions.map((a) => a.action)).toEqual(['remove_membership', 'end_sessions', 'deactivate_account']);
      expect(planned.actions[0]!.summary).toContain('@eng-');

      // Slack rate-limits the first deactivation: Temporal retries it after Retry-After, and it goes through.
      slack.rateLimitNext('scim.DELETE', 1, 1);
      expect((await act(org, 'approve', { planVersion: waiting.plan!.version })).statusCode).toBe(200);
      const done = await waitForStatus(org, ['completed', 'completed_with_access_left_behind']);
      expect(done.status).toBe('completed');
      expect(slack.callsTo('scim.DELETE').filter((c) => c.args.id === s.leaverId)).toHaveLength(2);
      expect(done.verification!.systems).toEqual([expect.objectContaining({ system: 'slack', clean: true, remaining: [] })]);
      const sys = done.systems!.find((x) => x.system === 'slack')!;
      // The retried attempt no longer finds the group membership the first attempt removed (and
      // finds the sessions already ended): what the first attempt did is carried over from its
      // heartbeat, with the undo data, and the deactivation is the retry's own.
      expect(sys.outcomes.map((o) => `${o.action}:${o.state}`)).toEqual(['remove_membership:done', 'end_sessions:done', 'deactivate_account:done']);
      expect(sys.outcomes[0]!.undo).toMatchObject({ userId: s.leaverId, groupId: s.groupId });
      // Re-read from the recorder's workspace, not from tenure's account of it.
      expect(slack.user(s.leaverId)).toMatchObject({ deleted: true, sessions: 0 });
      expect(slack.userGroup(s.groupId)!.users).toEqual([s.managerId]);

      const undo = await eventually('the undo to be accepted', async () => {
        const res = await act(org, 'undo', { reason: 'rehired' });
        return res.statusCode === 200 ? res : undefined;
      });
      expect(undo.statusCode).toBe(200);
      const undone = await waitForStatus(org, ['undone']);
      expect(undone.steps.find((x) => x.name === 'undo_window')!.detail).toMatch(/Slack[^;]*2 undone/);
    }, worker(600_000));
    // The account is active again and back in the group the interrupted attempt took it out of.
    expect(slack.user(s.leaverId)).toMatchObject({ deleted: false });
    expect([...slack.userGroup(s.groupId)!.users].sort()).toEqual([s.leaverId, s.managerId].sort());
  });

  it('an immediate lockout deactivates the Slack account before approval; an undo after completion gives the account back first, then the user group', async () => {
    const org = await seedOrg(ctx.models);
    const s = seedSlack(org);
    await withWorker(ctx, async () => {
      const res = await app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user.email}/offboarding`, headers: org.manager.auth, payload: { reason: 'terminated', immediateLockout: true } });
      expect(res.statusCode).toBe(202);
      const waiting = await waitForStatus(org, ['awaiting_approval']);
      // Locked out of Slack while the approval is pending; the group membership waits for it.
      expect(slack.user(s.leaverId)).toMatchObject({ deleted: true, sessions: 0 });
      expect(slack.userGroup(s.groupId)!.users).toContain(s.leaverId);
      expect(waiting.steps.find((x) => x.name === 'lockout')!.detail).toMatch(/Slack[^;]*locked out \(2 done/);

      expect((await act(org, 'approve', { planVersion: waiting.plan!.version })).statusCode).toBe(200);
      const done = await waitForStatus(org, ['completed', 'completed_with_access_left_behind']);
      expect(done.status).toBe('completed');
      expect(slack.userGroup(s.groupId)!.users).toEqual([s.managerId]);
      const undo = await eventually('the undo to be accepted', async () => {
        const r = await act(org, 'undo', { reason: 'rehired' });
        return r.statusCode === 200 ? r : undefined;
      });
      expect(undo.statusCode).toBe(200);
      const undone = await waitForStatus(org, ['undone']);
      // Slack takes no deactivated member into a group: the reactivation has to come first.
      expect(undone.steps.find((x) => x.name === 'undo_window')!.detail).not.toMatch(/failed|invalid_users/);
    }, worker(600_000));
    expect(slack.user(s.leaverId)).toMatchObject({ deleted: false });
    expect([...slack.userGroup(s.groupId)!.users].sort()).toEqual([s.leaverId, s.managerId].sort());
  });

  it('a deactivation Slack refuses ends completed_with_access_left_behind naming Slack; a retry once it accepts completes', async () => {
    const org = await seedOrg(ctx.models);
    const s = seedSlack(org);
    await withWorker(ctx, async () => {
      await start(org);
      const waiting = await waitForStatus(org, ['awaiting_approval']);
      slack.failNext('scim.DELETE', { status: 400 }, 1_000);
      try {
        expect((await act(org, 'approve', { planVersion: waiting.plan!.version })).statusCode).toBe(200);
        const left = await waitForStatus(org, ['completed', 'completed_with_access_left_behind']);
        expect(left.status).toBe('completed_with_access_left_behind');
        const check = left.verification!.systems!.find((x) => x.system === 'slack')!;
        expect(check.clean).toBe(false);
        expect(check.remaining.join('\n')).toMatch(/account leaver-.* \(active\)/);
        expect(slack.user(s.leaverId)!.deleted).toBeFalsy();
      } finally {
        slack.failNext('scim.DELETE', { status: 400 }, 0);
      }
      const retried = await act(org, 'retry-systems');
      expect(retried.statusCode).toBe(200);
      expect(retried.json()).toMatchObject({ status: 'completed' });
    }, worker());
    expect(slack.user(s.leaverId)).toMatchObject({ deleted: true });
  });
});

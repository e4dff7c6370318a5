/**
 * The real Bolt app over HTTP with requests signed by Slack's scheme; Slack's Web API is a local
 * recorder. Usage errors, authorization refusals and signature checks of every command.
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context';
import { signSlackRequest } from '../helpers/slack-api';
import { SIGNING_SECRET, startSlackHarness, type SlackHarness } from '../helpers/slack-app';
import { createClient, withWorker } from '../helpers/temporal';

let ctx: TestContext;
let temporal: Client;
let slack: SlackHarness;

const person = (...args: Parameters<SlackHarness['person']>) => slack.person(...args);

async function refusalsAudited(): Promise<number> {
  return ctx.models.AuditEvent.countDocuments({ action: 'slack.refused' });
}

beforeAll(async () => {
  ctx = await createTestContext('slackcmd');
  temporal = await createClient(ctx);
  slack = await startSlackHarness(ctx, temporal);
  await person('admin', 'Administrators');
  const manager = await person('manager', 'Users');
  await person('leaver', 'Users', { managerId: manager.user._id });
  await person('stranger', 'Users');
  await person('auditor', 'Auditors');
  await person('gone', 'Users', { status: 'deactivated' });
});

afterAll(async () => {
  await slack?.close();
  await temporal?.connection.close();
  await ctx?.close();
});

describe('request verification', () => {
  it('refuses a bad signature with 401 and runs nothing', async () => {
    const body = new URLSearchParams({ command: '/lifecycle', text: 'leaver@example.com', user_id: 'UADMIN', response_url: slack.recorder.responseUrl }).toString();
    const headers = signSlackRequest('not-the-secret', body);
    const res = await slack.post(body, headers);
    expect(res.status).toBe(401);
    expect(slack.recorder.callsTo('users.info').filter((c) => c.args.user === 'UADMIN')).toHaveLength(0);
  });

  it('refuses a timestamp older than five minutes with 401', async () => {
    const body = new URLSearchParams({ command: '/lifecycle', text: 'leaver@example.com', user_id: 'UADMIN', response_url: slack.recorder.responseUrl }).toString();
    const res = await slack.post(body, signSlackRequest(SIGNING_SECRET, body, Math.floor(Date.now() / 1000) - 6 * 60));
    expect(res.status).toBe(401);
  });

  it('refuses a request without signature headers', async () => {
    const res = await slack.post('command=%2Flifecycle&text=x', {});
    expect(res.status).toBe(401);
  });
});

describe('usage errors answer at once with the correct form', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['/offboard', '', /Say who is leaving[\s\S]*Usage: `\/offboard @user\|email \[on YYYY-MM-DD\] \[reason\]`/],
    ['/offboard', 'not-an-email', /"not-an-email" is neither a @mention nor an email address/],
    ['/offboard', 'leaver@example.com on 2026-13-45', /"2026-13-45" is not a date in the form YYYY-MM-DD/],
    ['/offboard', 'leaver@example.com on 2001-01-01', /2001-01-01 is in the past/],
    ['/onboard', '', /Say whom to invite[\s\S]*Usage: `\/onboard email \[role\]/],
    ['/onboard', 'nobody', /"nobody" is not an email address/],
    ['/onboard', 'new@example.com admin', /"admin" is not a role; roles are spelled Administrators/],
    ['/reactivate', '', /Say whom you mean[\s\S]*Usage: `\/reactivate email`/],
    ['/reactivate', 'a@example.com b@example.com', /Give exactly one email address/],
    ['/lifecycle', '<@U123> extra', /Give exactly one email address[\s\S]*Usage: `\/lifecycle email`/],
  ];
  for (const [command, text, expected] of cases) {
    it(`${command} "${text}"`, async () => {
      const res = await slack.command(command, text, slack.people.admin!.slackId);
      expect(res.status).toBe(200);
      expect(res.body.response_type).toBe('ephemeral');
      expect(res.body.text).toMatch(expected);
    });
  }
});

describe('authorization refusals are ephemeral and audited', () => {
  async function refused(command: string, text: string, who: string, expected: RegExp) {
    slack.responses();
    const before = await refusalsAudited();
    const res = await slack.command(command, text, slack.people[who]!.slackId);
    expect(res.status).toBe(200);
    const answer = await slack.nextResponse();
    expect(answer).toMatch(expected);
    expect(await refusalsAudited()).toBe(before + 1);
    const event = await ctx.models.AuditEvent.findOne({ action: 'slack.refused' }).sort({ at: -1 }).lean();
    expect(event?.details).toMatchObject({ slackUserId: slack.people[who]!.slackId, attempted: command.slice(1) });
  }

  it('/offboard by someone who is neither an administrator nor the manager', () =>
    refused('/offboard', 'leaver@example.com', 'stranger', /Only administrators or leaver User's manager may start their offboarding/));
  it('/offboard of oneself', () => refused('/offboard', 'leaver@example.com', 'leaver', /cannot start your own offboarding/));
  it('/offboard by a Slack user with no tenure account', async () => {
    slack.recorder.addUser({ id: 'UNOBODY', email: 'nobody@elsewhere.test' });
    slack.people.nobody = { ...slack.people.stranger!, slackId: 'UNOBODY' };
    await refused('/offboard', 'leaver@example.com', 'nobody', /No tenure account has your email address \(nobody@elsewhere\.test\)/);
  });
  it('/onboard by a non-administrator', () => refused('/onboard', 'new@example.com', 'manager', /Only administrators may invite users/));
  it('/reactivate by a non-administrator', () => refused('/reactivate', 'gone@example.com', 'auditor', /Only administrators may reactivate users/));
  it('/lifecycle of someone a plain user may not see', () => refused('/lifecycle', 'leaver@example.com', 'stranger', /Your role \(Users\) may not see leaver@example\.com/));
  it('/offboard by a deactivated account', async () => {
    await refused('/offboard', 'leaver@example.com', 'gone', /is deactivated/);
  });
});

describe('commands that succeed without a workflow', () => {
  it('/lifecycle shows an auditor the account state', async () => {
    slack.responses();
    await slack.command('/lifecycle', 'leaver@example.com', slack.people.auditor!.slackId);
    const answer = await slack.nextResponse();
    expect(answer).toMatch(/\*leaver User\* \(leaver@example\.com\) is \*active\*, role Users\./);
  });

  it('/lifecycle lets the manager see their report', async () => {
    slack.responses();
    await slack.command('/lifecycle', 'leaver@example.com', slack.people.manager!.slackId);
    const answer = await slack.nextResponse();
    expect(answer).toMatch(/is \*active\*/);
  });

  it('/reactivate by an administrator reactivates at once', async () => {
    slack.responses();
    const answer = await withWorker(ctx, async () => {
      await slack.command('/reactivate', 'gone@example.com', slack.people.admin!.slackId);
      return slack.nextResponse();
    });
    expect(answer).toMatch(/gone@example\.com is active again/);
    expect(await ctx.models.User.countDocuments({ email: 'gone@example.com', status: 'active' })).toBe(1);
  });

  it('retries a Web API call that Slack rate-limits, after Retry-After', async () => {
    const before = slack.recorder.callsTo('users.info').length;
    slack.recorder.rateLimitNext('users.info', 1, 1);
    slack.responses();
    await slack.command('/lifecycle', 'leaver@example.com', slack.people.admin!.slackId);
    const answer = await slack.nextResponse();
    expect(answer).toMatch(/is \*active\*/);
    const calls = slack.recorder.callsTo('users.info').slice(before);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(900);
  });
});

/** /onboard from Slack into the real onboarding workflow: the invitation reaches a real SMTP server. */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORG_SETTINGS_ID } from '../../src/db/models/org-settings';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { startSlackHarness, type SlackHarness } from '../helpers/slack-app';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createClient, withWorker } from '../helpers/temporal';
import { seedUser } from '../helpers/users';

let ctx: TestContext;
let temporal: Client;
let slack: SlackHarness;
let smtp: TestSmtpServer;

async function answer(): Promise<string> {
  const text = await slack.nextResponse();
  return text!;
}

beforeAll(async () => {
  ctx = await createTestContext('slackonboard');
  temporal = await createClient(ctx);
  slack = await startSlackHarness(ctx, temporal);
  smtp = await startSmtpServer();
  const admin = await seedUser(ctx.models, { email: 'admin@example.com', siteRole: 'Administrators', firstName: 'Ada' });
  slack.recorder.addUser({ id: 'UADMIN', email: admin.user.email });
  await ctx.models.Group.create({ name: 'platform' });
  await ctx.models.OrgSettings.create({ _id: ORG_SETTINGS_ID, domain: 'example.com', plan: 'Enterprise' });
});

afterAll(async () => {
  await slack?.close();
  await smtp?.close();
  await temporal?.connection.close();
  await ctx?.close();
});

describe('/onboard', () => {
  it('invites with role and groups, emails the link, and posts a progress message', async () => {
    await withWorker(
      ctx,
      async () => {
        slack.responses();
        await slack.command('/onboard', 'New.Person@example.com PowerUsers platform', 'UADMIN', 'C0ONBOARD');
        expect(await slack.nextResponse()).toMatch(/Invitation to new\.person@example\.com is on its way \(role PowerUsers\)/);
        const user = await ctx.models.User.findOne({ email: 'new.person@example.com' }).lean();
        expect(user).toMatchObject({ status: 'pending', siteRole: 'PowerUsers' });
        const group = await ctx.models.Group.findOne({ name: 'platform' }).lean();
        expect(user!.groups.map(String)).toEqual([String(group!._id)]);
        const mail = await eventually('the invitation email', async () => smtp.to('new.person@example.com')[0]);
        expect(mail.body).toMatch(/\/invitations\/[A-Za-z0-9_-]+\/accept/);
        expect(slack.recorder.callsTo('chat.postMessage').some((c) => c.args.channel === 'C0ONBOARD' && /Onboarding of new\.person@example\.com/.test(c.args.text))).toBe(true);

        // The same command again joins the running process and sends no second email.
        await slack.command('/onboard', 'new.person@example.com', 'UADMIN', 'C0ONBOARD');
        expect(await slack.nextResponse()).toMatch(/already exists/);
        expect(smtp.to('new.person@example.com')).toHaveLength(1);
      },
      { smtpUrl: smtp.url },
    );
  });

  it('asks for confirmation before inviting outside the organization domain, and creates nothing', async () => {
    slack.responses();
    await slack.command('/onboard', 'contractor@elsewhere.org', 'UADMIN');
    expect(await slack.nextResponse()).toMatch(/outside the organization's email domain\. Add `--outside-domain` to invite them anyway/);
    expect(await ctx.models.User.countDocuments({ email: 'contractor@elsewhere.org' })).toBe(0);
  });

  it('names unknown groups and creates nothing', async () => {
    slack.responses();
    await slack.command('/onboard', 'someone@example.com Users nosuchgroup', 'UADMIN');
    expect(await slack.nextResponse()).toMatch(/Unknown group: nosuchgroup/);
    expect(await ctx.models.User.countDocuments({ email: 'someone@example.com' })).toBe(0);
  });

  it('refuses an unknown option with the usage', async () => {
    const res = await slack.command('/onboard', 'someone@example.com --force', 'UADMIN');
    expect(res.body.text).toMatch(/"--force" is not an option[\s\S]*Usage: `\/onboard email \[role\] \[group…\] \[--outside-domain\]/);
  });
});

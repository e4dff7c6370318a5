/**
 * Who is asked to answer an offboarding, by the one rule the approval mails and Slack share: the
 * leaver's active manager, else the active Administrators, the Administrators too once escalated,
 * never the leaver. Mails through the real activity to a real SMTP server.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offboardingActivities } from '../../activities/offboarding';
import { approversOf } from '../../src/services/approvers';
import { createTestContext, type TestContext } from '../helpers/context';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { closeDeps, createActivityDeps } from '../helpers/temporal';
import { seedUser } from '../helpers/users';

let ctx: TestContext;
let smtp: TestSmtpServer;
let deps: ReturnType<typeof createActivityDeps>;
let acts: ReturnType<typeof offboardingActivities>;
const env = new MockActivityEnvironment();

beforeAll(async () => {
  ctx = await createTestContext('offapprovers');
  smtp = await startSmtpServer();
  deps = createActivityDeps(ctx, { smtpUrl: smtp.url });
  acts = offboardingActivities(deps);
});

afterAll(async () => {
  await closeDeps(deps);
  await smtp?.close();
  await ctx?.close();
});

const email = (name: string) => `${name}-${randomUUID().slice(0, 6)}@example.com`;

async function mailTo(leaverId: string, to: 'approvers' | 'admins' | 'requester_and_manager', requesterId?: string): Promise<string[]> {
  const ref = { userId: leaverId, workflowId: `offboarding:${leaverId}`, runId: randomUUID() };
  const { sentTo } = (await env.run(acts.sendOffboardingMail, { ...ref, kind: 'approval_request' as const, to, requesterId })) as { sentTo: string[] };
  return sentTo;
}

describe('the approvers of an offboarding', () => {
  it('are the active manager alone, and the Administrators too once escalated', async () => {
    const admin = await seedUser(ctx.models, { email: email('admin'), siteRole: 'Administrators' });
    const manager = await seedUser(ctx.models, { email: email('manager') });
    const leaver = await seedUser(ctx.models, { email: email('leaver'), managerId: manager.user._id });

    expect(await mailTo(String(leaver.user._id), 'approvers')).toEqual([manager.user.email]);
    expect(smtp.to(manager.user.email)).toHaveLength(1);
    const escalated = (await approversOf(ctx.models, leaver.user, { escalated: true })).map((u) => u.email);
    expect(escalated[0]).toBe(manager.user.email);
    expect(escalated).toContain(admin.user.email);
    expect(escalated).not.toContain(leaver.user.email);
    expect(await mailTo(String(leaver.user._id), 'admins')).toContain(admin.user.email);
  });

  it('are the active Administrators when the manager is inactive, and never the leaver, not even an Administrator who is their own manager', async () => {
    const admin = await seedUser(ctx.models, { email: email('admin'), siteRole: 'Administrators' });
    const gone = await seedUser(ctx.models, { email: email('gone'), status: 'deactivated' });
    const leaver = await seedUser(ctx.models, { email: email('leaver'), managerId: gone.user._id });
    const asked = await mailTo(String(leaver.user._id), 'approvers');
    expect(asked).toContain(admin.user.email);
    expect(asked).not.toContain(gone.user.email);

    const self = await seedUser(ctx.models, { email: email('selfadmin'), siteRole: 'Administrators' });
    await ctx.models.User.updateOne({ _id: self.user._id }, { $set: { managerId: self.user._id } });
    for (const to of ['approvers', 'admins'] as const) {
      const sent = await mailTo(String(self.user._id), to);
      expect(sent).toContain(admin.user.email);
      expect(sent).not.toContain(self.user.email);
    }
    expect(smtp.to(self.user.email)).toHaveLength(0);
    const escalated = (await approversOf(ctx.models, { ...self.user, managerId: self.user._id }, { escalated: true })).map((u) => u.email);
    expect(escalated).not.toContain(self.user.email);
  });

  it('are told with the requester when the process ends: the requester and the active manager', async () => {
    const requester = await seedUser(ctx.models, { email: email('requester'), siteRole: 'Administrators' });
    const manager = await seedUser(ctx.models, { email: email('manager') });
    const leaver = await seedUser(ctx.models, { email: email('leaver'), managerId: manager.user._id });
    expect((await mailTo(String(leaver.user._id), 'requester_and_manager', String(requester.user._id))).sort()).toEqual([requester.user.email, manager.user.email].sort());
    await ctx.models.User.updateOne({ _id: manager.user._id }, { $set: { status: 'deactivated' } });
    expect(await mailTo(String(leaver.user._id), 'requester_and_manager', String(requester.user._id))).toEqual([requester.user.email]);
  });
});

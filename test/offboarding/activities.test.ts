/**
 * The offboarding activities called twice, as a retry after a crash would: the same result,
 * recorded once. Run in the SDK's activity context against the real store.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offboardingActivities } from '../../activities/offboarding';
import { ORG_SETTINGS_ID } from '../../src/db/models/org-settings';
import { ErrorType } from '../../workflows/errors';
import { createTestContext, type TestContext } from '../helpers/context';
import { closeDeps, createActivityDeps } from '../helpers/temporal';
import { seedOrg } from './fixtures';

let ctx: TestContext;
let deps: ReturnType<typeof createActivityDeps>;
let acts: ReturnType<typeof offboardingActivities>;
const env = new MockActivityEnvironment();

beforeAll(async () => {
  ctx = await createTestContext('offacts');
  deps = createActivityDeps(ctx);
  acts = offboardingActivities(deps);
});

afterAll(async () => {
  await closeDeps(deps);
  await ctx?.close();
});

describe('offboarding activities', () => {
  it('a retried transfer batch changes nothing and records each transfer once', async () => {
    const org = await seedOrg(ctx.models);
    const ref = { userId: String(org.leaver.user._id), workflowId: `offboarding:${org.leaver.user._id}`, runId: 'run-1' };
    const items = org.resources.map((r) => ({ resourceId: String(r._id), toUserId: String(org.manager.user._id) }));
    const first = (await env.run(acts.transferResources, { ...ref, items })) as { transferred: string[] };
    expect(first.transferred).toHaveLength(3);
    const again = await env.run(acts.transferResources, { ...ref, items });
    expect(again).toEqual({ transferred: [], skipped: items.map((i) => i.resourceId), failed: [] });
    for (const r of await ctx.models.Resource.find({ _id: { $in: org.resources.map((x) => x._id) } }).lean()) {
      expect(String(r.ownerId)).toBe(String(org.manager.user._id));
      expect(r.transfers).toHaveLength(1);
    }
    expect(await ctx.models.AuditEvent.countDocuments({ action: 'resource.transferred', processId: ref.workflowId })).toBe(3);
  });

  it('an inactive new owner is a permanent, typed failure', async () => {
    const org = await seedOrg(ctx.models, { resources: 1 });
    await ctx.models.User.updateOne({ _id: org.spare.user._id }, { $set: { status: 'deactivated' } });
    const ref = { userId: String(org.leaver.user._id), workflowId: `offboarding:${org.leaver.user._id}`, runId: 'run-1' };
    const err = await env.run(acts.transferResources, { ...ref, items: [{ resourceId: String(org.resources[0]!._id), toUserId: String(org.spare.user._id) }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe(ErrorType.NewOwnerInactive);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect(await ctx.models.Resource.countDocuments({ ownerId: org.leaver.user._id })).toBe(1);
  });

  it('undoes exactly its own lockout, also when run twice', async () => {
    const org = await seedOrg(ctx.models, { resources: 0 });
    const ref = { userId: String(org.leaver.user._id), workflowId: `offboarding:${org.leaver.user._id}`, runId: 'run-a' };
    expect(await env.run(acts.lockOutUser, ref)).toEqual({ sessionsEnded: 1, tokensRevoked: 2 });
    expect(await env.run(acts.lockOutUser, ref)).toEqual({ sessionsEnded: 0, tokensRevoked: 0 });
    // Another run's undo restores nothing of this run's lockout.
    expect(await env.run(acts.undoLockout, { ...ref, runId: 'run-b' })).toEqual({ tokensRestored: 0 });
    expect(await env.run(acts.undoLockout, ref)).toEqual({ tokensRestored: 2 });
    expect(await env.run(acts.undoLockout, ref)).toEqual({ tokensRestored: 0 });
    expect(await ctx.models.AccessToken.countDocuments({ userId: org.leaver.user._id, revokedAt: null })).toBe(2);
    expect(await ctx.models.AuditEvent.countDocuments({ action: 'offboarding.locked_out', processId: ref.workflowId })).toBe(1);
  });

  it('never deletes an account that is active again, and reports a missing user as gone', async () => {
    const org = await seedOrg(ctx.models, { resources: 0 });
    const ref = { userId: String(org.leaver.user._id), workflowId: `offboarding:${org.leaver.user._id}`, runId: 'run-1' };
    expect(await env.run(acts.deleteAfterRetention, ref)).toEqual({ deleted: false, reason: 'the account is active' });
    expect(await ctx.models.User.exists({ _id: org.leaver.user._id })).toBeTruthy();
    const gone = await env.run(acts.planOffboarding, { userId: '0123456789abcdef01234567', workflowId: 'offboarding:x' }).catch((e: unknown) => e);
    expect((gone as ApplicationFailure).type).toBe(ErrorType.UserGone);
    const verification = await env.run(acts.verifyOffboarding, { userId: ref.userId });
    expect(verification).toMatchObject({ clean: false, status: 'active', activeSessions: 1, liveTokens: 2 });
  });

  it("takes the retention period from the organization's settings in milliseconds, and reads the days of older settings documents", async () => {
    const org = await seedOrg(ctx.models, { resources: 0 });
    // Written as raw documents, as older versions left them (the model knows only the current fields).
    const settings = ctx.models.OrgSettings.db.db!.collection<{ _id: string; offboarding: Record<string, unknown> }>(ctx.models.OrgSettings.collection.collectionName);
    let run = 0;
    const retention = async (offboarding: Record<string, unknown>) => {
      await settings.replaceOne({ _id: ORG_SETTINGS_ID }, { offboarding: { approvalRequired: false, ...offboarding } }, { upsert: true });
      const { policy } = (await env.run(acts.planOffboarding, { userId: String(org.leaver.user._id), workflowId: `offboarding:${org.leaver.user._id}`, runId: `run-${++run}` })) as Awaited<ReturnType<typeof acts.planOffboarding>>;
      return policy.retentionMs;
    };
    expect(await retention({ retentionMs: 90_000 })).toBe(90_000);
    expect(await retention({ retentionMs: null })).toBeNull();
    // Written before the setting was kept in milliseconds: whole days.
    expect(await retention({ retentionDays: 30 })).toBe(30 * 86_400_000);
    expect(await retention({ retentionDays: null })).toBeNull();
    // Once the setting in milliseconds is written, it alone counts (also when it keeps accounts forever).
    expect(await retention({ retentionDays: 30, retentionMs: 5_000 })).toBe(5_000);
    expect(await retention({ retentionDays: 30, retentionMs: null })).toBeNull();
    expect(await retention({})).toBeNull();
  });
});

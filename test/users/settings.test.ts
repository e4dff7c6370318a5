/**
 * The organization's settings over the API: readers by the role matrix, changes by Administrators
 * only, validated (nothing half-applied), audited with old and new values, and a plan below the
 * seats in use refused unless confirmed, then said plainly. The settings take effect on the next
 * invitation. Real store, real Temporal.
 */
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { createTestContext, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { createClient } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';

let ctx: TestContext;
let client: Client;
let app: App;
let admin: SeededUser;

const DAY = 86_400_000;

beforeAll(async () => {
  ctx = await createTestContext('settings');
  client = await createClient(ctx);
  app = await createTestApp(ctx, client);
  admin = await seedUser(ctx.models, { siteRole: 'Administrators' });
});

afterAll(async () => {
  await app?.close();
  await client?.connection.close();
  await ctx?.close();
});

beforeEach(async () => {
  await ctx.models.OrgSettings.deleteMany({});
});

const patch = (payload: unknown, auth = admin.auth) => app.inject({ method: 'PATCH', url: '/v1/settings', headers: auth, payload: payload as object });
const settingsNow = async () => (await app.inject({ method: 'GET', url: '/v1/settings', headers: admin.auth })).json();

describe('settings', () => {
  it('Administrators, Security Managers and Auditors read them; other roles get 403 and a caller without a token 401', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/settings', headers: admin.auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      settings: { plan: 'Enterprise', domain: '', invitationResends: 3, offboarding: { approvalRequired: true, retentionMs: null } },
      usage: { plan: 'Enterprise', limit: null, seatsInUse: expect.any(Number) },
      notices: [],
    });
    for (const siteRole of ['SecurityManagers', 'Auditors'] as const) {
      const reader = await seedUser(ctx.models, { siteRole });
      expect((await app.inject({ method: 'GET', url: '/v1/settings', headers: reader.auth })).statusCode).toBe(200);
      const refused = await patch({ name: 'Taken over' }, reader.auth);
      expect(refused.statusCode).toBe(403);
    }
    const user = await seedUser(ctx.models, { siteRole: 'Users' });
    expect((await app.inject({ method: 'GET', url: '/v1/settings', headers: user.auth })).statusCode).toBe(403);
    // Authentication before validation: a bad body without a token is a 401.
    expect((await patch({ plan: 'Free' }, {} as typeof admin.auth)).statusCode).toBe(401);
    expect((await settingsNow()).settings.name).not.toBe('Taken over');
  });

  it('changes only the fields given, audits each change with its old and new value, and a repeat changes and audits nothing', async () => {
    const before = await ctx.models.AuditEvent.countDocuments({ action: 'settings.changed' });
    const res = await patch({ name: 'Acme', domain: ' Example.COM ', invitationLifetimeMs: 2 * DAY, offboarding: { retentionMs: 30 * DAY, approvalRequired: false } });
    expect(res.statusCode).toBe(200);
    expect(res.json().settings).toMatchObject({ name: 'Acme', domain: 'example.com', invitationLifetimeMs: 2 * DAY, invitationResends: 3, offboarding: { retentionMs: 30 * DAY, approvalRequired: false, immediateLockoutOnHrTermination: true } });
    const audit = await ctx.models.AuditEvent.findOne({ action: 'settings.changed' }).sort({ at: -1 }).lean();
    expect(audit).toMatchObject({ actorId: admin.user._id });
    expect((audit!.details as { changes: Record<string, unknown> }).changes).toEqual({
      name: { from: 'Example Inc.', to: 'Acme' },
      domain: { from: '', to: 'example.com' },
      invitationLifetimeMs: { from: 7 * DAY, to: 2 * DAY },
      'offboarding.retentionMs': { from: null, to: 30 * DAY },
      'offboarding.approvalRequired': { from: true, to: false },
    });
    const again = await patch({ name: 'Acme', domain: 'example.com' });
    expect(again.statusCode).toBe(200);
    expect(await ctx.models.AuditEvent.countDocuments({ action: 'settings.changed' })).toBe(before + 1);
  });

  it('takes effect on the next invitation: an invitee outside the new domain needs the confirmation', async () => {
    expect((await patch({ domain: 'example.org' })).statusCode).toBe(200);
    const outside = await app.inject({ method: 'POST', url: '/v1/users', headers: admin.auth, payload: { email: `someone-${randomUUID().slice(0, 6)}@elsewhere.test` } });
    expect(outside.statusCode).toBe(422);
    expect(outside.json().error.code).toBe('domain_mismatch');
  });

  it('refuses bad values with 400 or 422 and changes nothing, not even the valid fields sent with them', async () => {
    const inactive = await seedUser(ctx.models, { status: 'deactivated' });
    const cases: Array<[unknown, number]> = [
      [{ name: 'Renamed', domain: 'not a domain' }, 400],
      [{ name: 'Renamed', domain: 'me@example.com' }, 400],
      [{ name: 'Renamed', invitationLifetimeMs: 1000 }, 400],
      [{ name: 'Renamed', invitationResends: -1 }, 400],
      [{ name: 'Renamed', plan: 'Free' }, 400],
      [{ name: 'Renamed', offboarding: { retentionMs: 5 } }, 400],
      [{ name: 'Renamed', offboarding: { defaultNewOwnerId: 'nope' } }, 400],
      [{ name: 'Renamed', unknownSetting: true }, 400],
      [{ name: '\u0000' }, 400],
      [{ name: 'Renamed', offboarding: { defaultNewOwnerId: String(inactive.user._id) } }, 422],
    ];
    for (const [body, status] of cases) {
      const res = await patch(body);
      expect({ body, status: res.statusCode }).toEqual({ body, status });
      expect(res.json().error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
    expect((await settingsNow()).settings.name).toBe('Example Inc.');
    // An active default owner is accepted, and null clears it.
    const owner = await seedUser(ctx.models);
    expect((await patch({ offboarding: { defaultNewOwnerId: String(owner.user._id) } })).json().settings.offboarding.defaultNewOwnerId).toBe(String(owner.user._id));
    expect((await patch({ offboarding: { defaultNewOwnerId: null } })).json().settings.offboarding.defaultNewOwnerId).toBeNull();
  });

  it('a plan below the seats in use is refused with the numbers, and once confirmed nobody loses access but nobody more gets in', async () => {
    const seats = await ctx.models.User.countDocuments({ status: { $in: ['active', 'pending'] } });
    for (let i = seats; i < 7; i++) await seedUser(ctx.models);
    const used = await ctx.models.User.countDocuments({ status: { $in: ['active', 'pending'] } });

    const refused = await patch({ plan: 'Starter', name: 'Small' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'plan_below_usage', details: { plan: 'Starter', limit: 5, seatsInUse: used, over: used - 5 } });
    expect(refused.json().error.message).toContain('confirmOverLimit');
    expect((await settingsNow()).settings).toMatchObject({ plan: 'Enterprise', name: 'Example Inc.' });

    const confirmed = await patch({ plan: 'Starter', confirmOverLimit: true });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toMatchObject({ settings: { plan: 'Starter' }, usage: { limit: 5, seatsInUse: used } });
    expect(confirmed.json().notices[0]).toMatch(new RegExp(`${used - 5} seats? above the Starter plan's limit of 5.*Nobody loses access`));
    const audit = await ctx.models.AuditEvent.findOne({ action: 'settings.changed' }).sort({ at: -1 }).lean();
    expect((audit!.details as { notices?: string[] }).notices).toHaveLength(1);

    // Everyone still gets in; nobody new does.
    expect((await app.inject({ method: 'GET', url: '/v1/settings', headers: admin.auth })).statusCode).toBe(200);
    const invite = await app.inject({ method: 'POST', url: '/v1/users', headers: admin.auth, payload: { email: `late-${randomUUID().slice(0, 6)}@example.com` } });
    expect(invite.statusCode).toBe(422);
    expect(invite.json().error.code).toBe('plan_limit_reached');
  });

  it('reads a retention stored in days by an older version, and a change stores it in milliseconds only', async () => {
    await ctx.models.OrgSettings.collection.insertOne({ _id: 'org', name: 'Legacy', plan: 'Enterprise', domain: '', invitationLifetimeMs: 7 * DAY, invitationResends: 3, offboarding: { approvalRequired: true, retentionDays: 30 } } as never);
    expect((await settingsNow()).settings.offboarding.retentionMs).toBe(30 * DAY);
    expect((await patch({ offboarding: { retentionMs: 60 * DAY } })).statusCode).toBe(200);
    const stored = await ctx.models.OrgSettings.collection.findOne({ _id: 'org' as never });
    expect(stored!.offboarding).toMatchObject({ retentionMs: 60 * DAY });
    expect(stored!.offboarding).not.toHaveProperty('retentionDays');
  });
});

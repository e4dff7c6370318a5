/**
 * SCIM provisioning drives the real processes on the real Temporal server, the same way as the
 * API: POST invites (the pending user at once, then the onboarding), PATCH active=false requests
 * the offboarding (immediate lockout), active=true a reactivation or a cancel, DELETE the
 * offboarding and the user leaves SCIM.
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { verifyAccessToken } from '../../src/security/access-tokens';
import { offboardingWorkflowId } from '../../src/processes/offboarding';
import { onboardingWorkflowId } from '../../src/processes/onboarding';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createClient, withWorker } from '../helpers/temporal';
import { seedUser } from '../helpers/users';
import { ERROR_SCHEMA, PATCH_SCHEMA, SCIM_TOKEN, scimRequest, USER_SCHEMA } from './scim-kit';

let ctx: TestContext;
let client: Client;
let app: App;
let smtp: TestSmtpServer;

beforeAll(async () => {
  ctx = await createTestContext('scimprov');
  client = await createClient(ctx);
  smtp = await startSmtpServer();
  app = await createTestApp(ctx, client, { SCIM_BEARER_TOKEN: SCIM_TOKEN });
  await seedUser(ctx.models, { email: 'admin@example.com', siteRole: 'Administrators' });
});

afterAll(async () => {
  await app?.close();
  await smtp?.close();
  await client?.connection.close();
  await ctx?.close();
});

function startedInput(history: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>) {
  return JSON.parse(Buffer.from(history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!).toString('utf8'));
}

const run = <T>(fn: () => Promise<T>) => withWorker(ctx, fn, { smtpUrl: smtp.url });

describe('POST /Users', () => {
  it('creates the user through the onboarding (201, Location, invitation sent) and refuses a second one with 409 uniqueness', async () => {
    await run(async () => {
      const body = { schemas: [USER_SCHEMA], userName: 'Okta.Person@example.com', externalId: '00u1okta', name: { givenName: 'Okta', familyName: 'Person' }, emails: [{ value: 'okta.person@example.com', type: 'work', primary: true }], active: true };
      const res = await scimRequest(app, 'POST', '/Users', body);
      expect(res.statusCode).toBe(201);
      const created = res.json();
      // Provisioned and invited, not yet active: access starts when the invitation is accepted.
      expect(created).toMatchObject({ userName: 'okta.person@example.com', externalId: '00u1okta', active: false, name: { givenName: 'Okta', familyName: 'Person' } });
      expect(res.headers.location).toBe(created.meta.location);
      expect(await ctx.models.User.findById(created.id).lean()).toMatchObject({ status: 'pending', email: 'okta.person@example.com' });
      expect((await client.workflow.getHandle(onboardingWorkflowId('okta.person@example.com')).describe()).status.name).toBe('RUNNING');
      await eventually('the invitation', async () => smtp.to('okta.person@example.com').length > 0, 20_000);

      const again = await scimRequest(app, 'POST', '/Users', body);
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ schemas: [ERROR_SCHEMA], status: '409', scimType: 'uniqueness' });
      // Okta then looks the user up by userName and links it.
      const found = (await scimRequest(app, 'GET', `/Users?filter=${encodeURIComponent('userName eq "okta.person@example.com"')}`)).json();
      expect(found.Resources.map((r: { id: string }) => r.id)).toEqual([created.id]);
      await client.workflow.getHandle(onboardingWorkflowId('okta.person@example.com')).terminate('test over');
    });
  }, 60_000);

  it('refuses a body without userName, or not JSON, with 400 and creates nothing', async () => {
    const before = await ctx.models.User.countDocuments();
    const missing = await scimRequest(app, 'POST', '/Users', { schemas: [USER_SCHEMA], name: { givenName: 'No' } });
    expect(missing.json()).toMatchObject({ status: '400', scimType: 'invalidValue' });
    const notJson = await scimRequest(app, 'POST', '/Users', '<xml/>');
    expect(notJson.json()).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
    expect(await ctx.models.User.countDocuments()).toBe(before);
  });
});

describe('POST /Users goes the way of POST /v1/users (inviteUser)', () => {
  it('creates the pending user at once, before any worker runs, with the same audit entry as an API invitation', async () => {
    const admin = await seedUser(ctx.models, { siteRole: 'Administrators' });
    const [viaScim, viaApi] = ['scim.direct@example.com', 'api.direct@example.com'];
    // No worker runs: only the request itself can have created the user.
    const res = await scimRequest(app, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: viaScim, title: 'Engineer', externalId: 'ext-direct', name: { givenName: 'Sam', familyName: 'Direct' } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ userName: viaScim, title: 'Engineer', externalId: 'ext-direct', active: false, name: { givenName: 'Sam', familyName: 'Direct' } });
    expect(await ctx.models.User.findOne({ email: viaScim }).lean()).toMatchObject({ status: 'pending', title: 'Engineer', firstName: 'Sam', lastName: 'Direct' });
    const api = await app.inject({ method: 'POST', url: '/v1/users', headers: admin.auth, payload: { email: viaApi, title: 'Engineer' } });
    expect(api.statusCode).toBe(201);
    try {
      for (const email of [viaScim, viaApi]) expect((await client.workflow.getHandle(onboardingWorkflowId(email)).describe()).status.name).toBe('RUNNING');
      const [scimCreated] = await ctx.models.AuditEvent.find({ action: 'user.created', targetEmail: viaScim }).lean();
      const [apiCreated] = await ctx.models.AuditEvent.find({ action: 'user.created', targetEmail: viaApi }).lean();
      expect(scimCreated).toMatchObject({ actorType: 'scim', processId: onboardingWorkflowId(viaScim), details: apiCreated!.details });
      expect(apiCreated).toMatchObject({ actorType: 'user', processId: onboardingWorkflowId(viaApi) });
    } finally {
      for (const email of [viaScim, viaApi]) await client.workflow.getHandle(onboardingWorkflowId(email)).terminate('test over');
    }
  });

  it('refuses what the API refuses, in the same words: an address outside the domain, a full plan, a taken address', async () => {
    const admin = await seedUser(ctx.models, { siteRole: 'Administrators' });
    const both = async (email: string) => ({
      api: await app.inject({ method: 'POST', url: '/v1/users', headers: admin.auth, payload: { email } }),
      scim: await scimRequest(app, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: email }),
    });
    await ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { domain: 'example.com' } }, { upsert: true });
    try {
      const outside = await both('guest@elsewhere.org');
      expect(outside.api.json().error.code).toBe('domain_mismatch');
      expect(outside.scim.json()).toMatchObject({ status: '400', scimType: 'invalidValue', detail: outside.api.json().error.message });
    } finally {
      await ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { domain: '' } });
    }
    const taken = await both(admin.user.email);
    expect(taken.api.json().error.code).toBe('email_taken');
    expect(taken.scim.json()).toMatchObject({ status: '409', scimType: 'uniqueness', detail: taken.api.json().error.message });
    for (let i = 0; i < 5; i++) await seedUser(ctx.models);
    await ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { plan: 'Starter' } }, { upsert: true });
    try {
      const full = await both('one.too.many@example.com');
      expect(full.api.json().error.code).toBe('plan_limit_reached');
      expect(full.scim.json()).toMatchObject({ status: '400', detail: full.api.json().error.message });
    } finally {
      await ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { plan: 'Enterprise' } });
    }
    expect(await ctx.models.User.exists({ email: { $in: ['guest@elsewhere.org', 'one.too.many@example.com'] } })).toBeNull();
  });
});

describe('PATCH active', () => {
  it("Okta's replace {active:false} starts an offboarding with immediate lockout; Entra's Replace active \"True\" cancels it", async () => {
    const leaver = await seedUser(ctx.models, { email: 'okta.leaver@example.com' });
    const workflowId = offboardingWorkflowId(String(leaver.user._id));
    await run(async () => {
      const off = await scimRequest(app, 'PATCH', `/Users/${leaver.user._id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { active: false } }] });
      expect(off.statusCode).toBe(200);
      expect(off.json().active).toBe(false);
      const handle = client.workflow.getHandle(workflowId);
      expect(startedInput(await handle.fetchHistory())).toMatchObject({ source: 'scim', immediateLockout: true, requestedBy: { type: 'scim' } });
      // The same request, and audit entry, as a start through the API or Slack, the SCIM client as actor.
      const requested = await ctx.models.AuditEvent.find({ processId: workflowId, action: 'offboarding.requested' }).lean();
      expect(requested).toHaveLength(1);
      expect(requested[0]).toMatchObject({ actorType: 'scim', targetUserId: leaver.user._id, details: { source: 'scim', immediateLockout: true, reason: expect.stringMatching(/SCIM active=false/) } });
      await eventually('the lockout', async () => !(await verifyAccessToken(ctx.models, leaver.token)));
      expect((await scimRequest(app, 'GET', `/Users/${leaver.user._id}`)).json().active).toBe(false);
      // A repeated deprovisioning joins the same process.
      expect((await scimRequest(app, 'PATCH', `/Users/${leaver.user._id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] })).statusCode).toBe(200);

      const on = await scimRequest(app, 'PATCH', `/Users/${leaver.user._id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value: 'True' }] });
      expect(on.statusCode).toBe(200);
      expect(on.json().active).toBe(true);
      await eventually('the offboarding to end', async () => (await handle.describe()).status.name !== 'RUNNING', 20_000);
      // The cancel is audited as an Administrator's cancel through the API, the SCIM client as actor.
      expect(await ctx.models.AuditEvent.find({ processId: workflowId, action: 'offboarding.cancel' }).lean()).toMatchObject([{ actorType: 'scim', details: { action: 'cancel', source: 'scim' } }]);
      expect((await ctx.models.User.findById(leaver.user._id).lean())?.status).toBe('active');
      let runs = 0;
      for await (const _ of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs += 1;
      expect(runs).toBe(1);
    });
  }, 60_000);

  it('active=true reactivates a deactivated user through the reactivation process', async () => {
    const former = await seedUser(ctx.models, { email: 'came.back@example.com', status: 'deactivated' });
    await run(async () => {
      expect((await scimRequest(app, 'GET', `/Users/${former.user._id}`)).json().active).toBe(false);
      const res = await scimRequest(app, 'PATCH', `/Users/${former.user._id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: true }] });
      expect(res.statusCode).toBe(200);
      await eventually('the user to be active again', async () => (await ctx.models.User.findById(former.user._id).lean())?.status === 'active', 20_000);
      expect((await scimRequest(app, 'GET', `/Users/${former.user._id}`)).json().active).toBe(true);
      await eventually('the reactivation to complete', async () => (await client.workflow.getHandle(`reactivation:${former.user._id}`).describe()).status.name === 'COMPLETED');
    });
  }, 60_000);

  it('a PUT without active leaves a deactivated user deactivated and an active one active, starting nothing', async () => {
    const stays = await seedUser(ctx.models, { email: 'put.user@example.com' });
    const res = await scimRequest(app, 'PUT', `/Users/${stays.user._id}`, { schemas: [USER_SCHEMA], userName: 'put.user@example.com', name: { givenName: 'Put', familyName: 'User' } });
    expect(res.json()).toMatchObject({ active: true, name: { givenName: 'Put' } });
    expect(await client.workflow.getHandle(offboardingWorkflowId(String(stays.user._id))).describe().catch(() => 'none')).toBe('none');

    const away = await seedUser(ctx.models, { email: 'put.away@example.com', status: 'deactivated' });
    const again = await scimRequest(app, 'PUT', `/Users/${away.user._id}`, { schemas: [USER_SCHEMA], userName: 'put.away@example.com', name: { givenName: 'Still', familyName: 'Away' } });
    expect(again.json()).toMatchObject({ active: false, name: { givenName: 'Still' } });
    expect((await ctx.models.User.findById(away.user._id).lean())?.status).toBe('deactivated');
    expect(await client.workflow.getHandle(`reactivation:${away.user._id}`).describe().catch(() => 'none')).toBe('none');
  });
});

describe('DELETE /Users/:id', () => {
  it('starts the offboarding, answers 204, and the user is gone from SCIM', async () => {
    const leaver = await seedUser(ctx.models, { email: 'deleted.by.idp@example.com' });
    await run(async () => {
      const res = await scimRequest(app, 'DELETE', `/Users/${leaver.user._id}`);
      expect(res.statusCode).toBe(204);
      const handle = client.workflow.getHandle(offboardingWorkflowId(String(leaver.user._id)));
      expect(startedInput(await handle.fetchHistory())).toMatchObject({ source: 'scim', immediateLockout: true });
      expect((await scimRequest(app, 'GET', `/Users/${leaver.user._id}`)).statusCode).toBe(404);
      expect((await scimRequest(app, 'DELETE', `/Users/${leaver.user._id}`)).statusCode).toBe(404);
      const listed = (await scimRequest(app, 'GET', `/Users?filter=${encodeURIComponent('userName eq "deleted.by.idp@example.com"')}`)).json();
      expect(listed.totalResults).toBe(0);
      expect(await ctx.models.AuditEvent.countDocuments({ action: 'user.scim_deleted', targetUserId: leaver.user._id, actorType: 'scim' })).toBe(1);
      expect(await ctx.models.AuditEvent.find({ processId: handle.workflowId, action: 'offboarding.requested' }).lean()).toMatchObject([
        { actorType: 'scim', targetUserId: leaver.user._id, details: { source: 'scim', immediateLockout: true, reason: expect.stringMatching(/SCIM DELETE/) } },
      ]);
      await handle.terminate('test over');
    });
  }, 60_000);
});

/**
 * Access ends everywhere at once: a pending invitee who is locked out, deactivated or deleted,
 * from any way in (API, SCIM, HR), can no longer accept the emailed link, and the onboarding
 * ends; a locked-out or leaving user gets no new session, token or invitation. Real Temporal
 * worker, real SMTP, real store.
 */
import type { Client } from '@temporalio/client';
import type { Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { offboardingActivities } from '../../activities/offboarding';
import type { App } from '../../src/http/app';
import { startJobWorkers } from '../../src/jobs/workers';
import { acceptInvitation, installInvitation, newInvitationToken } from '../../src/services/invitations';
import { offboardingWorkflowId } from '../../src/processes/offboarding';
import { onboardingWorkflowId } from '../../src/processes/onboarding';
import { createSession } from '../../src/services/sessions';
import { issueTokenFor } from '../../src/services/user-admin';
import { onboardingProgressQuery } from '../../workflows/onboarding-messages';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { closeDeps, createActivityDeps, createClient, withWorker } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';
import { HR_TEST_CONFIG, hrEvent, signedGeneric } from '../hr/hr-test-kit';
import { PATCH_SCHEMA, SCIM_TOKEN, scimRequest, USER_SCHEMA } from '../scim/scim-kit';
import { invitationsTo, setInvitationPolicy, tokenIn } from './helpers';

let ctx: TestContext;
let client: Client;
let smtp: TestSmtpServer;
let app: App;
let admin: SeededUser;
let jobWorkers: Worker[];

const newEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;
const FAR_FUTURE = '2099-01-01';

beforeAll(async () => {
  ctx = await createTestContext('accessends');
  client = await createClient(ctx);
  smtp = await startSmtpServer();
  app = await createTestApp(ctx, client, { ...HR_TEST_CONFIG, SCIM_BEARER_TOKEN: SCIM_TOKEN });
  admin = await seedUser(ctx.models, { siteRole: 'Administrators', email: `admin-${randomUUID().slice(0, 6)}@example.com` });
  jobWorkers = startJobWorkers({ models: ctx.models, queue: ctx.queue, logger: ctx.logger, hr: { temporal: client, taskQueue: ctx.taskQueue, terminationLockout: true } });
});

afterAll(async () => {
  await Promise.all((jobWorkers ?? []).map((w) => w.close()));
  await app?.close();
  await smtp?.close();
  await client?.connection.close();
  await ctx?.close();
});

beforeEach(async () => {
  // A long lifetime: an onboarding that ends during a test ended because it was told, not by expiry.
  await setInvitationPolicy(ctx.models, { lifetimeMs: 10 * 60_000, resends: 2 });
});

const work = <T>(fn: () => Promise<T>) => withWorker(ctx, fn, { smtpUrl: smtp.url });
const accept = (token: string) => app.inject({ method: 'POST', url: `/v1/invitations/${token}/accept` });
const userOf = async (id: string | Types.ObjectId) => ctx.models.User.findById(id).lean();

/** Invites through the API and returns the emailed token. */
async function invite(email: string): Promise<{ userId: string; token: string }> {
  const res = await app.inject({ method: 'POST', url: '/v1/users', headers: admin.auth, payload: { email, firstName: 'Pending', lastName: 'Invitee' } });
  expect(res.statusCode, res.body).toBe(201);
  const [mail] = await eventually('the invitation email', async () => (invitationsTo(smtp.to(email)).length ? invitationsTo(smtp.to(email)) : undefined), 20_000);
  return { userId: res.json().user._id, token: tokenIn(mail!) };
}

async function emailedToken(email: string): Promise<string> {
  const [mail] = await eventually('the invitation email', async () => (invitationsTo(smtp.to(email)).length ? invitationsTo(smtp.to(email)) : undefined), 20_000);
  return tokenIn(mail!);
}

/** The onboarding ended (not by expiry: the lifetime is ten minutes) and says why. */
async function expectOnboardingEnded(email: string) {
  const handle = client.workflow.getHandle(onboardingWorkflowId(email));
  await eventually('the onboarding to end', async () => (await handle.describe()).status.name !== 'RUNNING', 15_000);
  expect((await handle.describe()).status.name).toBe('COMPLETED');
  const progress = await handle.query(onboardingProgressQuery);
  expect(progress.state).toBe('cancelled');
  expect(progress.history.at(-1)?.detail ?? '').toMatch(/access ended/);
}

async function offboardingProgress(userId: string) {
  const res = await app.inject({ method: 'GET', url: `/v1/users/${userId}/offboarding`, headers: admin.auth });
  return res.json();
}

async function lockoutDone(userId: string) {
  await eventually('the lockout step', async () => (await offboardingProgress(userId)).steps?.find((s: { name: string }) => s.name === 'lockout')?.state === 'done', 20_000);
}

async function stopOffboarding(userId: string) {
  await client.workflow
    .getHandle(offboardingWorkflowId(userId))
    .terminate('test over')
    .catch(() => undefined);
}

describe('a pending invitee whose access ends keeps no working link', () => {
  it('hardening #1: an API offboarding with immediate lockout revokes the emailed link and ends the onboarding; resend and new links are refused', async () => {
    const email = newEmail('api-lockout');
    await work(async () => {
      const { userId, token } = await invite(email);
      const started = await app.inject({ method: 'POST', url: `/v1/users/${userId}/offboarding`, headers: admin.auth, payload: { reason: 'never started', immediateLockout: true, effectiveDate: FAR_FUTURE } });
      expect(started.statusCode).toBe(202);
      // Refused from the moment the offboarding exists, before and after its lockout step.
      const early = await accept(token);
      expect(early.statusCode, early.body).toBe(410);
      await lockoutDone(userId);
      const res = await accept(token);
      expect(res.statusCode, res.body).toBe(410);
      expect(res.json().error.code).toBe('invitation_revoked');
      expect(await userOf(userId)).toMatchObject({ status: 'pending' });
      expect((await userOf(userId))?.invitation?.tokenHash).toBeUndefined();
      await expectOnboardingEnded(email);

      for (const path of ['invitation/resend', 'invitation/link']) {
        const again = await app.inject({ method: 'POST', url: `/v1/users/${userId}/${path}`, headers: admin.auth });
        expect(again.statusCode, `${path}: ${again.body}`).toBe(409);
        expect(again.json().error.code, path).toBe('user_locked_out');
      }
      const registration = await app.inject({ method: 'POST', url: `/v1/users/${userId}/registration`, headers: admin.auth, payload: { siteRole: 'Users' } });
      expect(registration.statusCode).toBe(409);
      expect(await userOf(userId)).toMatchObject({ status: 'pending' });
      // The user view says so.
      const view = await app.inject({ method: 'GET', url: `/v1/users/${userId}`, headers: admin.auth });
      expect(view.json().user ?? view.json()).toMatchObject({ lockout: { processId: offboardingWorkflowId(userId) } });
      await stopOffboarding(userId);
    });
  }, 90_000);

  it('hardening #1: SCIM active=false revokes the link of a pending invitee the identity provider created', async () => {
    const email = newEmail('scim-inactive');
    await work(async () => {
      const created = await scimRequest(app, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: email, name: { givenName: 'Scim', familyName: 'Invitee' } });
      expect(created.statusCode, created.body).toBe(201);
      const userId = created.json().id as string;
      const token = await emailedToken(email);
      const off = await scimRequest(app, 'PATCH', `/Users/${userId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }] });
      expect(off.statusCode).toBe(200);
      expect((await accept(token)).statusCode).toBe(410);
      await lockoutDone(userId);
      const res = await accept(token);
      expect(res.statusCode).toBe(410);
      expect(res.json().error.code).toBe('invitation_revoked');
      expect(await userOf(userId)).toMatchObject({ status: 'pending' });
      expect((await scimRequest(app, 'GET', `/Users/${userId}`)).json().active).toBe(false);
      await expectOnboardingEnded(email);
      await stopOffboarding(userId);
    });
  }, 90_000);

  it('hardening #1: SCIM DELETE revokes the link of a pending invitee', async () => {
    const email = newEmail('scim-delete');
    await work(async () => {
      const { userId, token } = await invite(email);
      expect((await scimRequest(app, 'DELETE', `/Users/${userId}`)).statusCode).toBe(204);
      await lockoutDone(userId);
      const res = await accept(token);
      expect(res.statusCode).toBe(410);
      expect(res.json().error.code).toBe('invitation_revoked');
      expect(await userOf(userId)).toMatchObject({ status: 'pending' });
      await expectOnboardingEnded(email);
      await stopOffboarding(userId);
    });
  }, 90_000);

  it('hardening #1: an HR termination (with lockout) revokes the link of a pending invitee', async () => {
    const email = newEmail('hr-terminated');
    await work(async () => {
      const { userId, token } = await invite(email);
      const delivered = await app.inject(signedGeneric(hrEvent('employee.terminated', { id: `HR-${randomUUID().slice(0, 6)}`, email })));
      expect(delivered.statusCode).toBe(202);
      await eventually('the HR offboarding', async () => (await client.workflow.getHandle(offboardingWorkflowId(userId)).describe().catch(() => undefined))?.status.name === 'RUNNING', 20_000);
      await lockoutDone(userId);
      const res = await accept(token);
      expect(res.statusCode).toBe(410);
      expect(res.json().error.code).toBe('invitation_revoked');
      expect(await userOf(userId)).toMatchObject({ status: 'pending', hrStatus: 'terminated' });
      await expectOnboardingEnded(email);
      await stopOffboarding(userId);
    });
  }, 90_000);

  it('hardening #1: an API deactivation ends the onboarding at once (not at the link\'s expiry)', async () => {
    const email = newEmail('api-deactivate');
    await work(async () => {
      const { userId, token } = await invite(email);
      const res = await app.inject({ method: 'POST', url: `/v1/users/${userId}/deactivate`, headers: admin.auth });
      expect(res.statusCode, res.body).toBe(200);
      expect((await accept(token)).statusCode).toBe(410);
      expect((await userOf(userId))?.invitation?.tokenHash).toBeUndefined();
      await expectOnboardingEnded(email);
      expect(await userOf(userId)).toMatchObject({ status: 'deactivated' });
    });
  }, 90_000);

  it('hardening #1: an API delete ends the onboarding at once', async () => {
    const email = newEmail('api-delete');
    await work(async () => {
      const { userId, token } = await invite(email);
      const res = await app.inject({ method: 'DELETE', url: `/v1/users/${userId}`, headers: admin.auth });
      expect(res.statusCode, res.body).toBe(200);
      expect((await accept(token)).statusCode).toBe(410);
      await expectOnboardingEnded(email);
      expect(await userOf(userId)).toBeNull();
    });
  }, 90_000);

  it('hardening #1: an offboarding without lockout also refuses the link while it runs; a cancel gives it back', async () => {
    const email = newEmail('no-lockout');
    await work(async () => {
      const { userId, token } = await invite(email);
      const started = await app.inject({ method: 'POST', url: `/v1/users/${userId}/offboarding`, headers: admin.auth, payload: { reason: 'plans changed', effectiveDate: FAR_FUTURE } });
      expect(started.statusCode).toBe(202);
      const res = await accept(token);
      expect(res.statusCode).toBe(410);
      expect(res.json().error.code).toBe('invitation_revoked');
      const resend = await app.inject({ method: 'POST', url: `/v1/users/${userId}/invitation/resend`, headers: admin.auth });
      expect(resend.statusCode).toBe(409);
      expect(resend.json().error.code).toBe('user_being_offboarded');
      await eventually('the offboarding to wait for its date', async () => (await offboardingProgress(userId)).status === 'waiting_effective_date', 20_000);
      const cancel = await app.inject({ method: 'POST', url: `/v1/users/${userId}/offboarding/cancel`, headers: admin.auth, payload: {} });
      expect(cancel.statusCode, cancel.body).toBe(200);
      await eventually('the offboarding to end', async () => (await client.workflow.getHandle(offboardingWorkflowId(userId)).describe()).status.name !== 'RUNNING', 20_000);
      const accepted = await accept(token);
      expect(accepted.statusCode, accepted.body).toBe(200);
      expect(accepted.json().user).toMatchObject({ status: 'active' });
    });
  }, 90_000);
});

describe('no new credentials for a user whose access is ending', () => {
  it('hardening #1: a locked-out user gets no session, API token or invitation (409) until the offboarding is cancelled', async () => {
    const leaver = await seedUser(ctx.models, { email: newEmail('locked') });
    const userId = String(leaver.user._id);
    await work(async () => {
      const started = await app.inject({ method: 'POST', url: `/v1/users/${userId}/offboarding`, headers: admin.auth, payload: { reason: 'leaving', immediateLockout: true, effectiveDate: FAR_FUTURE } });
      expect(started.statusCode).toBe(202);
      await lockoutDone(userId);
      const session = await app.inject({ method: 'POST', url: `/v1/users/${userId}/sessions`, headers: admin.auth, payload: {} });
      expect(session.statusCode, session.body).toBe(409);
      expect(session.json().error.code).toBe('user_locked_out');
      expect(session.json().error.message).toMatch(/locked out/);
      const token = await app.inject({ method: 'POST', url: `/v1/users/${userId}/tokens`, headers: admin.auth, payload: {} });
      expect(token.statusCode, token.body).toBe(409);
      expect(token.json().error.code).toBe('user_locked_out');
      expect(await ctx.models.Session.countDocuments({ userId: leaver.user._id, endedAt: null })).toBe(0);
      expect(await ctx.models.AccessToken.countDocuments({ userId: leaver.user._id, revokedAt: null })).toBe(0);

      const cancel = await app.inject({ method: 'POST', url: `/v1/users/${userId}/offboarding/cancel`, headers: admin.auth, payload: {} });
      expect(cancel.statusCode, cancel.body).toBe(200);
      await eventually('the offboarding to end', async () => (await client.workflow.getHandle(offboardingWorkflowId(userId)).describe()).status.name !== 'RUNNING', 20_000);
      expect((await userOf(userId))?.lockout ?? undefined).toBeUndefined();
      expect((await app.inject({ method: 'POST', url: `/v1/users/${userId}/sessions`, headers: admin.auth, payload: {} })).statusCode).toBe(201);
      expect((await app.inject({ method: 'POST', url: `/v1/users/${userId}/tokens`, headers: admin.auth, payload: {} })).statusCode).toBe(201);
    });
  }, 90_000);

  it('hardening #1: a user being offboarded without lockout gets no new session or token (409 user_being_offboarded)', async () => {
    const leaver = await seedUser(ctx.models, { email: newEmail('leaving') });
    const userId = String(leaver.user._id);
    await work(async () => {
      const started = await app.inject({ method: 'POST', url: `/v1/users/${userId}/offboarding`, headers: admin.auth, payload: { reason: 'leaving', effectiveDate: FAR_FUTURE } });
      expect(started.statusCode).toBe(202);
      for (const path of ['sessions', 'tokens']) {
        const res = await app.inject({ method: 'POST', url: `/v1/users/${userId}/${path}`, headers: admin.auth, payload: {} });
        expect(res.statusCode, `${path}: ${res.body}`).toBe(409);
        expect(res.json().error.code).toBe('user_being_offboarded');
      }
      // Existing access is kept until the effective date: that is what "no lockout" means.
      expect((await app.inject({ method: 'GET', url: '/v1/users?limit=1', headers: leaver.auth })).statusCode).toBe(403);
      await stopOffboarding(userId);
    });
  }, 90_000);

  it('hardening #1: a session or token created while the lockout lands never survives it, and an acceptance racing it never activates a locked-out account', async () => {
    const deps = createActivityDeps(ctx);
    try {
      const activities = offboardingActivities(deps);
      for (let round = 0; round < 6; round++) {
        // An active user: racing logins and token issues against the lockout.
        const active = await seedUser(ctx.models, { email: newEmail(`race-${round}`) });
        const ref = { userId: String(active.user._id), workflowId: offboardingWorkflowId(String(active.user._id)), runId: `run-${round}` };
        const attempts = await Promise.allSettled([
          ...Array.from({ length: 4 }, () => createSession(ctx.models, active.user._id, {}, { type: 'system' })),
          ...Array.from({ length: 4 }, () => issueTokenFor(ctx.models, active.user._id, {}, { type: 'system' })),
          activities.lockOutUser(ref),
        ]);
        expect(attempts.at(-1)!.status).toBe('fulfilled');
        for (const a of attempts.slice(0, -1)) if (a.status === 'rejected') expect((a.reason as { code?: string }).code).toBe('user_locked_out');
        expect(await ctx.models.Session.countDocuments({ userId: active.user._id, endedAt: null })).toBe(0);
        expect(await ctx.models.AccessToken.countDocuments({ userId: active.user._id, revokedAt: null })).toBe(0);

        // A pending invitee: acceptance racing the lockout.
        const pending = await seedUser(ctx.models, { email: newEmail(`race-pending-${round}`), status: 'pending' });
        const { token, hash } = newInvitationToken();
        await installInvitation(ctx.models, { userId: pending.user._id, tokenHash: hash, sendNumber: 1, workflowId: `onboarding:${pending.user.email}`, lifetimeMs: 60_000 });
        const pref = { userId: String(pending.user._id), workflowId: offboardingWorkflowId(String(pending.user._id)), runId: `run-p-${round}` };
        const [accepted, locked] = await Promise.allSettled([acceptInvitation(ctx.models, token), activities.lockOutUser(pref)]);
        expect(locked.status).toBe('fulfilled');
        const after = await userOf(pending.user._id);
        expect(after?.lockout).toBeTruthy();
        if (accepted.status === 'rejected') {
          expect(after?.status).toBe('pending');
          expect((accepted.reason as { status?: number }).status).toBe(410);
        }
        // Either way nothing works any more: no session, and the link is dead.
        await expect(createSession(ctx.models, pending.user._id, {}, { type: 'system' })).rejects.toMatchObject({ status: 409 });
        await expect(acceptInvitation(ctx.models, token)).rejects.toMatchObject({ status: 410 });
      }
    } finally {
      await closeDeps(deps);
    }
  }, 60_000);
});

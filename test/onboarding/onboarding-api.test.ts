/**
 * Onboarding end to end: the HTTP API, the real Temporal workflow and worker, the MongoDB-wire server,
 * and a real SMTP server capturing every email.
 */
import type { Client } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { issueInvitationLink, onboardingWorkflowId, startOnboarding } from '../../src/processes/onboarding';
import { completeRegistrationUpdate, issueInvitationLinkUpdate, onboardingProgressQuery, resendInvitationUpdate } from '../../workflows/onboarding-messages';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createClient, withWorker } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';
import { invitationsTo, setInvitationPolicy, tokenIn } from './helpers';

let ctx: TestContext;
let client: Client;
let smtp: TestSmtpServer;
let app: App;
let admin: SeededUser;

const newEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;

beforeAll(async () => {
  ctx = await createTestContext('onboarding-api');
  client = await createClient(ctx);
  smtp = await startSmtpServer();
  app = await createTestApp(ctx, client);
  admin = await seedUser(ctx.models, { siteRole: 'Administrators', email: `admin-${randomUUID().slice(0, 6)}@example.com` });
});

afterAll(async () => {
  await app?.close();
  await smtp?.close();
  await client?.connection.close();
  await ctx?.close();
});

beforeEach(async () => {
  await setInvitationPolicy(ctx.models, { lifetimeMs: 60_000, resends: 2 });
});

const work = <T>(fn: () => Promise<T>) => withWorker(ctx, fn, { smtpUrl: smtp.url });

async function invite(email: string, extra: Record<string, unknown> = {}, auth = admin.auth) {
  return app.inject({ method: 'POST', url: '/v1/users', headers: auth, payload: { email, firstName: 'Ada', lastName: 'Lovelace', ...extra } });
}

async function accept(token: string) {
  return app.inject({ method: 'POST', url: `/v1/invitations/${token}/accept` });
}

async function progressOf(email: string) {
  return client.workflow.getHandle(onboardingWorkflowId(email)).query(onboardingProgressQuery);
}

describe('happy path', () => {
  it('creates the pending user, emails a link, activates on acceptance and tells the requester', async () => {
    const email = newEmail('happy');
    await work(async () => {
      const res = await invite(email, { siteRole: 'PowerUsers' });
      expect(res.statusCode).toBe(201);
      const body = res.json();
      expect(body.user).toMatchObject({ email, status: 'pending', siteRole: 'PowerUsers', active: false });
      expect(body.process).toEqual({ workflowId: `onboarding:${email}`, started: true });

      const [mail] = await eventually('the invitation email', async () => (invitationsTo(smtp.to(email)).length ? invitationsTo(smtp.to(email)) : undefined));
      expect(mail!.subject).toMatch(/invited to Example Inc\./);
      expect(mail!.raw).toMatch(/Content-Type: text\/plain/i);
      expect(mail!.raw).toMatch(/Content-Type: text\/html/i);
      const token = tokenIn(mail!);
      expect(mail!.body).toContain(`http://tenure.test/invitations/${token}/accept`);

      // Only the hash is stored.
      const stored = await ctx.models.User.findOne({ email }).lean();
      expect(stored!.invitation!.tokenHash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(stored)).not.toContain(token);
      expect(stored!.invitation!.sendCount).toBe(1);

      const accepted = await accept(token);
      expect(accepted.statusCode).toBe(200);
      expect(accepted.json().user).toMatchObject({ email, status: 'active', active: true });

      const notice = await eventually('the requester notice', async () => smtp.to(admin.user.email).find((m) => m.subject.includes(`${email} accepted`)));
      expect(notice.body).toContain('now active');
      await eventually('the process to end accepted', async () => (await progressOf(email)).state === 'accepted');
      const progress = await progressOf(email);
      expect(progress).toMatchObject({ sends: 1, requestedBy: { type: 'user', id: String(admin.user._id) }, source: 'api' });
      expect(progress.history.map((h) => h.step)).toEqual(['started', 'user-ready', 'invitation-sent', 'accepted']);

      const viewed = await app.inject({ method: 'GET', url: `/v1/users/${email}/onboarding`, headers: admin.auth });
      expect(viewed.statusCode).toBe(200);
      expect(viewed.json()).toMatchObject({ status: 'COMPLETED', progress: { state: 'accepted', sends: 1, email } });
      const byId = await app.inject({ method: 'GET', url: `/v1/users/${body.user._id}/onboarding`, headers: admin.auth });
      expect(byId.json().progress.workflowId).toBe(`onboarding:${email}`);

      // Single use.
      const again = await accept(token);
      expect(again.statusCode).toBe(410);
      expect(again.json().error.code).toBe('invitation_used');
    });
    expect(invitationsTo(smtp.to(email))).toHaveLength(1);
  });

  it('answers 404 for an unknown token and 400 for a malformed one', async () => {
    const unknown = await accept('x'.repeat(43));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('invitation_not_found');
    expect((await accept('short')).statusCode).toBe(400);
  });
});

describe('expiry and resends', () => {
  it('sends a fresh link when the first expires; the old link is refused (410) and the new one accepted', async () => {
    await setInvitationPolicy(ctx.models, { lifetimeMs: 2_500, resends: 2 });
    const email = newEmail('expiry');
    await work(async () => {
      expect((await invite(email)).statusCode).toBe(201);
      const mails = await eventually('two invitation emails', async () => (invitationsTo(smtp.to(email)).length >= 2 ? invitationsTo(smtp.to(email)) : undefined), 20_000);
      const [first, second] = mails.map(tokenIn);
      expect(first).not.toBe(second);
      const old = await accept(first!);
      expect(old.statusCode).toBe(410);
      expect(old.json().error).toMatchObject({ code: 'invitation_superseded' });
      expect(old.json().error.message).toMatch(/newer invitation/);
      const ok = await accept(second!);
      expect(ok.statusCode).toBe(200);
      await eventually('the process to end accepted', async () => (await progressOf(email)).state === 'accepted');
      expect((await progressOf(email)).sends).toBe(2);
    });
  });

  it('marks the invitation expired after the last resend and tells the requester', async () => {
    await setInvitationPolicy(ctx.models, { lifetimeMs: 1_500, resends: 1 });
    const email = newEmail('exhausted');
    await work(async () => {
      expect((await invite(email)).statusCode).toBe(201);
      const notice = await eventually('the expiry notice', async () => smtp.to(admin.user.email).find((m) => m.subject.includes(`invitation of ${email} expired`)), 20_000);
      expect(notice.body).toContain('after 2 emails');
      const progress = await progressOf(email);
      expect(progress.state).toBe('expired');
      expect(progress.sends).toBe(2);
    });
    const mails = invitationsTo(smtp.to(email));
    expect(mails).toHaveLength(2);
    const user = await ctx.models.User.findOne({ email }).lean();
    expect(user!.status).toBe('pending');
    expect(user!.invitation!.expiredAt).toBeInstanceOf(Date);
    const late = await accept(tokenIn(mails[1]!));
    expect(late.statusCode).toBe(410);
    expect(late.json().error.code).toBe('invitation_expired');
    expect(await ctx.models.AuditEvent.countDocuments({ action: 'invitation.expired', targetEmail: email })).toBe(1);
  });
});

describe('after the process ended', () => {
  it('resend and copy-link start a fresh process for a pending user whose invitation expired', async () => {
    await setInvitationPolicy(ctx.models, { lifetimeMs: 1_000, resends: 0 });
    const email = newEmail('restart');
    await work(async () => {
      expect((await invite(email)).statusCode).toBe(201);
      const handle = client.workflow.getHandle(onboardingWorkflowId(email));
      expect(await handle.result()).toMatchObject({ state: 'expired', sends: 1 });
      await setInvitationPolicy(ctx.models, { lifetimeMs: 60_000, resends: 0 });

      const resend = await app.inject({ method: 'POST', url: `/v1/users/${email}/invitation/resend`, headers: admin.auth });
      expect(resend.statusCode).toBe(200);
      expect(resend.json().process).toEqual({ workflowId: `onboarding:${email}`, started: true });
      const mails = await eventually('the new invitation', async () => (invitationsTo(smtp.to(email)).length === 2 ? invitationsTo(smtp.to(email)) : undefined));
      await eventually('the new process to wait', async () => (await progressOf(email)).sends === 2);

      const cancel = await app.inject({ method: 'POST', url: `/v1/users/${email}/invitation/cancel`, headers: admin.auth });
      expect(cancel.statusCode).toBe(200);
      expect((await accept(tokenIn(mails[1]!))).json().error.code).toBe('invitation_cancelled');
    });
  });

  it('copy-link on an expired invitation returns a working link and sends no email', async () => {
    await setInvitationPolicy(ctx.models, { lifetimeMs: 1_000, resends: 0 });
    const email = newEmail('copylink');
    await work(async () => {
      expect((await invite(email)).statusCode).toBe(201);
      expect(await client.workflow.getHandle(onboardingWorkflowId(email)).result()).toMatchObject({ state: 'expired' });
      await setInvitationPolicy(ctx.models, { lifetimeMs: 60_000, resends: 0 });
      const link = await app.inject({ method: 'POST', url: `/v1/users/${email}/invitation/link`, headers: admin.auth });
      expect(link.statusCode).toBe(200);
      expect(link.json()).toMatchObject({ invitation: { sendNumber: 2 }, process: { started: true } });
      expect(invitationsTo(smtp.to(email))).toHaveLength(1);
      const token = /\/invitations\/([^/]+)\/accept$/.exec(link.json().link)![1]!;
      expect((await accept(token)).statusCode).toBe(200);
      await eventually('the process to end accepted', async () => (await progressOf(email)).state === 'accepted');
    });
  });
});

describe('copy invitation link without a running onboarding', () => {
  it('answers each of two concurrent calls with its own link in one call: one process, sends #1 and #2, no email', async () => {
    await work(async () => {
      // A few users, so that a reply reporting the wrong send (the other call's) cannot pass by luck.
      for (let round = 0; round < 3; round++) {
        const email = newEmail('copyrace');
        await seedUser(ctx.models, { email, status: 'pending' });
        const answers = await Promise.all([1, 2].map(() => app.inject({ method: 'POST', url: `/v1/users/${email}/invitation/link`, headers: admin.auth })));
        expect(answers.map((a) => a.statusCode)).toEqual([200, 200]);
        const bodies = answers.map((a) => a.json() as { link: string; invitation: { sendNumber: number }; process: { workflowId: string; started: boolean } });
        expect(bodies.map((b) => b.process.workflowId)).toEqual([onboardingWorkflowId(email), onboardingWorkflowId(email)]);
        expect(bodies.filter((b) => b.process.started)).toHaveLength(1);
        const [first, second] = [...bodies].sort((a, b) => a.invitation.sendNumber - b.invitation.sendNumber);
        // Each answer names the send that installed its own link.
        expect([first!.invitation.sendNumber, second!.invitation.sendNumber]).toEqual([1, 2]);
        expect((await progressOf(email)).sends).toBe(2);
        expect(invitationsTo(smtp.to(email))).toHaveLength(0);
        const tokenOf = (b: { link: string }) => /\/invitations\/([^/]+)\/accept$/.exec(b.link)![1]!;
        expect((await accept(tokenOf(first!))).json().error.code).toBe('invitation_superseded');
        expect((await accept(tokenOf(second!))).statusCode).toBe(200);
        await eventually('the process to end accepted', async () => (await progressOf(email)).state === 'accepted');
      }
    });
  });

  it('answers an update naming the run\'s own first link with that first invitation instead of installing it again', async () => {
    await work(async () => {
      const email = newEmail('firstlink');
      await seedUser(ctx.models, { email, status: 'pending' });
      const tokenHash = 'b'.repeat(64);
      const caller = { id: String(admin.user._id), role: 'Administrators', email: admin.user.email };
      await startOnboarding(client, ctx.taskQueue, { email, requestedBy: { type: 'user', id: caller.id }, source: 'api', firstTokenHash: tokenHash });
      const handle = client.workflow.getHandle(onboardingWorkflowId(email));
      const answers = await Promise.all([1, 2].map(() => handle.executeUpdate(issueInvitationLinkUpdate, { args: [{ caller, tokenHash }] })));
      expect(answers.map((a) => a.sendNumber)).toEqual([1, 1]);
      expect((await progressOf(email)).sends).toBe(1);
      expect(await ctx.models.AuditEvent.countDocuments({ action: 'invitation.link_issued', targetEmail: email })).toBe(1);
    });
  });

  it('answers a refused start with the refusal, not a link', async () => {
    await work(async () => {
      const email = newEmail('copyrefused');
      await seedUser(ctx.models, { email, status: 'pending' });
      // The invitee is no longer pending by the time the process looks (a lost race with an acceptance elsewhere).
      await ctx.models.User.updateOne({ email }, { $set: { status: 'active' } });
      const attempt = issueInvitationLink(client, ctx.taskQueue, {
        email,
        caller: { id: String(admin.user._id), role: 'Administrators', email: admin.user.email },
        tokenHash: 'a'.repeat(64),
        requestedBy: { type: 'user', id: String(admin.user._id) },
        source: 'api',
      });
      await expect(attempt).rejects.toMatchObject({ status: 409, code: 'already_active' });
      expect(invitationsTo(smtp.to(email))).toHaveLength(0);
    });
  });
});

describe('admin actions', () => {
  it('resend and copy-link issue fresh links that kill the previous one', async () => {
    const email = newEmail('resend');
    await work(async () => {
      expect((await invite(email)).statusCode).toBe(201);
      const [firstMail] = await eventually('the first invitation', async () => (invitationsTo(smtp.to(email)).length ? invitationsTo(smtp.to(email)) : undefined));
      const resend = await app.inject({ method: 'POST', url: `/v1/users/${email}/invitation/resend`, headers: admin.auth });
      expect(resend.statusCode).toBe(200);
      expect(resend.json().invitation.sendNumber).toBe(2);
      expect(invitationsTo(smtp.to(email))).toHaveLength(2);
      expect((await accept(tokenIn(firstMail!))).json().error.code).toBe('invitation_superseded');

      const link = await app.inject({ method: 'POST', url: `/v1/users/${email}/invitation/link`, headers: admin.auth });
      expect(link.statusCode).toBe(200);
      expect(link.json().invitation.sendNumber).toBe(3);
      const token = /\/invitations\/([^/]+)\/accept$/.exec(link.json().link)![1]!;
      // No email for a copied link; the emailed one died.
      expect(invitationsTo(smtp.to(email))).toHaveLength(2);
      expect((await accept(tokenIn(invitationsTo(smtp.to(email))[1]!))).statusCode).toBe(410);
      expect((await accept(token)).statusCode).toBe(200);
    });
  });

  it('completes the registration with a role: active, the link dies, the requester is told; completing again is 409', async () => {
    const email = newEmail('complete');
    await work(async () => {
      expect((await invite(email)).statusCode).toBe(201);
      const [mail] = await eventually('the invitation', async () => (invitationsTo(smtp.to(email)).length ? invitationsTo(smtp.to(email)) : undefined));
      const res = await app.inject({ method: 'POST', url: `/v1/users/${email}/registration`, headers: admin.auth, payload: { siteRole: 'Auditors' } });
      expect(res.statusCode).toBe(200);
      expect(res.json().user).toMatchObject({ status: 'active', siteRole: 'Auditors' });
      expect((await progressOf(email)).state).toBe('completed');
      expect((await accept(tokenIn(mail!))).statusCode).toBe(410);
      await eventually('the completion notice', async () => smtp.to(admin.user.email).find((m) => m.subject.includes(`Registration of ${email} completed`)));
      const again = await app.inject({ method: 'POST', url: `/v1/users/${email}/registration`, headers: admin.auth, payload: { siteRole: 'Users' } });
      expect(again.statusCode).toBe(409);
      expect(again.json().error.code).toBe('already_active');
    });
  });

  it('refuses a registration with an unknown group (422) and leaves the process waiting', async () => {
    const email = newEmail('badgroup');
    await work(async () => {
      expect((await invite(email)).statusCode).toBe(201);
      await eventually('the invitation', async () => invitationsTo(smtp.to(email)).length > 0);
      const res = await app.inject({ method: 'POST', url: `/v1/users/${email}/registration`, headers: admin.auth, payload: { siteRole: 'Users', groups: ['0123456789abcdef01234567'] } });
      expect(res.statusCode).toBe(422);
      expect(res.json().error.code).toBe('unknown_group');
      expect((await progressOf(email)).state).toBe('invited');
      expect((await ctx.models.User.findOne({ email }).lean())!.status).toBe('pending');
    });
  });

  it('cancels: the link dies, the pending account is deactivated, acting again is refused', async () => {
    const email = newEmail('cancel');
    await work(async () => {
      expect((await invite(email)).statusCode).toBe(201);
      const [mail] = await eventually('the invitation', async () => (invitationsTo(smtp.to(email)).length ? invitationsTo(smtp.to(email)) : undefined));
      const res = await app.inject({ method: 'POST', url: `/v1/users/${email}/invitation/cancel`, headers: admin.auth, payload: { reason: 'wrong address' } });
      expect(res.statusCode).toBe(200);
      expect(res.json().user.status).toBe('deactivated');
      expect((await progressOf(email)).state).toBe('cancelled');
      const dead = await accept(tokenIn(mail!));
      expect(dead.statusCode).toBe(410);
      expect(dead.json().error.code).toBe('invitation_cancelled');
      const resend = await app.inject({ method: 'POST', url: `/v1/users/${email}/invitation/resend`, headers: admin.auth });
      expect(resend.statusCode).toBe(409);
    });
  });

  it('re-inviting a deactivated user restores access when they accept', async () => {
    const former = await seedUser(ctx.models, { email: newEmail('former'), status: 'deactivated', siteRole: 'Users' });
    await work(async () => {
      const res = await invite(former.user.email);
      expect(res.statusCode).toBe(201);
      expect(res.json().user.status).toBe('pending');
      const [mail] = await eventually('the invitation', async () => (invitationsTo(smtp.to(former.user.email)).length ? invitationsTo(smtp.to(former.user.email)) : undefined));
      const ok = await accept(tokenIn(mail!));
      expect(ok.statusCode).toBe(200);
      expect(ok.json().user).toMatchObject({ status: 'active' });
      expect(ok.json().user.deactivatedAt).toBeUndefined();
    });
  });
});

describe('refusals', () => {
  it('refuses a non-administrator at the API (403) and in the update validator, changing nothing', async () => {
    const email = newEmail('unauth');
    const user = await seedUser(ctx.models, { siteRole: 'PowerUsers' });
    const auditor = await seedUser(ctx.models, { siteRole: 'Auditors' });
    expect((await invite(email, {}, user.auth)).statusCode).toBe(403);
    await work(async () => {
      expect((await invite(email)).statusCode).toBe(201);
      await eventually('the invitation', async () => invitationsTo(smtp.to(email)).length > 0);
      for (const who of [user, auditor]) {
        const res = await app.inject({ method: 'POST', url: `/v1/users/${email}/invitation/resend`, headers: who.auth });
        expect(res.statusCode).toBe(403);
      }
      const handle = client.workflow.getHandle(onboardingWorkflowId(email));
      const before = await handle.query(onboardingProgressQuery);
      for (const update of [
        () => handle.executeUpdate(resendInvitationUpdate, { args: [{ caller: { id: String(user.user._id), role: 'PowerUsers' } }] }),
        () => handle.executeUpdate(completeRegistrationUpdate, { args: [{ caller: { id: String(auditor.user._id), role: 'Auditors' }, siteRole: 'Administrators' }] }),
      ]) {
        const err = await update().then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
        expect(((err as WorkflowUpdateFailedError).cause as { type?: string }).type).toBe('NotAdministrator');
      }
      const after = await handle.query(onboardingProgressQuery);
      expect(after).toEqual(before);
      expect(invitationsTo(smtp.to(email))).toHaveLength(1);
      expect((await ctx.models.User.findOne({ email }).lean())!.status).toBe('pending');
    });
  });

  it('keeps progress and actions to the roles allowed, and documents the routes', async () => {
    const user = await seedUser(ctx.models, { siteRole: 'Users' });
    expect((await app.inject({ method: 'GET', url: `/v1/users/someone@example.com/onboarding`, headers: user.auth })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: `/v1/users/someone@example.com/registration`, headers: user.auth, payload: { siteRole: 'Administrators' } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: `/v1/users/someone@example.com/invitation/cancel` })).statusCode).toBe(401);
    const missing = await app.inject({ method: 'GET', url: `/v1/users/nobody-${randomUUID().slice(0, 6)}@example.com/onboarding`, headers: admin.auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('onboarding_not_found');
    const doc = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(doc.statusCode).toBe(200);
    expect(Object.keys(doc.json().paths)).toEqual(
      expect.arrayContaining(['/v1/users', '/v1/invitations/{token}/accept', '/v1/users/{idOrEmail}/invitation/resend', '/v1/users/{idOrEmail}/invitation/link', '/v1/users/{idOrEmail}/registration', '/v1/users/{idOrEmail}/invitation/cancel', '/v1/users/{idOrEmail}/onboarding']),
    );
    expect(doc.json().paths['/v1/invitations/{token}/accept'].post.security).toEqual([]);
  });

  it('answers 422 domain_mismatch without starting anything, and accepts the address once confirmed', async () => {
    const email = `guest-${randomUUID().slice(0, 8)}@elsewhere.org`;
    const res = await invite(email);
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('domain_mismatch');
    expect(res.json().error.message).toMatch(/confirmDomainMismatch/);
    expect(await ctx.models.User.exists({ email })).toBeNull();
    const described = await client.workflow.getHandle(onboardingWorkflowId(email)).describe().then(() => 'exists', () => 'none');
    expect(described).toBe('none');
    await work(async () => {
      const confirmed = await invite(email, { confirmDomainMismatch: true });
      expect(confirmed.statusCode).toBe(201);
      await eventually('the invitation', async () => invitationsTo(smtp.to(email)).length > 0);
    });
  });

  it('answers 409 email_taken for an existing user (any letter case) and 422 at the plan limit', async () => {
    const email = newEmail('dup');
    await work(async () => {
      expect((await invite(email)).statusCode).toBe(201);
      const dup = await invite(email.toUpperCase());
      expect(dup.statusCode).toBe(409);
      expect(dup.json().error.code).toBe('email_taken');
    });
    await setInvitationPolicy(ctx.models, { lifetimeMs: 60_000, resends: 2, plan: 'Starter' });
    const full = await invite(newEmail('overplan'));
    expect(full.statusCode).toBe(422);
    expect(full.json().error.code).toBe('plan_limit_reached');
  });
});

describe('duplicate start', () => {
  it('joins the running process: one workflow, one email', async () => {
    const email = newEmail('twice');
    await work(async () => {
      const request = { email, requestedBy: { type: 'slack' as const, email: admin.user.email }, source: 'slack' as const };
      const [a, b] = await Promise.all([startOnboarding(client, ctx.taskQueue, request), startOnboarding(client, ctx.taskQueue, { ...request, email: email.toUpperCase() })]);
      expect(a.workflowId).toBe(b.workflowId);
      expect(a.runId).toBe(b.runId);
      expect([a.started, b.started].sort()).toEqual([false, true]);
      await eventually('the invitation', async () => invitationsTo(smtp.to(email)).length > 0);
      const c = await startOnboarding(client, ctx.taskQueue, request);
      expect(c).toMatchObject({ workflowId: a.workflowId, runId: a.runId, started: false });
      await new Promise((r) => setTimeout(r, 1_000));
      expect(invitationsTo(smtp.to(email))).toHaveLength(1);
      expect(await ctx.models.User.countDocuments({ email })).toBe(1);
      const running = await client.workflow.list({ query: `WorkflowId = "onboarding:${email}"` });
      let runs = 0;
      for await (const _ of running) runs += 1;
      expect(runs).toBe(1);
    });
  });
});

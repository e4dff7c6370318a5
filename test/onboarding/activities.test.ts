/**
 * The onboarding activities on the real store and a real SMTP server, called the way Temporal
 * retries them: twice with the same input must leave one result and one email.
 */
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createActivities, type ActivityDeps } from '../../activities';
import { GoneError } from '../../src/errors';
import { acceptInvitation } from '../../src/services/invitations';
import { createPendingUser } from '../../src/services/users';
import { createTestContext, type TestContext } from '../helpers/context';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { closeDeps, createActivityDeps } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';
import { invitationsTo, setInvitationPolicy, tokenIn } from './helpers';

let ctx: TestContext;
let smtp: TestSmtpServer;
let deps: ActivityDeps;
let activities: ReturnType<typeof createActivities>;
let admin: SeededUser;

beforeAll(async () => {
  ctx = await createTestContext('onboarding-activities');
  smtp = await startSmtpServer();
  deps = createActivityDeps(ctx, { smtpUrl: smtp.url });
  activities = createActivities(deps);
  admin = await seedUser(ctx.models, { siteRole: 'Administrators' });
});

afterAll(async () => {
  if (deps) await closeDeps(deps);
  await smtp?.close();
  await ctx?.close();
});

beforeEach(async () => {
  await setInvitationPolicy(ctx.models, { lifetimeMs: 60_000, resends: 2 });
});

const newEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;
const refFor = (email: string) => ({ workflowId: `onboarding:${email}`, processId: `onboarding:${email}/${randomUUID()}` });
const requestedBy = () => ({ type: 'user' as const, id: String(admin.user._id), email: admin.user.email });

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('sendInvitation', () => {
  it('sends one email per send number however often it is retried; the next send kills the previous link', async () => {
    const email = newEmail('retry');
    const user = await createPendingUser(ctx.models, { email }, { type: 'system' });
    const ref = refFor(email);
    const input = { ...ref, userId: String(user._id), sendNumber: 1, requestedBy: requestedBy() };
    const first = await activities.sendInvitation(input);
    const retried = await activities.sendInvitation(input);
    expect(first).toMatchObject({ issued: true, sendNumber: 1 });
    expect(retried).toEqual(first);
    expect(invitationsTo(smtp.to(email))).toHaveLength(1);

    const second = await activities.sendInvitation({ ...input, sendNumber: 2 });
    expect(second).toMatchObject({ issued: true, sendNumber: 2 });
    const [mail1, mail2] = invitationsTo(smtp.to(email));
    expect(mail2).toBeDefined();
    expect(mail1!.messageId).not.toBe(mail2!.messageId);
    const stale = await acceptInvitation(ctx.models, tokenIn(mail1!)).then(() => undefined, (e: unknown) => e);
    expect(stale).toBeInstanceOf(GoneError);
    expect((stale as GoneError).code).toBe('invitation_superseded');
    expect((await ctx.models.User.findById(user._id).lean())!.invitation!.sendCount).toBe(2);
  });

  it('sends nothing to a user who is no longer pending', async () => {
    const active = await seedUser(ctx.models, { email: newEmail('active') });
    const result = await activities.sendInvitation({ ...refFor(active.user.email), userId: String(active.user._id), sendNumber: 1, requestedBy: requestedBy() });
    expect(result).toMatchObject({ issued: false, status: 'active' });
    expect(smtp.to(active.user.email)).toHaveLength(0);
  });
});

describe('acceptInvitation', () => {
  it('is single-use under concurrent clicks: one succeeds, the other is told the link was used', async () => {
    const email = newEmail('race');
    const user = await createPendingUser(ctx.models, { email }, { type: 'system' });
    await activities.sendInvitation({ ...refFor(email), userId: String(user._id), sendNumber: 1, requestedBy: requestedBy() });
    const token = tokenIn(invitationsTo(smtp.to(email))[0]!);
    const results = await Promise.allSettled([acceptInvitation(ctx.models, token), acceptInvitation(ctx.models, token), acceptInvitation(ctx.models, token)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
      expect(r.reason).toBeInstanceOf(GoneError);
      expect(r.reason.code).toBe('invitation_used');
    }
    expect(await ctx.models.AuditEvent.countDocuments({ action: 'invitation.accepted', targetEmail: email })).toBe(1);
  });
});

describe('ensureOnboardingUser', () => {
  it('creates once and adopts on retry; re-invites a deactivated user; refuses an active one', async () => {
    const email = newEmail('ensure');
    const ref = refFor(email);
    const request = { email, firstName: 'Alan', requestedBy: requestedBy(), source: 'api' as const };
    const a = await activities.ensureOnboardingUser({ ...ref, request });
    const b = await activities.ensureOnboardingUser({ ...ref, request });
    expect(b).toEqual(a);
    expect(a).toMatchObject({ email, sendCount: 0, maxSends: 3 });
    expect(await ctx.models.User.countDocuments({ email })).toBe(1);

    const gone = await seedUser(ctx.models, { email: newEmail('gone'), status: 'deactivated' });
    const reinvited = await activities.ensureOnboardingUser({ ...refFor(gone.user.email), request: { ...request, email: gone.user.email } });
    expect(reinvited.userId).toBe(String(gone.user._id));
    expect((await ctx.models.User.findById(gone.user._id).lean())!.status).toBe('pending');

    const active = await seedUser(ctx.models, { email: newEmail('present') });
    const failure = await failureOf(activities.ensureOnboardingUser({ ...refFor(active.user.email), request: { ...request, email: active.user.email } }));
    expect(failure).toMatchObject({ type: 'Conflict', nonRetryable: true });
    expect(failure.details).toEqual([{ code: 'already_active', status: 409 }]);
  });

  it('refuses an outside-domain invitee without confirmation as a permanent failure', async () => {
    const email = `x-${randomUUID().slice(0, 6)}@elsewhere.org`;
    const failure = await failureOf(activities.ensureOnboardingUser({ ...refFor(email), request: { email, requestedBy: requestedBy(), source: 'hr' } }));
    expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect(failure.details).toEqual([{ code: 'domain_mismatch', status: 422 }]);
    expect(await ctx.models.User.exists({ email })).toBeNull();
  });
});

describe('notifyRequester', () => {
  it('tells the requester once per process and outcome', async () => {
    const email = newEmail('notice');
    const user = await createPendingUser(ctx.models, { email }, { type: 'system' });
    const input = { ...refFor(email), userId: String(user._id), requestedBy: { type: 'user' as const, id: String(admin.user._id) }, outcome: 'expired' as const, sends: 3 };
    expect(await activities.notifyRequester(input)).toEqual({ notified: true });
    expect(await activities.notifyRequester(input)).toEqual({ notified: true });
    const notices = smtp.to(admin.user.email).filter((m) => m.subject.includes(email));
    expect(notices).toHaveLength(1);
    expect(notices[0]!.body).toContain('after 3 emails');
  });
});

/**
 * The page the invitation email links to: it says who invited whom to what, takes the invitee's
 * confirmed name, accepts once, and answers every link that cannot be used with a page of its own
 * (status and sentence as the API's). Served with a strict Content-Security-Policy, no referrer,
 * no caching; no JavaScript needed. Real store, real Temporal (no process runs for these invitees).
 */
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { cancelInvitation, installInvitation, newInvitationToken } from '../../src/services/invitations';
import { createTestContext, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { createClient } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';

let ctx: TestContext;
let client: Client;
let app: App;
let inviter: SeededUser;

beforeAll(async () => {
  ctx = await createTestContext('invitationpage');
  client = await createClient(ctx);
  app = await createTestApp(ctx, client);
  await ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { name: 'Acme & Co' } }, { upsert: true });
  inviter = await seedUser(ctx.models, { siteRole: 'Administrators', firstName: 'Grace', lastName: '<b>Hopper</b>' });
});

afterAll(async () => {
  await app?.close();
  await client?.connection.close();
  await ctx?.close();
});

/** A pending invitee holding a live link; returns the token that link carries. */
async function invitee(options: { lifetimeMs?: number; siteRole?: 'Users' | 'SecurityManagers' } = {}) {
  const pending = await seedUser(ctx.models, { email: `invitee-${randomUUID().slice(0, 8)}@example.com`, status: 'pending', firstName: 'Ada', lastName: 'L', siteRole: options.siteRole });
  const { token, hash } = newInvitationToken();
  await installInvitation(ctx.models, { userId: pending.user._id, tokenHash: hash, sendNumber: 1, workflowId: `onboarding:${pending.user.email}`, invitedBy: inviter.user._id, lifetimeMs: options.lifetimeMs ?? 600_000 });
  return { user: pending.user, token, url: `/invitations/${token}/accept` };
}


describe('invitation page', () => {
  it('shows who invited whom to what and until when, as a form that works without JavaScript, under page headers', async () => {
    const { user, url } = await invitee({ siteRole: 'SecurityManagers' });
    const res = await app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const page = res.body;
    expect(page).toContain(user.email);
    expect(page).toContain(inviter.user.email);
    expect(page).toContain('Acme &amp; Co');
    expect(page).toContain('as Security Manager');
    expect(page).toMatch(/This link works until .+2\d{3}/);
    expect(page).toMatch(/<form method="post">/);
    expect(page).toContain('value="Ada"');
    // Names come from people: escaped, never markup.
    expect(page).toContain('&lt;b&gt;Hopper&lt;/b&gt;');
    expect(page).not.toContain('<b>Hopper</b>');
    expect(page).not.toMatch(/<script/i);
    const csp = String(res.headers['content-security-policy']);
    const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(page).toContain(`<style nonce="${nonce}">`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
    // A second page gets another nonce.
    const again = await app.inject({ method: 'GET', url });
    expect(String(again.headers['content-security-policy'])).not.toContain(nonce!);
  });

  it('accepts with the confirmed name once: the account is active under that name, and the link then says it was used', async () => {
    const { user, url } = await invitee();
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ firstName: ' Augusta ', lastName: 'King' }).toString() });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Welcome to Acme &amp; Co, Augusta King');
    const stored = await ctx.models.User.findById(user._id).lean();
    expect(stored).toMatchObject({ status: 'active', firstName: 'Augusta', lastName: 'King' });
    // The search words follow the new name.
    expect(stored!.searchTokens).toContain('augusta');
    const audit = await ctx.models.AuditEvent.findOne({ action: 'invitation.accepted', targetUserId: user._id }).lean();
    expect(audit).toBeTruthy();

    for (const method of ['GET', 'POST'] as const) {
      const used = await app.inject({ method, url, ...(method === 'POST' ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' } : {}) });
      expect(used.statusCode).toBe(410);
      expect(used.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(used.body).toContain('This invitation has already been used');
      expect(used.body).toContain('data-code="invitation_used"');
    }
  });

  it('keeps the name the account had when the fields are left empty', async () => {
    const { user, url } = await invitee();
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'firstName=&lastName=' });
    expect(res.statusCode).toBe(200);
    expect(await ctx.models.User.findById(user._id).lean()).toMatchObject({ status: 'active', firstName: 'Ada', lastName: 'L' });
  });

  it('a name that is not text shows the form again with the problem, and nothing is accepted', async () => {
    const { user, url } = await invitee();
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ firstName: 'Ada\u0000', lastName: 'King' }).toString() });
    expect(res.statusCode).toBe(422);
    expect(res.body).toContain('id="firstName-problem"');
    expect(res.body).toContain('value="King"');
    expect(await ctx.models.User.findById(user._id).lean()).toMatchObject({ status: 'pending', firstName: 'Ada' });
    // The link still works afterwards.
    expect((await app.inject({ method: 'GET', url })).statusCode).toBe(200);
  });

  it('answers an expired, superseded, cancelled or unknown link with a page that says which', async () => {
    const expired = await invitee({ lifetimeMs: 1 });
    await new Promise((r) => setTimeout(r, 5));
    const superseded = await invitee();
    const newer = newInvitationToken();
    await installInvitation(ctx.models, { userId: superseded.user._id, tokenHash: newer.hash, sendNumber: 2, workflowId: `onboarding:${superseded.user.email}`, lifetimeMs: 600_000 });
    const cancelled = await invitee();
    await cancelInvitation(ctx.models, cancelled.user._id, { type: 'user', id: inviter.user._id, email: inviter.user.email });
    const cases = [
      { url: expired.url, status: 410, code: 'invitation_expired', title: 'This invitation has expired' },
      { url: superseded.url, status: 410, code: 'invitation_superseded', title: 'A newer invitation was sent' },
      { url: cancelled.url, status: 410, code: 'invitation_cancelled', title: 'This invitation was cancelled' },
      { url: `/invitations/${newInvitationToken().token}/accept`, status: 404, code: 'invitation_not_found', title: 'This link is not valid' },
    ];
    for (const c of cases) {
      for (const method of ['GET', 'POST'] as const) {
        const res = await app.inject({ method, url: c.url, ...(method === 'POST' ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'firstName=X' } : {}) });
        expect({ url: c.url, method, status: res.statusCode }).toEqual({ url: c.url, method, status: c.status });
        expect(res.body).toContain(c.title);
        expect(res.body).toContain(`data-code="${c.code}"`);
        expect(res.headers['content-security-policy']).toBeTruthy();
      }
    }
    // None of them became active by trying.
    for (const u of [expired, superseded, cancelled]) expect((await ctx.models.User.findById(u.user._id).lean())!.status).not.toBe('active');
  });

  it('refuses a form body that is not UTF-8 or not a form, and a malformed token, without accepting', async () => {
    const { user, url } = await invitee();
    const latin1 = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1' }, payload: 'firstName=Ada' });
    expect(latin1.statusCode).toBe(415);
    const badBytes = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: Buffer.from([0x66, 0x69, 0x72, 0x73, 0x74, 0x4e, 0x61, 0x6d, 0x65, 0x3d, 0xc3, 0x28]) });
    expect(badBytes.statusCode).toBe(400);
    const extra = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'firstName=Ada&siteRole=Administrators' });
    expect(extra.statusCode).toBe(400);
    const malformed = await app.inject({ method: 'GET', url: '/invitations/short/accept' });
    expect(malformed.statusCode).toBe(400);
    expect(await ctx.models.User.findById(user._id).lean()).toMatchObject({ status: 'pending', siteRole: 'Users' });
  });
});

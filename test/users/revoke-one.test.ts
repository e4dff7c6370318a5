/**
 * After an "access left behind" alert an Administrator revokes one API token or ends one session
 * of a user, and nothing else: audited, idempotent, 404 for what does not exist, role matrix enforced.
 */
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offboardingActivities } from '../../activities/offboarding';
import { issueAccessToken, verifyAccessToken } from '../../src/security/access-tokens';
import { createSession, introspectSession } from '../../src/services/sessions';
import { createActivityDeps, closeDeps } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';
import { json, openHarness, type Harness } from './harness';

let h: Harness;
let admin: SeededUser;
let auditor: SeededUser;
let securityManager: SeededUser;

beforeAll(async () => {
  h = await openHarness('revokeone');
  admin = await seedUser(h.ctx.models, { siteRole: 'Administrators', email: 'admin@revoke.test' });
  auditor = await seedUser(h.ctx.models, { siteRole: 'Auditors', email: 'auditor@revoke.test' });
  securityManager = await seedUser(h.ctx.models, { siteRole: 'SecurityManagers', email: 'security@revoke.test' });
});

afterAll(async () => {
  await h?.close();
});

const revokeToken = (user: string, tokenId: string, headers = admin.auth) => h.app.inject({ method: 'DELETE', url: `/v1/users/${user}/tokens/${tokenId}`, headers });
const endSession = (user: string, sessionId: string, headers = admin.auth) => h.app.inject({ method: 'DELETE', url: `/v1/users/${user}/sessions/${sessionId}`, headers });
const tokenIdOf = (token: string) => token.slice(4, 20);
const audits = (action: string, targetUserId: Types.ObjectId) => h.ctx.models.AuditEvent.find({ action, targetUserId }).lean();

describe('revoking one API token', () => {
  it('hardening #2: an Administrator revokes one token; the user\'s other tokens keep working; audited once; a second call says already revoked', async () => {
    const holder = await seedUser(h.ctx.models, { email: 'holder@revoke.test' });
    const other = await issueAccessToken(h.ctx.models, holder.user._id, { name: 'CI' });
    const tokenId = tokenIdOf(holder.token);

    const res = await revokeToken(holder.user.email, tokenId);
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res)).toMatchObject({ alreadyRevoked: false, token: { tokenId, active: false, revokedReason: 'admin' } });
    expect(json(res).token.revokedAt).toEqual(expect.any(String));
    expect(await verifyAccessToken(h.ctx.models, holder.token)).toBeUndefined();
    expect(await verifyAccessToken(h.ctx.models, other.token)).toBeTruthy();
    // The holder's revoked token no longer authenticates anywhere.
    expect((await h.app.inject({ method: 'GET', url: '/v1/users?limit=1', headers: holder.auth })).statusCode).toBe(401);

    const [event, ...more] = await audits('token.revoked', holder.user._id);
    expect(more).toHaveLength(0);
    expect(event).toMatchObject({ actorId: admin.user._id, details: { tokenId } });

    const again = await revokeToken(String(holder.user._id), tokenId);
    expect(again.statusCode).toBe(200);
    expect(json(again)).toMatchObject({ alreadyRevoked: true, token: { tokenId, active: false } });
    expect(json(again).token.revokedAt).toBe(json(res).token.revokedAt);
    expect(await audits('token.revoked', holder.user._id)).toHaveLength(1);
  });

  it('hardening #2: racing revocations of one token revoke it once', async () => {
    const holder = await seedUser(h.ctx.models);
    const tokenId = tokenIdOf(holder.token);
    const answers = await Promise.all(Array.from({ length: 8 }, () => revokeToken(String(holder.user._id), tokenId)));
    expect(answers.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    expect(answers.filter((r) => json(r).alreadyRevoked === false)).toHaveLength(1);
    expect(await audits('token.revoked', holder.user._id)).toHaveLength(1);
  });

  it('hardening #2: a token revoked by a lockout stays revoked when the offboarding is cancelled once an Administrator revoked it', async () => {
    const holder = await seedUser(h.ctx.models);
    const kept = await issueAccessToken(h.ctx.models, holder.user._id, { name: 'kept' });
    const ref = { userId: String(holder.user._id), workflowId: `offboarding:${holder.user._id}`, runId: 'run-1' };
    const deps = createActivityDeps(h.ctx);
    try {
      const activities = offboardingActivities(deps);
      await activities.lockOutUser(ref);
      const res = await revokeToken(String(holder.user._id), tokenIdOf(holder.token));
      expect(res.statusCode).toBe(200);
      expect(json(res)).toMatchObject({ alreadyRevoked: true, token: { revokedReason: 'admin' } });
      await activities.undoLockout(ref);
    } finally {
      await closeDeps(deps);
    }
    expect(await verifyAccessToken(h.ctx.models, kept.token)).toBeTruthy();
    expect(await verifyAccessToken(h.ctx.models, holder.token)).toBeUndefined();
  });

  it("hardening #2: 404 for an unknown user, an unknown token id and another user's token; 400 for a malformed id", async () => {
    const holder = await seedUser(h.ctx.models);
    const stranger = await seedUser(h.ctx.models);
    const unknownUser = await revokeToken(new Types.ObjectId().toHexString(), tokenIdOf(holder.token));
    expect(unknownUser.statusCode).toBe(404);
    expect(json(unknownUser).error.code).toBe('user_not_found');
    const unknownToken = await revokeToken(String(holder.user._id), 'A'.repeat(16));
    expect(unknownToken.statusCode).toBe(404);
    expect(json(unknownToken).error.code).toBe('token_not_found');
    const notTheirs = await revokeToken(String(holder.user._id), tokenIdOf(stranger.token));
    expect(notTheirs.statusCode).toBe(404);
    expect(json(notTheirs).error.code).toBe('token_not_found');
    expect(await verifyAccessToken(h.ctx.models, stranger.token)).toBeTruthy();
    const malformed = await revokeToken(String(holder.user._id), 'not-a-token-id');
    expect(malformed.statusCode).toBe(400);
    expect(json(malformed).error.code).toEqual(expect.any(String));
  });

  it('hardening #2: only Administrators may revoke; readers get 403, no token gets 401, and nothing changes', async () => {
    const holder = await seedUser(h.ctx.models);
    const tokenId = tokenIdOf(holder.token);
    for (const caller of [auditor, securityManager, holder]) {
      const res = await revokeToken(String(holder.user._id), tokenId, caller.auth);
      expect(res.statusCode).toBe(403);
      expect(json(res).error.code).toBe('forbidden');
    }
    expect((await revokeToken(String(holder.user._id), tokenId, {} as never)).statusCode).toBe(401);
    expect(await verifyAccessToken(h.ctx.models, holder.token)).toBeTruthy();
    expect(await audits('token.revoked', holder.user._id)).toHaveLength(0);
  });
});

describe('ending one session', () => {
  it('hardening #2: an Administrator lists a user\'s sessions and ends one; audited once; a second call says already ended', async () => {
    const holder = await seedUser(h.ctx.models);
    const started = await h.app.inject({ method: 'POST', url: `/v1/users/${holder.user._id}/sessions`, headers: admin.auth, payload: {} });
    expect(started.statusCode).toBe(201);
    const { sessionId, session } = json(started);

    const listed = await h.app.inject({ method: 'GET', url: `/v1/users/${holder.user._id}/sessions`, headers: admin.auth });
    expect(listed.statusCode, listed.body).toBe(200);
    expect(json(listed).sessions).toEqual([expect.objectContaining({ sessionId, active: true })]);
    expect(listed.body).not.toContain(session);

    const res = await endSession(String(holder.user._id), sessionId);
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res)).toMatchObject({ alreadyEnded: false, session: { sessionId, active: false, endedReason: 'admin' } });
    expect(await introspectSession(h.ctx.models, session)).toMatchObject({ active: false, endedReason: 'admin' });
    expect((await h.ctx.models.User.findById(holder.user._id).lean())?.activeSessionId).toBeUndefined();
    const [event, ...more] = await audits('session.ended', holder.user._id);
    expect(more).toHaveLength(0);
    expect(event).toMatchObject({ actorId: admin.user._id, details: { sessionId } });

    const again = await endSession(holder.user.email, sessionId);
    expect(again.statusCode).toBe(200);
    expect(json(again)).toMatchObject({ alreadyEnded: true, session: { sessionId, active: false } });
    expect(await audits('session.ended', holder.user._id)).toHaveLength(1);
    // The user's tokens are untouched.
    expect(await verifyAccessToken(h.ctx.models, holder.token)).toBeTruthy();
  });

  it('hardening #2: ending an older session leaves the current one alone', async () => {
    const holder = await seedUser(h.ctx.models);
    const older = await createSession(h.ctx.models, holder.user._id, {}, { type: 'system' });
    const current = await createSession(h.ctx.models, holder.user._id, {}, { type: 'system' });
    const res = await endSession(String(holder.user._id), older.sessionId);
    expect(res.statusCode).toBe(200);
    // Superseded already: nothing to end.
    expect(json(res).alreadyEnded).toBe(true);
    expect(await introspectSession(h.ctx.models, current.secret)).toMatchObject({ active: true });
    expect(String((await h.ctx.models.User.findById(holder.user._id).lean())?.activeSessionId)).toBe(current.sessionId);
  });

  it("hardening #2: 404 for an unknown session and another user's session; 400 for a malformed id; 403 for readers", async () => {
    const holder = await seedUser(h.ctx.models);
    const stranger = await seedUser(h.ctx.models);
    const theirs = await createSession(h.ctx.models, stranger.user._id, {}, { type: 'system' });
    const unknown = await endSession(String(holder.user._id), new Types.ObjectId().toHexString());
    expect(unknown.statusCode).toBe(404);
    expect(json(unknown).error.code).toBe('session_not_found');
    const notTheirs = await endSession(String(holder.user._id), theirs.sessionId);
    expect(notTheirs.statusCode).toBe(404);
    expect(json(notTheirs).error.code).toBe('session_not_found');
    expect(await introspectSession(h.ctx.models, theirs.secret)).toMatchObject({ active: true });
    expect((await endSession(String(holder.user._id), 'xyz')).statusCode).toBe(400);
    for (const caller of [auditor, securityManager]) {
      expect((await endSession(String(stranger.user._id), theirs.sessionId, caller.auth)).statusCode).toBe(403);
      expect((await h.app.inject({ method: 'GET', url: `/v1/users/${stranger.user._id}/sessions`, headers: caller.auth })).statusCode).toBe(403);
    }
    expect(await introspectSession(h.ctx.models, theirs.secret)).toMatchObject({ active: true });
  });
});

describe('the contract', () => {
  it('hardening #2: the OpenAPI document describes both routes with their answers', async () => {
    const doc = json(await h.app.inject({ method: 'GET', url: '/openapi.json' }));
    const token = doc.paths['/v1/users/{idOrEmail}/tokens/{tokenId}']?.delete;
    const session = doc.paths['/v1/users/{idOrEmail}/sessions/{sessionId}']?.delete;
    for (const op of [token, session]) {
      expect(op).toBeTruthy();
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404']));
    }
    expect(doc.paths['/v1/users/{idOrEmail}/sessions']?.get).toBeTruthy();
  });
});

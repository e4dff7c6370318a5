import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import { NotFoundError, ConflictError } from '../errors';
import { generateSecret, hashSecret } from '../security/secrets';
import { lockedOutError } from './access';
import { recordAudit, type Actor } from './audit';

/**
 * Starts a session for an active user and ends the previous one: an account has at most one
 * session at a time. Of racing logins the newest session wins: each login ends the sessions older than
 * itself (or itself, when a newer one already exists), and the user's activeSessionId pointer
 * only moves forward. A locked-out user gets none (409 user_locked_out).
 */
export async function createSession(models: Models, userId: Types.ObjectId, meta: { ip?: string; userAgent?: string }, actor: Actor): Promise<{ sessionId: string; secret: string; endedPrevious: number }> {
  const user = await models.User.findById(userId, { status: 1, email: 1, lockout: 1 }).lean();
  if (!user) throw new NotFoundError(`No user with id ${String(userId)}.`, 'user_not_found');
  if (user.status !== 'active') throw new ConflictError(`${user.email} is ${user.status}; only active users can sign in.`, 'user_not_active');
  if (user.lockout) throw lockedOutError(user);
  const secret = generateSecret();
  const now = new Date();
  const session = await models.Session.create({ userId, tokenHash: hashSecret(secret), createdAt: now, lastSeenAt: now, ip: meta.ip, userAgent: meta.userAgent });
  // Access may have ended since the read above. A lockout or deactivation marks the account
  // before it ends the open sessions, so re-reading the mark after our write is enough: either
  // that sweep sees (and ends) this session, or this check sees the mark and ends it.
  const still = await models.User.findOne({ _id: userId, status: 'active', lockout: null }, { _id: 1 }).lean();
  if (!still) {
    await models.Session.updateOne({ _id: session._id, endedAt: null }, { $set: { endedAt: new Date(), endedReason: 'lockout' } });
    const now2 = await models.User.findById(userId, { status: 1, email: 1, lockout: 1 }).lean();
    if (now2?.lockout) throw lockedOutError(now2);
    throw new ConflictError(`${user.email} is ${now2?.status ?? 'gone'}; only active users can sign in.`, 'user_not_active');
  }
  // Of racing logins the session with the greatest id wins, whatever order the writes land in:
  // the pointer only moves forward, and each login ends only the sessions older than itself.
  await models.User.updateOne(
    { _id: userId, $or: [{ activeSessionId: { $exists: false } }, { activeSessionId: null }, { activeSessionId: { $lt: session._id } }] },
    { $set: { activeSessionId: session._id, lastLoginAt: now } },
  );
  const ended = await models.Session.updateMany({ userId, _id: { $lt: session._id }, endedAt: null }, { $set: { endedAt: now, endedReason: 'superseded' } });
  // Ids are made by the client, so an older login can land after a newer one has ended its
  // elders: such a login finds the newer session and ends itself. Exactly one, the newest, stays.
  if (await models.Session.exists({ userId, _id: { $gt: session._id } })) {
    await models.Session.updateOne({ _id: session._id, endedAt: null }, { $set: { endedAt: now, endedReason: 'superseded' } });
  }
  await recordAudit(models, { action: 'session.created', actor, target: { id: userId, email: user.email }, details: { sessionId: String(session._id), endedPrevious: ended.modifiedCount, ip: meta.ip } });
  return { sessionId: String(session._id), secret, endedPrevious: ended.modifiedCount };
}

/** Whether a presented session secret is the user's current session. */
export async function introspectSession(models: Models, secret: string) {
  const session = await models.Session.findOne({ tokenHash: hashSecret(secret) }).lean();
  if (!session) return { active: false as const };
  const user = await models.User.findById(session.userId, { status: 1, activeSessionId: 1, email: 1, siteRole: 1 }).lean();
  // Each login ends every older session of the account, so the newest one is the only one left
  // open: an open session of an active user is the current one.
  const active = !session.endedAt && !!user && user.status === 'active';
  return {
    active,
    sessionId: String(session._id),
    userId: String(session.userId),
    email: user?.email,
    siteRole: user?.siteRole,
    createdAt: session.createdAt.toISOString(),
    endedAt: session.endedAt?.toISOString(),
    endedReason: session.endedReason ?? (active ? undefined : 'superseded'),
  };
}

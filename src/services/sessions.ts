import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import { NotFoundError, ConflictError } from '../errors';
import { generateSecret, hashSecret } from '../security/secrets';
import { recordAudit, type Actor } from './audit';

/**
 * Starts a session for an active user and ends the previous one (seed 000 "Single session
 * access"). The user's activeSessionId is the arbiter: of two racing logins, the last write wins
 * and the other session is invalid at once.
 */
export async function createSession(models: Models, userId: Types.ObjectId, meta: { ip?: string; userAgent?: string }, actor: Actor): Promise<{ sessionId: string; secret: string; endedPrevious: number }> {
  const user = await models.User.findById(userId, { status: 1, email: 1 }).lean();
  if (!user) throw new NotFoundError(`No user with id ${String(userId)}.`, 'user_not_found');
  if (user.status !== 'active') throw new ConflictError(`${user.email} is ${user.status}; only active users can sign in.`, 'user_not_active');
  const secret = generateSecret();
  const now = new Date();
  const session = await models.Session.create({ userId, tokenHash: hashSecret(secret), createdAt: now, lastSeenAt: now, ip: meta.ip, userAgent: meta.userAgent });
  await models.User.updateOne({ _id: userId }, { $set: { activeSessionId: session._id, lastLoginAt: now } });
  const ended = await models.Session.updateMany({ userId, _id: { $ne: session._id }, endedAt: null }, { $set: { endedAt: now, endedReason: 'superseded' } });
  await recordAudit(models, { action: 'session.created', actor, target: { id: userId, email: user.email }, details: { sessionId: String(session._id), endedPrevious: ended.modifiedCount, ip: meta.ip } });
  return { sessionId: String(session._id), secret, endedPrevious: ended.modifiedCount };
}

/** Whether a presented session secret is the user's current session. */
export async function introspectSession(models: Models, secret: string) {
  const session = await models.Session.findOne({ tokenHash: hashSecret(secret) }).lean();
  if (!session) return { active: false as const };
  const user = await models.User.findById(session.userId, { status: 1, activeSessionId: 1, email: 1, siteRole: 1 }).lean();
  const active = !session.endedAt && !!user && user.status === 'active' && !!user.activeSessionId?.equals(session._id);
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

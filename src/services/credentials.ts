/**
 * One credential at a time: an Administrator revokes one API token or ends one session of a user
 * (after an "access left behind" alert, say) and lists a user's sessions to find it. Each change
 * is one conditional single-document write, so racing calls change it once and audit it once; a
 * repeated call answers "already revoked/ended" and changes nothing.
 */
import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import type { AccessToken } from '../db/models/access-token';
import type { Session } from '../db/models/session';
import { NotFoundError } from '../errors';
import { recordAudit, type Actor } from './audit';
import { readPage, type PageRequest } from './paging';
import { toApiToken } from './token-activity';

/** The revocation reason of a token revoked by an Administrator; an offboarding's cancel never restores it. */
const ADMIN_REVOCATION = 'admin';

type StoredSession = Session & { _id: Types.ObjectId };

function toApiSession(s: StoredSession) {
  return {
    sessionId: String(s._id),
    createdAt: s.createdAt.toISOString(),
    lastSeenAt: s.lastSeenAt?.toISOString(),
    endedAt: s.endedAt?.toISOString(),
    endedReason: s.endedReason ?? undefined,
    ip: s.ip ?? undefined,
    userAgent: s.userAgent ?? undefined,
    active: !s.endedAt,
  };
}

/** A user's sessions, newest first (index { userId, endedAt } narrows; never a secret or a hash). */
export async function listSessions(models: Models, userId: Types.ObjectId, page: PageRequest) {
  const query = { userId };
  const { items, page: info } = await readPage(
    page,
    (skip, limit) => models.Session.find(query, { tokenHash: 0 }).sort({ _id: -1 }).skip(skip).limit(limit).lean<StoredSession[]>(),
    () => models.Session.countDocuments(query),
  );
  return { page: info, sessions: items.map(toApiSession) };
}

/**
 * Revokes one token of one user. A token revoked by an offboarding's lockout (which a cancel would
 * bring back) is made permanent. 404 for a token that does not exist or belongs to someone else.
 */
export async function revokeOneToken(models: Models, user: { _id: Types.ObjectId; email: string }, tokenId: string, actor: Actor) {
  const now = new Date();
  let changed = await models.AccessToken.findOneAndUpdate(
    { tokenId, userId: user._id, revokedAt: null },
    { $set: { revokedAt: now, revokedReason: ADMIN_REVOCATION } },
    { returnDocument: 'after', projection: { hash: 0 } },
  ).lean<AccessToken>();
  let alreadyRevoked = false;
  if (!changed) {
    const current = await models.AccessToken.findOne({ tokenId, userId: user._id }, { hash: 0 }).lean<AccessToken>();
    if (!current) throw new NotFoundError(`${user.email} has no API token ${tokenId}.`, 'token_not_found');
    alreadyRevoked = true;
    // Revoked by a lockout: the offboarding's cancel restores exactly its own revocations, so the
    // reason is rewritten (conditionally, once) to keep this one revoked whatever happens.
    if (current.revokedReason?.startsWith('lockout:')) {
      changed = await models.AccessToken.findOneAndUpdate(
        { tokenId, userId: user._id, revokedReason: current.revokedReason },
        { $set: { revokedReason: ADMIN_REVOCATION } },
        { returnDocument: 'after', projection: { hash: 0 } },
      ).lean<AccessToken>();
    }
    if (!changed) return { alreadyRevoked, token: toApiToken(current) };
  }
  await recordAudit(models, {
    action: 'token.revoked',
    actor,
    target: { id: user._id, email: user.email },
    details: { tokenId, name: changed.name, ...(alreadyRevoked ? { wasRevokedBy: 'lockout' } : {}) },
  });
  return { alreadyRevoked, token: toApiToken(changed) };
}

/** Ends one session of one user. 404 for a session that does not exist or belongs to someone else. */
export async function endOneSession(models: Models, user: { _id: Types.ObjectId; email: string }, sessionId: Types.ObjectId, actor: Actor) {
  const ended = await models.Session.findOneAndUpdate(
    { _id: sessionId, userId: user._id, endedAt: null },
    { $set: { endedAt: new Date(), endedReason: 'admin' } },
    { returnDocument: 'after', projection: { tokenHash: 0 } },
  ).lean<StoredSession>();
  if (!ended) {
    const current = await models.Session.findOne({ _id: sessionId, userId: user._id }, { tokenHash: 0 }).lean<StoredSession>();
    if (!current) throw new NotFoundError(`${user.email} has no session ${String(sessionId)}.`, 'session_not_found');
    return { alreadyEnded: true, session: toApiSession(current) };
  }
  // The account's current-session pointer moves off it only if it still names this session.
  await models.User.updateOne({ _id: user._id, activeSessionId: sessionId }, { $unset: { activeSessionId: '' } });
  await recordAudit(models, { action: 'session.ended', actor, target: { id: user._id, email: user.email }, details: { sessionId: String(sessionId) } });
  return { alreadyEnded: false, session: toApiSession(ended) };
}

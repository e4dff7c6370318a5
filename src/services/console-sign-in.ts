/**
 * Signing in to the admin console by a one-time link. Only an active, not locked-out user whose
 * role may read users (Administrators, Security Managers, Auditors: the role matrix decides) gets
 * a link; anyone else gets nothing, and the caller answers every address alike. A link is random,
 * stored only as its SHA-256, works once and for a short while, and opens a session through
 * createSession, so the one-session-per-account rule holds: a second sign-in ends the first.
 */
import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { Models } from '../db/models';
import { normalizeEmail } from '../domain/email';
import { can, type SiteRole } from '../domain/roles';
import { ForbiddenError, GoneError, NotFoundError } from '../errors';
import { generateSecret, hashSecret } from '../security/secrets';
import { recordAudit, type Actor } from './audit';
import { createSession } from './sessions';
import type { StoredUser } from './users';

/** How long an emailed sign-in link works. */
export const SIGN_IN_LINK_LIFETIME_MS = 15 * 60_000;
/** How long a console session lasts at most, however active. */
export const CONSOLE_SESSION_LIFETIME_MS = 12 * 60 * 60_000;

const signInLinkSchema = new Schema(
  {
    /** The link token's SHA-256: the lookup key. */
    _id: { type: String },
    userId: { type: Schema.Types.ObjectId, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date },
  },
  { collection: 'console_sign_in_links', versionKey: false },
);

interface SignInLink {
  _id: string;
  userId: Types.ObjectId;
  createdAt: Date;
  expiresAt: Date;
  usedAt?: Date;
}

function signInLinks(models: Models): Model<SignInLink> {
  const conn: Connection = models.User.db;
  return (conn.models.ConsoleSignInLink as Model<SignInLink> | undefined) ?? conn.model<SignInLink>('ConsoleSignInLink', signInLinkSchema);
}

type ConsoleCandidate = Pick<StoredUser, 'status' | 'siteRole' | 'lockout'>;

/** Whether this account may use the console now: active, not locked out, a role that reads users. */
function mayUseConsole(user: ConsoleCandidate): boolean {
  return user.status === 'active' && !user.lockout && can(user.siteRole as SiteRole, 'users:read-active');
}

/** A user's page in the admin console (their state, processes and activity): where mails about them link to. */
export function consoleUserUrl(publicBaseUrl: string, userId: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/console/users/${userId}`;
}

export function signInLinkUrl(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/console/sign-in/${token}`;
}

/**
 * A new link for the account of `email` when it may use the console; null otherwise (unknown
 * address, wrong role, not active, locked out), which the caller must not reveal.
 */
export async function issueSignInLink(models: Models, email: string, now = new Date()): Promise<{ token: string; user: StoredUser; expiresAt: Date } | null> {
  const user = await models.User.findOne({ email: normalizeEmail(email) }).lean<StoredUser>();
  if (!user || !mayUseConsole(user)) return null;
  const token = generateSecret(32);
  const expiresAt = new Date(now.getTime() + SIGN_IN_LINK_LIFETIME_MS);
  await signInLinks(models).create({ _id: hashSecret(token), userId: user._id, createdAt: now, expiresAt });
  await recordAudit(models, { action: 'console.sign_in_link_sent', actor: { type: 'user', id: user._id, email: user.email }, target: { id: user._id, email: user.email } });
  return { token, user, expiresAt };
}

/** Whether a presented link is one that can still be used (for the page that asks to confirm). */
export async function checkSignInLink(models: Models, token: string, now = new Date()): Promise<void> {
  const link = await signInLinks(models).findById(hashSecret(token)).lean();
  assertUsable(link, now);
}

function assertUsable(link: SignInLink | null, now: Date): asserts link is SignInLink {
  if (!link) throw new NotFoundError('This sign-in link is not valid. Ask for a new one.', 'sign_in_link_not_found');
  if (link.usedAt) throw new GoneError('This sign-in link has already been used. Ask for a new one.', 'sign_in_link_used');
  if (link.expiresAt.getTime() <= now.getTime()) throw new GoneError('This sign-in link has expired. Ask for a new one.', 'sign_in_link_expired');
}

/**
 * Uses a link (one conditional write: of two racing uses one wins) and opens a session, which ends
 * the account's previous one. Refused when the account may no longer use the console.
 */
export async function redeemSignInLink(
  models: Models,
  token: string,
  meta: { ip?: string; userAgent?: string },
  options: { assertMayGainAccess?: (user: StoredUser) => Promise<void>; now?: Date } = {},
): Promise<{ secret: string; sessionId: string; user: StoredUser; endedPrevious: number }> {
  const now = options.now ?? new Date();
  const hash = hashSecret(token);
  const links = signInLinks(models);
  const before = await links.findOneAndUpdate({ _id: hash, usedAt: { $exists: false }, expiresAt: { $gt: now } }, { $set: { usedAt: now } }, { returnDocument: 'before' }).lean();
  if (!before) assertUsable(await links.findById(hash).lean(), now);
  const link = before!;
  const user = await models.User.findById(link.userId).lean<StoredUser>();
  if (!user || !mayUseConsole(user)) throw new ForbiddenError('This account may not sign in to the console.', 'console_not_allowed');
  await options.assertMayGainAccess?.(user);
  const actor: Actor = { type: 'user', id: user._id, email: user.email, ip: meta.ip };
  const session = await createSession(models, user._id, meta, actor);
  return { secret: session.secret, sessionId: session.sessionId, user, endedPrevious: session.endedPrevious };
}

/** Why a console session no longer lets its holder in. */
export type SessionEnd = 'superseded' | 'logout' | 'lockout' | 'offboarding' | 'deactivated' | 'admin' | 'expired' | 'role' | 'unknown';

export type ConsoleSession = { ok: true; user: StoredUser; sessionId: string } | { ok: false; reason: SessionEnd };

/**
 * The console session a cookie names, read from the store on every request: a session that was
 * ended (a newer sign-in, sign-out, lockout, deactivation), is older than the session lifetime, or
 * whose holder may no longer use the console does not let its holder in, and says why.
 */
export async function resolveConsoleSession(models: Models, secret: string, now = new Date()): Promise<ConsoleSession> {
  const session = await models.Session.findOne({ tokenHash: hashSecret(secret) }).lean();
  if (!session) return { ok: false, reason: 'unknown' };
  if (session.endedAt) return { ok: false, reason: (session.endedReason as SessionEnd | undefined) ?? 'superseded' };
  const user = await models.User.findById(session.userId).lean<StoredUser>();
  if (!user) return { ok: false, reason: 'admin' };
  if (user.lockout) return { ok: false, reason: 'lockout' };
  if (user.status !== 'active') return { ok: false, reason: 'deactivated' };
  // Each sign-in ends the older sessions; a session the account's pointer has moved past is one
  // of those, whichever write lands first.
  if (user.activeSessionId && String(user.activeSessionId) !== String(session._id)) return { ok: false, reason: 'superseded' };
  if (now.getTime() - session.createdAt.getTime() > CONSOLE_SESSION_LIFETIME_MS) return { ok: false, reason: 'expired' };
  if (!mayUseConsole(user)) return { ok: false, reason: 'role' };
  return { ok: true, user, sessionId: String(session._id) };
}

/** Signing out: ends the session (idempotent) and moves the account's pointer off it. */
export async function signOut(models: Models, user: Pick<StoredUser, '_id' | 'email'>, sessionId: string, ip?: string): Promise<void> {
  const ended = await models.Session.updateOne({ _id: sessionId, userId: user._id, endedAt: null }, { $set: { endedAt: new Date(), endedReason: 'logout' } });
  await models.User.updateOne({ _id: user._id, activeSessionId: sessionId }, { $unset: { activeSessionId: '' } });
  if (ended.modifiedCount) {
    await recordAudit(models, { action: 'session.ended', actor: { type: 'user', id: user._id, email: user.email, ip }, target: { id: user._id, email: user.email }, details: { sessionId, reason: 'logout' } });
  }
}

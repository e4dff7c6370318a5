/**
 * Invitation tokens: random, stored only as SHA-256 hashes, single-use and expiring. The user
 * holds the hash of its one current token; every token ever issued is also kept (by hash) in
 * `invitation_tokens`, so a presented link that is no longer current is answered "superseded",
 * "used" or "expired" (410) rather than "unknown" (404).
 */
import { Schema, Types, type Connection, type Model } from 'mongoose';
import type { Models } from '../db/models';
import { getOrgSettings } from '../db/models/org-settings';
import { searchTokensFor } from '../db/models/user';
import type { SiteRole } from '../domain/roles';
import { nextStatus } from '../domain/user-state';
import { ConflictError, GoneError, NotFoundError } from '../errors';
import { generateSecret, hashSecret } from '../security/secrets';
import { endAccess } from './access';
import { recordAudit, type Actor } from './audit';
import { assertGroupsExist, getUserById, transition, type StoredUser } from './users';

const invitationTokenSchema = new Schema(
  {
    /** The token's SHA-256: the lookup key, so finding it never compares secrets byte by byte. */
    _id: { type: String },
    userId: { type: Schema.Types.ObjectId, required: true },
    sendNumber: { type: Number, required: true },
    workflowId: { type: String },
    issuedAt: { type: Date, required: true },
  },
  { collection: 'invitation_tokens', versionKey: false },
);

interface InvitationTokenRecord {
  _id: string;
  userId: Types.ObjectId;
  sendNumber: number;
  workflowId?: string;
  issuedAt: Date;
}

/**
 * One document per accepted token, keyed by its hash: the insert is the single-use guard (the
 * `_id` index admits one), and the record says which token was used, and when.
 */
const invitationUseSchema = new Schema({ _id: { type: String }, userId: { type: Schema.Types.ObjectId, required: true }, at: { type: Date, required: true } }, { collection: 'invitation_uses', versionKey: false });

interface InvitationUse {
  _id: string;
  userId: Types.ObjectId;
  at: Date;
}

function invitationUses(models: Models): Model<InvitationUse> {
  const conn: Connection = models.User.db;
  return (conn.models.InvitationUse as Model<InvitationUse> | undefined) ?? conn.model<InvitationUse>('InvitationUse', invitationUseSchema);
}

function invitationTokens(models: Models): Model<InvitationTokenRecord> {
  const conn: Connection = models.User.db;
  return (conn.models.InvitationToken as Model<InvitationTokenRecord> | undefined) ?? conn.model<InvitationTokenRecord>('InvitationToken', invitationTokenSchema);
}

export interface NewInvitationToken {
  /** Goes into the link and nowhere else. */
  token: string;
  hash: string;
}

export function newInvitationToken(): NewInvitationToken {
  const token = generateSecret(32);
  return { token, hash: hashSecret(token) };
}

export function invitationLink(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/invitations/${token}/accept`;
}

export interface InvitationPolicy {
  lifetimeMs: number;
  /** Automatic resends after the first invitation expires. */
  resends: number;
}

export async function invitationPolicy(models: Models): Promise<InvitationPolicy> {
  const settings = await getOrgSettings(models.OrgSettings);
  return { lifetimeMs: settings.invitationLifetimeMs, resends: settings.invitationResends };
}

/** Sends allowed for one invitation: the first plus the automatic resends. */
export function maxSends(policy: InvitationPolicy): number {
  return 1 + Math.max(0, policy.resends);
}

export interface InstallInvitationInput {
  userId: Types.ObjectId;
  tokenHash: string;
  sendNumber: number;
  workflowId: string;
  invitedBy?: Types.ObjectId;
  lifetimeMs: number;
}

/**
 * Makes `tokenHash` the user's current invitation (the previous token stops working at once).
 * Only a pending user whose invitation is not accepted and who is not locked out gets one
 * (one conditional write); returns null otherwise.
 */
export async function installInvitation(models: Models, input: InstallInvitationInput, now = new Date()): Promise<StoredUser | null> {
  await invitationTokens(models).updateOne(
    { _id: input.tokenHash },
    { $setOnInsert: { _id: input.tokenHash, userId: input.userId, sendNumber: input.sendNumber, workflowId: input.workflowId, issuedAt: now } },
    { upsert: true },
  );
  const set: Record<string, unknown> = {
    'invitation.tokenHash': input.tokenHash,
    'invitation.sentAt': now,
    'invitation.expiresAt': new Date(now.getTime() + input.lifetimeMs),
    'invitation.sendCount': input.sendNumber,
    'invitation.workflowId': input.workflowId,
  };
  if (input.invitedBy) set['invitation.invitedBy'] = input.invitedBy;
  return models.User.findOneAndUpdate(
    { _id: input.userId, status: 'pending', 'invitation.acceptedAt': { $exists: false }, lockout: null },
    { $set: set, $unset: { 'invitation.expiredAt': '', 'invitation.revokedAt': '' } },
    { returnDocument: 'after' },
  ).lean<StoredUser>();
}

export interface AcceptedInvitation {
  user: StoredUser;
  workflowId?: string;
}

export interface AcceptOptions {
  /** Whether an offboarding of the account is under way (it lives in Temporal; the API asks it). */
  offboardingUnderWay?: (userId: Types.ObjectId) => Promise<boolean>;
  /** The name as the invitee confirmed it on the invitation page (validated by the caller). */
  names?: { firstName?: string; lastName?: string };
}

/** What the invitation page shows before the invitee accepts: who invited whom to what, until when. */
export interface InvitationView {
  invitee: Pick<StoredUser, 'email' | 'firstName' | 'lastName' | 'preferredName' | 'siteRole'>;
  invitedBy?: Pick<StoredUser, 'email' | 'firstName' | 'lastName' | 'preferredName'>;
  organization: string;
  expiresAt: Date;
}

/**
 * Reads the invitation behind `token` without using it. A link that cannot be accepted is refused
 * with the same errors (and sentences) as the acceptance itself: not found, used, expired,
 * superseded, cancelled, withdrawn.
 */
export async function describeInvitation(models: Models, token: string, now = new Date()): Promise<InvitationView> {
  const { user } = await usableInvitation(models, token, now);
  const inviterId = user.invitation?.invitedBy;
  const invitedBy = inviterId ? await models.User.findById(inviterId, { email: 1, firstName: 1, lastName: 1, preferredName: 1 }).lean<StoredUser>() : null;
  const settings = await getOrgSettings(models.OrgSettings);
  return {
    invitee: { email: user.email, firstName: user.firstName, lastName: user.lastName, preferredName: user.preferredName, siteRole: user.siteRole },
    invitedBy: invitedBy ?? undefined,
    organization: settings.name,
    expiresAt: user.invitation!.expiresAt!,
  };
}

/** The invitation behind `token` and its invitee, refused (as the acceptance refuses) unless it can be used now. */
async function usableInvitation(models: Models, token: string, now: Date): Promise<{ hash: string; record: InvitationTokenRecord; user: StoredUser }> {
  const hash = hashSecret(token);
  const record = await invitationTokens(models).findById(hash).lean();
  if (!record) throw notFound();
  const user = await models.User.findById(record.userId).lean<StoredUser>();
  if (!user) throw withdrawn();
  refuseUnusable(user, hash, now);
  return { hash, record, user };
}

function notFound(): NotFoundError {
  return new NotFoundError('This invitation link is not valid: check that it was copied whole.', 'invitation_not_found');
}

function withdrawn(): GoneError {
  return new GoneError('This invitation was withdrawn: the account no longer exists.', 'invitation_withdrawn');
}

/**
 * Accepts an invitation: pending → active (or deactivated → pending → active for a re-invite).
 * The activation is one conditional write that re-checks everything at once: still pending, this
 * token still the current one (a lockout, deactivation or delete withdraws it), not accepted,
 * not expired, not locked out. Single-use through the `invitation_uses` record of the token.
 */
export async function acceptInvitation(models: Models, token: string, actor: Omit<Actor, 'type'> = {}, now = new Date(), options: AcceptOptions = {}): Promise<AcceptedInvitation> {
  const { hash, record, user } = await usableInvitation(models, token, now);
  if (options.offboardingUnderWay && (await options.offboardingUnderWay(user._id))) throw revoked();

  try {
    await invitationUses(models).create({ _id: hash, userId: user._id, at: now });
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw new GoneError('This invitation link has already been used; sign in instead.', 'invitation_used');
    throw err;
  }
  const to = nextStatus(user.status, 'accept-invitation');
  const accepted = await models.User.findOneAndUpdate(
    { _id: user._id, status: 'pending', 'invitation.tokenHash': hash, 'invitation.acceptedAt': { $exists: false }, 'invitation.expiresAt': { $gt: now }, lockout: null },
    { $set: { status: to, 'invitation.acceptedAt': now, ...confirmedNames(user, options.names) }, $unset: { deactivatedAt: '', 'invitation.expiredAt': '' } },
    { returnDocument: 'after' },
  ).lean<StoredUser>();
  if (!accepted) {
    // Someone else used, replaced or cancelled it between the read and the write.
    const current = await models.User.findById(record.userId).lean<StoredUser>();
    if (current) refuseUnusable(current, hash, now);
    throw new GoneError('This invitation link has already been used.', 'invitation_used');
  }
  await recordAudit(models, {
    action: 'invitation.accepted',
    actor: { ...actor, type: 'user', id: user._id, email: user.email },
    target: { id: user._id, email: user.email },
    processId: user.invitation?.workflowId ?? undefined,
    eventKey: `invitation.accepted:${hash}`,
    details: { sendNumber: record.sendNumber },
  });
  return { user: accepted, workflowId: user.invitation?.workflowId ?? undefined };
}

/** The names the invitee confirmed (and the search words they make); a field left empty keeps what the account had. */
function confirmedNames(user: StoredUser, names: AcceptOptions['names']): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  if (names?.firstName) set.firstName = names.firstName;
  if (names?.lastName) set.lastName = names.lastName;
  if (Object.keys(set).length) set.searchTokens = searchTokensFor({ ...user, ...set });
  return set;
}

function revoked(): GoneError {
  return new GoneError('This invitation was withdrawn: access to this account has ended. Ask an administrator if you think this is a mistake.', 'invitation_revoked');
}

function refuseUnusable(user: StoredUser, hash: string, now: Date): void {
  const inv = user.invitation;
  if (inv?.tokenHash === hash && inv.acceptedAt) throw new GoneError('This invitation link has already been used; sign in instead.', 'invitation_used');
  if (user.status === 'pending' && (user.lockout || (inv?.revokedAt && !inv.tokenHash))) throw revoked();
  if (inv?.tokenHash !== hash) {
    if (user.status === 'active') throw new GoneError('This invitation is no longer needed: the account is already active; sign in instead.', 'invitation_used');
    if (user.status === 'deactivated' || !inv?.tokenHash) throw new GoneError('This invitation was cancelled; ask an administrator to invite you again.', 'invitation_cancelled');
    throw new GoneError('A newer invitation was sent to this address and this link no longer works; use the link in the most recent email.', 'invitation_superseded');
  }
  if (user.status !== 'pending') throw new GoneError('This invitation was cancelled; ask an administrator to invite you again.', 'invitation_cancelled');
  if (inv.expiredAt || !inv.expiresAt || inv.expiresAt.getTime() <= now.getTime()) {
    throw new GoneError('This invitation link has expired; ask an administrator to send a new one.', 'invitation_expired');
  }
}

/**
 * Admin-completed registration: pending → active with the chosen role and groups; the
 * invitation link dies. Repeating it with the same `eventKey` after it landed is a no-op.
 */
export async function completeRegistration(
  models: Models,
  userId: Types.ObjectId,
  input: { siteRole: SiteRole; groups?: string[] },
  actor: Actor,
  options: { processId?: string; eventKey?: string } = {},
): Promise<StoredUser> {
  const user = await getUserById(models, userId);
  if (user.status === 'active') {
    if (options.eventKey && (await models.AuditEvent.exists({ eventKey: options.eventKey }))) return user;
    throw new ConflictError(`${user.email} is already active; there is no registration to complete.`, 'already_active');
  }
  if (user.status !== 'pending') throw new ConflictError(`${user.email} is ${user.status}; only a pending user's registration can be completed.`, 'not_pending', { status: user.status });
  const groups = await assertGroupsExist(models, input.groups ?? []);
  const updated = await transition(models, userId, 'complete-registration', { siteRole: input.siteRole, groups }, { deactivatedAt: '', 'invitation.tokenHash': '' });
  await recordAudit(models, {
    action: 'registration.completed',
    actor,
    target: { id: userId, email: updated.email },
    processId: options.processId,
    eventKey: options.eventKey,
    details: { siteRole: input.siteRole, groups: groups.map(String) },
  });
  return updated;
}

/** Cancels a pending user's invitation: the link dies and the account is deactivated (freeing its seat). */
export async function cancelInvitation(models: Models, userId: Types.ObjectId, actor: Actor, options: { processId?: string; eventKey?: string; reason?: string } = {}): Promise<StoredUser | null> {
  const user = await getUserById(models, userId);
  if (user.status !== 'pending') return null;
  const at = new Date();
  await transition(models, userId, 'deactivate', { deactivatedAt: at });
  // The onboarding is the caller (or none runs): it is not told again.
  await endAccess(models, userId, { reason: 'invitation_cancelled', at });
  const updated = await getUserById(models, userId);
  await recordAudit(models, {
    action: 'invitation.cancelled',
    actor,
    target: { id: userId, email: user.email },
    processId: options.processId,
    eventKey: options.eventKey,
    details: options.reason ? { reason: options.reason } : undefined,
  });
  return updated;
}

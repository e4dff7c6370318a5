/**
 * Operations on accounts, shared by the HTTP API and the workflows' activities. Each one checks
 * the rules of src/domain, changes the store with single-document writes that are safe to repeat,
 * and appends to the audit log.
 */
import type { Client } from '@temporalio/client';
import { Types } from 'mongoose';
import type { Models } from '../db/models';
import { getOrgSettings } from '../db/models/org-settings';
import type { User } from '../db/models/user';
import { domainOf, emailAddressProblem, normalizeEmail, parseEmailPattern, PatternError } from '../domain/email';
import { withinPlan, ACTIVE_USER_LIMITS } from '../domain/plans';
import type { SiteRole } from '../domain/roles';
import { allowedFrom, grantsAccess, liftsLockout, nextStatus, type Transition } from '../domain/user-state';
import { ConflictError, NotFoundError, UnprocessableError, ValidationError } from '../errors';
import { endAccess, lockedOutError } from './access';
import { recordAudit, type Actor } from './audit';
import { countSubjectDocuments } from '../db/count';

export type StoredUser = User & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };

const OBJECT_ID = /^[0-9a-f]{24}$/i;

export function parseObjectId(value: string, what = 'id'): Types.ObjectId {
  if (!OBJECT_ID.test(value)) throw new ValidationError(`"${value.slice(0, 64)}" is not a valid ${what}: expected 24 hexadecimal characters.`, undefined, 'invalid_id');
  return new Types.ObjectId(value);
}

/** Finds a user by MongoDB id or by email (the routes' {idOrEmail}); 400 for a malformed id, 404 when absent. */
export async function getUserByIdOrEmail(models: Models, idOrEmail: string): Promise<StoredUser> {
  const query = idOrEmail.includes('@') ? { email: normalizeEmail(idOrEmail) } : { _id: parseObjectId(idOrEmail, 'user id') };
  const user = await models.User.findOne(query).lean<StoredUser>();
  if (!user) throw new NotFoundError(`No user ${idOrEmail.includes('@') ? 'with email' : 'with id'} ${idOrEmail.slice(0, 254)}.`, 'user_not_found');
  return user;
}

export async function getUserById(models: Models, id: Types.ObjectId | string): Promise<StoredUser> {
  const user = await models.User.findById(id).lean<StoredUser>();
  if (!user) throw new NotFoundError(`No user with id ${String(id)}.`, 'user_not_found');
  return user;
}

/** Builds the query of an `email=` pattern; the domain part narrows on the indexed emailDomain. */
export function emailPatternQuery(pattern: string): Record<string, unknown> {
  let parsed;
  try {
    parsed = parseEmailPattern(pattern);
  } catch (err) {
    if (err instanceof PatternError) throw new ValidationError(err.message, undefined, 'invalid_pattern');
    throw err;
  }
  if (parsed.exact !== undefined) return { email: parsed.exact };
  const query: Record<string, unknown> = {};
  if (parsed.domain) query.emailDomain = parsed.domain;
  // "*@example.com" is the domain lookup alone; anything else also filters the email itself.
  // A BSON regular expression (not a `$regex` string): one compiled pattern for the whole query.
  if (!(parsed.domain && parsed.raw.replace(/\*+/g, '*') === `*@${parsed.domain}`)) query.email = new RegExp(parsed.regex);
  return query;
}

export interface CreateUserInput {
  email: string;
  firstName?: string;
  lastName?: string;
  preferredName?: string;
  title?: string;
  site?: string;
  division?: string;
  organization?: string;
  domain?: string;
  sso?: string;
  siteRole?: SiteRole;
  groups?: string[];
  managerId?: string;
  hrEmployeeId?: string;
  /** Required to invite someone outside the organization's email domain; without it such an invitation is refused. */
  confirmDomainMismatch?: boolean;
}

/**
 * Active and pending users both hold a seat: a pending user becomes active on acceptance.
 * Counted on the { status, siteRole, createdAt } index (COUNT_SCAN of the status prefix), and
 * only up to `upTo`: a plan check needs to know whether the limit is reached, not the exact
 * number of a large organization.
 */
/** Seats taken: active and pending users (counted up to `upTo` when given). */
export async function seatsInUse(models: Models, upTo?: number): Promise<number> {
  return models.User.countDocuments({ status: { $in: ['active', 'pending'] } }, upTo ? { limit: upTo } : {});
}

export async function assertSeatAvailable(models: Models, adding = 1): Promise<void> {
  const settings = await getOrgSettings(models.OrgSettings);
  const limit = ACTIVE_USER_LIMITS[settings.plan];
  if (!Number.isFinite(limit)) return;
  const used = await seatsInUse(models, limit + adding);
  if (!withinPlan(settings.plan, used, adding)) {
    throw new UnprocessableError(
      `The ${settings.plan} plan allows ${limit} active users and ${used} seats are taken (active and pending); upgrade the plan or deactivate someone first.`,
      'plan_limit_reached',
      { plan: settings.plan, limit, used },
    );
  }
}

export async function assertGroupsExist(models: Models, groups: string[]): Promise<Types.ObjectId[]> {
  const ids = groups.map((g) => parseObjectId(g, 'group id'));
  if (!ids.length) return ids;
  const found = await models.Group.find({ _id: { $in: ids } }, { _id: 1 }).lean();
  const known = new Set(found.map((g) => String(g._id)));
  const unknown = groups.filter((g) => !known.has(g.toLowerCase()));
  if (unknown.length) throw new UnprocessableError(`Unknown group${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}.`, 'unknown_group', { unknown });
  return ids;
}

async function assertDomainAllowed(models: Models, email: string, confirmed: boolean | undefined): Promise<void> {
  const settings = await getOrgSettings(models.OrgSettings);
  const orgDomain = settings.domain?.toLowerCase();
  if (orgDomain && domainOf(email) !== orgDomain && !confirmed) {
    throw new UnprocessableError(
      `${email} is outside the organization's domain (${orgDomain}). Send "confirmDomainMismatch": true to invite them anyway.`,
      'domain_mismatch',
      { orgDomain, emailDomain: domainOf(email) },
    );
  }
}

/** Creates a pending user: plan, domain and group checks first. */
export async function createPendingUser(models: Models, input: CreateUserInput, actor: Actor, processId?: string): Promise<StoredUser> {
  const email = normalizeEmail(input.email);
  // Every way in checks the address already; this keeps the one rule true of the store itself.
  const problem = emailAddressProblem(email);
  if (problem) throw new ValidationError(`"${email.slice(0, 254)}" ${problem}; a user needs an email address.`, undefined, 'invalid_email');
  if (await models.User.exists({ email })) throw new ConflictError(`A user with email ${email} already exists.`, 'email_taken');
  await assertDomainAllowed(models, email, input.confirmDomainMismatch);
  const groups = await assertGroupsExist(models, input.groups ?? []);
  const managerId = input.managerId ? parseObjectId(input.managerId, 'manager id') : undefined;
  if (managerId && !(await models.User.exists({ _id: managerId }))) throw new UnprocessableError(`No user with id ${input.managerId} to be the manager.`, 'unknown_manager');
  await assertSeatAvailable(models);
  const { confirmDomainMismatch: _confirmed, groups: _groups, managerId: _manager, ...fields } = input;
  let created;
  try {
    created = await models.User.create({
      ...fields,
      email,
      groups,
      managerId,
      siteRole: input.siteRole ?? 'Users',
      status: 'pending',
      createdBy: actor.type === 'user' && actor.id ? actor.id : undefined,
    });
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw new ConflictError(`A user with email ${email} already exists.`, 'email_taken');
    throw err;
  }
  await recordAudit(models, { action: 'user.created', actor, target: { id: created._id, email }, processId, details: { siteRole: created.siteRole, groups: groups.map(String) } });
  return created.toObject() as StoredUser;
}

/**
 * Moves a user along the state machine with a compare-and-set on the current status. A move that
 * grants access also requires, in the same conditional write, that the account is not locked out;
 * a reactivation or re-invite lifts the lockout.
 */
export async function transition(models: Models, userId: Types.ObjectId, move: Transition, set: Record<string, unknown> = {}, unset: Record<string, ''> = {}): Promise<StoredUser> {
  const user = await getUserById(models, userId);
  const to = nextStatus(user.status, move);
  if (!to) {
    throw new ConflictError(`Cannot ${move.replace(/-/g, ' ')} a user who is ${user.status} (allowed from ${allowedFrom(move).join(' or ')}).`, 'invalid_state', { status: user.status });
  }
  const guarded = grantsAccess(move);
  if (guarded && user.lockout) throw lockedOutError(user);
  const update: Record<string, unknown> = { $set: { ...set, status: to } };
  const toUnset = liftsLockout(move) ? { ...unset, lockout: '' as const } : unset;
  if (Object.keys(toUnset).length) update.$unset = toUnset;
  const filter = { _id: userId, status: user.status, ...(guarded ? { lockout: null } : {}) };
  const updated = await models.User.findOneAndUpdate(filter, update, { returnDocument: 'after' }).lean<StoredUser>();
  if (!updated) {
    const now = await models.User.findById(userId, { email: 1, lockout: 1 }).lean();
    if (guarded && now?.lockout) throw lockedOutError({ email: now.email, lockout: now.lockout });
    throw new ConflictError('The user changed while this request ran; try again.', 'concurrent_change');
  }
  return updated;
}

interface OwnedSummary {
  total: number;
  resources: Array<{ _id: string; kind: string; name: string }>;
}

async function ownedResources(models: Models, userId: Types.ObjectId, limit = 1000): Promise<OwnedSummary> {
  const [total, resources] = await Promise.all([
    countSubjectDocuments(models.Resource, { ownerId: userId }),
    models.Resource.find({ ownerId: userId }, { kind: 1, name: 1 }).sort({ kind: 1, name: 1 }).limit(limit).lean(),
  ]);
  return { total, resources: resources.map((r) => ({ _id: String(r._id), kind: r.kind, name: r.name })) };
}


/**
 * Deactivates a user: refused while they own anything; then access ends (sessions,
 * tokens, a pending invitee's invitation and onboarding; see access.ts). Already deactivated is
 * not an error for a retried caller (returns the user as is).
 */
export async function deactivateUser(models: Models, userId: Types.ObjectId, actor: Actor, options: { processId?: string; idempotent?: boolean; temporal?: Client } = {}): Promise<StoredUser> {
  const user = await getUserById(models, userId);
  if (user.status === 'deactivated' && options.idempotent) return user;
  const owned = await ownedResources(models, userId, 50);
  if (owned.total > 0) {
    throw new ConflictError(
      `${user.email} still owns ${owned.total} resource${owned.total > 1 ? 's' : ''}; transfer ownership before deactivating.`,
      'owns_resources',
      { owned: owned.resources, total: owned.total },
    );
  }
  const now = new Date();
  const updated = await transition(models, userId, 'deactivate', { deactivatedAt: now });
  await endAccess(models, userId, { reason: 'deactivated', at: now, temporal: options.temporal });
  await recordAudit(models, {
    action: 'user.deactivated',
    actor,
    target: { id: userId, email: user.email },
    processId: options.processId,
    eventKey: options.processId ? `${options.processId}:user.deactivated` : undefined,
  });
  return updated;
}

/** Deactivated → active at once; the plan limit applies. */
export async function reactivateUser(models: Models, userId: Types.ObjectId, actor: Actor, options: { processId?: string } = {}): Promise<StoredUser> {
  const user = await getUserById(models, userId);
  if (user.status !== 'deactivated') {
    throw new ConflictError(`${user.email} is ${user.status}; only deactivated users can be reactivated.`, 'invalid_state', { status: user.status });
  }
  await assertSeatAvailable(models);
  const updated = await transition(models, userId, 'reactivate', {}, { deactivatedAt: '' });
  await recordAudit(models, { action: 'user.reactivated', actor, target: { id: userId, email: user.email }, processId: options.processId });
  return updated;
}

/** Role changes count from the next request: the auth layer reads the role on every request. */
export async function changeSiteRole(models: Models, userId: Types.ObjectId, siteRole: SiteRole, actor: Actor): Promise<StoredUser> {
  const before = await getUserById(models, userId);
  const updated = await models.User.findOneAndUpdate({ _id: userId }, { $set: { siteRole } }, { returnDocument: 'after' }).lean<StoredUser>();
  if (!updated) throw new NotFoundError(`No user with id ${String(userId)}.`, 'user_not_found');
  if (before.siteRole !== siteRole) {
    await recordAudit(models, { action: 'user.role_changed', actor, target: { id: userId, email: before.email }, details: { from: before.siteRole, to: siteRole } });
  }
  return updated;
}

/** Only an existing, active user can own resources (receive one, or be named owner of a new one). */
export async function assertCanOwnResources(models: Models, userId: Types.ObjectId, codes = { unknown: 'unknown_new_owner', inactive: 'new_owner_inactive' }): Promise<void> {
  const user = await models.User.findById(userId, { status: 1, email: 1 }).lean();
  if (!user) throw new UnprocessableError(`No user with id ${String(userId)} to own the resource.`, codes.unknown);
  if (user.status !== 'active') throw new UnprocessableError(`${user.email} is ${user.status}; only an active user can own resources.`, codes.inactive);
}

export interface TransferInput {
  resourceId: Types.ObjectId;
  toUserId: Types.ObjectId;
  transferId: string;
  actor: Actor;
  processId?: string;
  reason?: string;
  /** The owner the caller expects; a resource that has moved on is refused (`owner_changed`). */
  expectedOwnerId?: Types.ObjectId;
  /**
   * The caller checked `toUserId` with assertCanOwnResources for a whole batch, so a resource of
   * the expected owner moves in one conditional write instead of a read, a check and a write.
   */
  newOwnerChecked?: boolean;
}

/**
 * Transfers one resource. Idempotent through `transferId`: a retry after the transfer landed
 * changes nothing and records nothing twice. Returns whether this call made the change.
 */
export async function transferResource(models: Models, input: TransferInput): Promise<{ transferred: boolean; fromUserId?: Types.ObjectId }> {
  if (input.newOwnerChecked && input.expectedOwnerId && !input.expectedOwnerId.equals(input.toUserId)) {
    const fromUserId = input.expectedOwnerId;
    const before = await models.Resource.findOneAndUpdate(
      { _id: input.resourceId, ownerId: fromUserId, 'transfers.transferId': { $ne: input.transferId } },
      { $set: { ownerId: input.toUserId }, $push: { transfers: transferEntry(input, fromUserId, new Date()) } },
      { returnDocument: 'before', projection: { kind: 1, name: 1 } },
    ).lean();
    if (before) {
      await auditTransfer(models, input, { kind: before.kind, name: before.name, fromUserId });
      return { transferred: true, fromUserId };
    }
    // Not moved by this write: gone, moved already, or moved by someone else. Tell which below.
  }
  const resource = await models.Resource.findById(input.resourceId).lean();
  if (!resource) throw new NotFoundError(`No resource with id ${String(input.resourceId)}.`, 'resource_not_found');
  if (resource.transfers.some((t) => t.transferId === input.transferId)) return { transferred: false, fromUserId: resource.ownerId };
  if (input.expectedOwnerId && !resource.ownerId.equals(input.expectedOwnerId)) {
    throw new ConflictError(`The resource "${resource.name}" is no longer owned by the expected user.`, 'owner_changed');
  }
  if (resource.ownerId.equals(input.toUserId)) return { transferred: false, fromUserId: resource.ownerId };
  await assertCanOwnResources(models, input.toUserId);
  const result = await models.Resource.updateOne(
    { _id: input.resourceId, ownerId: resource.ownerId, 'transfers.transferId': { $ne: input.transferId } },
    { $set: { ownerId: input.toUserId }, $push: { transfers: transferEntry(input, resource.ownerId, new Date()) } },
  );
  if (result.modifiedCount === 0) {
    // Someone else moved it meanwhile; the caller retries with a fresh read.
    const now = await models.Resource.findById(input.resourceId).lean();
    if (now?.transfers.some((t) => t.transferId === input.transferId)) return { transferred: false, fromUserId: resource.ownerId };
    throw new ConflictError(`The resource "${resource.name}" changed owner while it was being transferred.`, 'owner_changed');
  }
  await auditTransfer(models, input, { kind: resource.kind, name: resource.name, fromUserId: resource.ownerId });
  return { transferred: true, fromUserId: resource.ownerId };
}

function transferEntry(input: TransferInput, fromUserId: Types.ObjectId, at: Date) {
  return { transferId: input.transferId, fromUserId, toUserId: input.toUserId, at, byUserId: input.actor.type === 'user' ? input.actor.id : undefined, processId: input.processId, reason: input.reason };
}

async function auditTransfer(models: Models, input: TransferInput, resource: { kind: string; name: string; fromUserId: Types.ObjectId }): Promise<void> {
  await recordAudit(models, {
    action: 'resource.transferred',
    actor: input.actor,
    target: { id: resource.fromUserId },
    processId: input.processId,
    eventKey: `transfer:${input.transferId}`,
    details: { resourceId: String(input.resourceId), kind: resource.kind, name: resource.name, from: String(resource.fromUserId), to: String(input.toUserId) },
  });
}

/**
 * Permanent delete: refused while the user owns anything; what they created
 * stays and shows "Deleted User" as creator; sessions and tokens go; group membership goes with
 * the account. The audit log keeps its history.
 */
export async function deleteUserPermanently(models: Models, userId: Types.ObjectId, actor: Actor, options: { processId?: string; temporal?: Client } = {}): Promise<void> {
  const user = await getUserById(models, userId);
  const owned = await ownedResources(models, userId, 50);
  if (owned.total > 0) {
    throw new ConflictError(`${user.email} still owns ${owned.total} resource${owned.total > 1 ? 's' : ''}; transfer ownership before deleting.`, 'owns_resources', { owned: owned.resources, total: owned.total });
  }
  await models.Resource.updateMany({ createdBy: userId }, { $set: { createdBy: null } });
  await endAccess(models, userId, { reason: 'deleted', temporal: options.temporal });
  await models.User.updateMany({ managerId: userId }, { $unset: { managerId: '' } });
  await models.User.deleteOne({ _id: userId });
  await recordAudit(models, { action: 'user.deleted', actor, target: { id: userId, email: user.email }, processId: options.processId, details: { groupsLeft: (user.groups ?? []).map(String) } });
}

export const DELETED_USER_NAME = 'Deleted User';

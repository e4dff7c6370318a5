/**
 * Administrator actions of the API that wrap the account operations of users.ts with the
 * guards an API caller needs: the last Administrator cannot be demoted, deactivated or deleted,
 * and nobody acts on their own account through these routes. Reactivation, from any way in,
 * goes through `reactivate` here.
 */
import type { Client } from '@temporalio/client';
import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import type { SiteRole } from '../domain/roles';
import { AppError, ConflictError } from '../errors';
import { issueAccessToken } from '../security/access-tokens';
import { lockedOutError } from './access';
import { recordAudit, type Actor } from './audit';
import { reactivationFinished, startReactivation } from '../processes/reactivation';
import { assertSeatAvailable, changeSiteRole, deactivateUser, deleteUserPermanently, getUserById, type StoredUser } from './users';
import { countSubjectDocuments } from '../db/count';

/** Active Administrators other than `userId`: at least one must remain. */
async function otherActiveAdministrators(models: Models, userId: Types.ObjectId): Promise<number> {
  return countSubjectDocuments(models.User, { siteRole: 'Administrators', status: 'active', _id: { $ne: userId } });
}

async function assertNotLastAdministrator(models: Models, user: StoredUser, what: string): Promise<void> {
  if (user.siteRole === 'Administrators' && user.status === 'active' && (await otherActiveAdministrators(models, user._id)) === 0) {
    throw new ConflictError(`${user.email} is the last active Administrator; ${what} would leave nobody able to administer tenure.`, 'last_administrator');
  }
}

function assertNotSelf(user: StoredUser, actor: Actor, what: string): void {
  if (actor.type === 'user' && actor.id && user._id.equals(actor.id)) {
    throw new ConflictError(`You cannot ${what} your own account; ask another Administrator.`, 'self_action');
  }
}

/** Changes one user's role; refuses to demote the last active Administrator. */
export async function changeRoleChecked(models: Models, userId: Types.ObjectId, siteRole: SiteRole, actor: Actor): Promise<StoredUser> {
  const user = await getUserById(models, userId);
  if (siteRole !== 'Administrators') await assertNotLastAdministrator(models, user, 'demoting them');
  return changeSiteRole(models, userId, siteRole, actor);
}

export type BulkRoleResult = {
  id: string;
  result: 'changed' | 'unchanged' | 'not_found' | 'refused';
  from?: SiteRole;
  error?: { code: string; message: string };
};

/**
 * Bulk role change: each id is handled on its own and reported; one refusal does not
 * stop the others. The caller's own id is refused, so an Administrator cannot demote themselves
 * by accident in a batch.
 */
export async function bulkChangeRole(models: Models, ids: Types.ObjectId[], siteRole: SiteRole, actor: Actor): Promise<BulkRoleResult[]> {
  const results: BulkRoleResult[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    const key = String(id);
    if (seen.has(key)) continue;
    seen.add(key);
    const before = await models.User.findById(id, { siteRole: 1, status: 1, email: 1 }).lean();
    if (!before) {
      results.push({ id: key, result: 'not_found', error: { code: 'user_not_found', message: `No user with id ${key}.` } });
      continue;
    }
    if (before.siteRole === siteRole) {
      results.push({ id: key, result: 'unchanged', from: before.siteRole });
      continue;
    }
    try {
      if (actor.type === 'user' && actor.id && id.equals(actor.id)) {
        throw new ConflictError('You cannot change your own role in a bulk change.', 'self_action');
      }
      await changeRoleChecked(models, id, siteRole, actor);
      results.push({ id: key, result: 'changed', from: before.siteRole });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      results.push({ id: key, result: 'refused', from: before.siteRole, error: { code: err.code, message: err.message } });
    }
  }
  await recordAudit(models, {
    action: 'users.bulk_role_change',
    actor,
    details: { siteRole, requested: ids.length, changed: results.filter((r) => r.result === 'changed').map((r) => r.id) },
  });
  return results;
}

/** `temporal` lets the deactivation end a pending invitee's onboarding at once (see access.ts). */
export async function deactivateChecked(models: Models, userId: Types.ObjectId, actor: Actor, temporal?: Client): Promise<StoredUser> {
  const user = await getUserById(models, userId);
  assertNotSelf(user, actor, 'deactivate');
  await assertNotLastAdministrator(models, user, 'deactivating them');
  return deactivateUser(models, userId, actor, { temporal });
}

export async function deleteChecked(models: Models, userId: Types.ObjectId, actor: Actor, temporal?: Client): Promise<StoredUser> {
  const user = await getUserById(models, userId);
  assertNotSelf(user, actor, 'delete');
  await assertNotLastAdministrator(models, user, 'deleting them');
  await deleteUserPermanently(models, userId, actor, { temporal });
  return user;
}

/**
 * An Administrator issues an API token for an active user; the token is returned once. A
 * locked-out user gets none (409 user_locked_out), even when the lockout lands meanwhile.
 */
export async function issueTokenFor(models: Models, userId: Types.ObjectId, input: { name?: string; scope?: string[]; expiresInDays?: number }, actor: Actor) {
  const user = await getUserById(models, userId);
  if (user.status !== 'active') throw new ConflictError(`${user.email} is ${user.status}; tokens are issued to active users only.`, 'user_not_active');
  if (user.lockout) throw lockedOutError(user);
  const expiresAt = input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : undefined;
  const issued = await issueAccessToken(models, userId, { name: input.name, scope: input.scope, expiresAt });
  // As for sessions: a lockout marks the account before it revokes tokens, so either its sweep
  // revokes this one or this re-read sees the mark, and the token, never handed out, is removed.
  const still = await models.User.findOne({ _id: userId, status: 'active', lockout: null }, { _id: 1 }).lean();
  if (!still) {
    await models.AccessToken.deleteOne({ tokenId: issued.tokenId });
    const now = await getUserById(models, userId);
    if (now.lockout) throw lockedOutError(now);
    throw new ConflictError(`${now.email} is ${now.status}; tokens are issued to active users only.`, 'user_not_active');
  }
  await recordAudit(models, { action: 'token.issued', actor, target: { id: userId, email: user.email }, details: { tokenId: issued.tokenId, name: input.name, scope: input.scope ?? ['api'] } });
  const record = await models.AccessToken.findOne({ tokenId: issued.tokenId }).lean();
  return { ...issued, record: record! };
}

export interface ReactivationDeps {
  models: Models;
  temporal: Client;
  taskQueue: string;
}

export interface ReactivationOutcome {
  processId: string;
  /** false when a reactivation already running was joined. */
  started: boolean;
  /** Whether the process finished within the wait (the user is then active). */
  finished: boolean;
  /** The user as it stands after the wait. */
  user: StoredUser;
}

/** How long a caller that answers at once (API `…/reactivate`, Slack) waits for the process. */
export const REACTIVATION_WAIT_MS = 15_000;

/**
 * The one way to reactivate an account, for the API, Slack and SCIM: a deactivated user only,
 * the plan limit checked before anything starts; then the reactivation process
 * (`reactivation:<userId>`) makes the account active and tells a running offboarding of the user,
 * which stops its undo window and retention and ends as `reactivated`. With `waitMs`, waits that
 * long for the process; a refusal inside it comes back as the same typed error.
 */
export async function reactivate(deps: ReactivationDeps, userId: Types.ObjectId, actor: Actor, options: { reason?: string; waitMs?: number } = {}): Promise<ReactivationOutcome> {
  const user = await getUserById(deps.models, userId);
  if (user.status !== 'deactivated') {
    throw new ConflictError(`${user.email} is ${user.status}; only deactivated users can be reactivated.`, 'invalid_state', { status: user.status });
  }
  await assertSeatAvailable(deps.models);
  const started = await startReactivation(deps.temporal, deps.taskQueue, {
    userId: String(user._id),
    requestedBy: { type: actor.type, id: actor.id ? String(actor.id) : undefined, email: actor.email },
    reason: options.reason,
  });
  await recordAudit(deps.models, { action: 'reactivation.requested', actor, target: { id: user._id, email: user.email }, processId: started.workflowId, details: { reason: options.reason, joined: !started.started } });
  const finished = options.waitMs ? await reactivationFinished(deps.temporal, started, options.waitMs) : false;
  return { processId: started.workflowId, started: started.started, finished, user: finished ? await getUserById(deps.models, userId) : user };
}

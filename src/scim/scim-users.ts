/**
 * SCIM operations on users. Provisioning goes the same way as from every other way in: a POST
 * invites the user as the API and Slack do (inviteUser: the pending user created at once with the
 * same checks, then the onboarding), `active: false` (or DELETE) requests the offboarding with an
 * immediate lockout as a person's request does (requestOffboarding, same audit trail), `active:
 * true` a reactivation (reactivate).
 */
import type { Client } from '@temporalio/client';
import type { Caller } from '../../workflows/offboarding-messages';
import { Types } from 'mongoose';
import type { Models } from '../db/models';
import { isOffboardingRefusal, offboardingAuthority } from '../domain/authority';
import { normalizeEmail } from '../domain/email';
import type { Logger } from '../logger';
import { offboardingRunning } from '../processes/offboarding';
import { recordAudit, type Actor } from '../services/audit';
import { inviteUser } from '../services/invite-user';
import { actOnOffboardingAs, requestOffboarding } from '../services/offboarding-requests';
import { reactivate } from '../services/user-admin';
import type { StoredUser } from '../services/users';
import { ScimError } from './errors';
import { parseUserFilter } from './filter';
import type { ScimLink } from '../db/models/scim-link';
import { assertScimUserStorable, type ScimUserFields } from './user-resource';

export interface ScimDeps {
  models: Models;
  temporal: Client;
  taskQueue: string;
  logger: Logger;
}

/** Who is calling: the SCIM token (the identity provider) or an Administrator's API token. */
export interface ScimCaller {
  actor: Actor;
  requestedBy: { type: 'scim' | 'user'; id?: string; email?: string };
  /** Stands for the caller when a running offboarding is cancelled (the SCIM token is Administrator-equivalent). */
  processCaller: Caller;
}

export interface ScimUserRecord {
  user: StoredUser;
  link: ScimLink | null;
}

export const MAX_PAGE_SIZE = 200;

function notFound(id: string): never {
  throw new ScimError(404, `No user with id ${id.slice(0, 64)}.`);
}

export async function getScimUser(deps: ScimDeps, id: string): Promise<ScimUserRecord> {
  if (!Types.ObjectId.isValid(id) || !/^[0-9a-f]{24}$/i.test(id)) notFound(id);
  const [user, link] = await Promise.all([deps.models.User.findById(id).lean<StoredUser>(), deps.models.ScimLink.findOne({ userId: new Types.ObjectId(id) }).lean<ScimLink>()]);
  // A user the provider deleted is gone from SCIM while its offboarding runs to the permanent delete.
  if (!user || link?.deletedAt) notFound(id);
  return { user, link };
}

/**
 * The order of every list: by `_id`, newest first. It is total (no two users tie, however many
 * share a creation time), so a page never repeats or skips a user of another page, and a user
 * just created is on the first page (what connection tests and checkers look for).
 */
const LIST_ORDER = { _id: -1 } as const;

export async function listScimUsers(deps: ScimDeps, options: { filter?: string; startIndex: number; count: number }) {
  const and: Record<string, unknown>[] = [];
  for (const condition of options.filter ? parseUserFilter(options.filter) : []) {
    if (condition.attribute === 'none') and.push({ _id: { $in: [] } });
    else if (condition.attribute === 'email') and.push({ email: normalizeEmail(condition.value) });
    else if (condition.attribute === 'id') and.push({ _id: /^[0-9a-f]{24}$/i.test(condition.value) ? new Types.ObjectId(condition.value) : { $in: [] } });
    else {
      const links = await deps.models.ScimLink.find({ externalId: condition.value }, { userId: 1 }).limit(MAX_PAGE_SIZE).lean();
      and.push({ _id: { $in: links.map((l) => l.userId) } });
    }
  }
  const deleted = await deps.models.ScimLink.find({ deletedAt: { $exists: true } }, { userId: 1 }).lean();
  if (deleted.length) and.push({ _id: { $nin: deleted.map((l) => l.userId) } });
  const query = and.length ? { $and: and } : {};
  const startIndex = Math.max(1, options.startIndex);
  const count = Math.min(Math.max(0, options.count), MAX_PAGE_SIZE);
  const [total, users] = await Promise.all([
    deps.models.User.countDocuments(query),
    count === 0 ? Promise.resolve([] as StoredUser[]) : deps.models.User.find(query).sort(LIST_ORDER).skip(startIndex - 1).limit(count).lean<StoredUser[]>(),
  ]);
  const links = users.length ? await deps.models.ScimLink.find({ userId: { $in: users.map((u) => u._id) } }).lean<ScimLink[]>() : [];
  const byUser = new Map(links.map((l) => [String(l.userId), l]));
  return { total, startIndex, records: users.map((user) => ({ user, link: byUser.get(String(user._id)) ?? null })) };
}

async function setExternalId(deps: ScimDeps, userId: Types.ObjectId, externalId: string | null | undefined): Promise<void> {
  if (externalId === undefined) return;
  if (externalId === null) await deps.models.ScimLink.updateOne({ userId }, { $unset: { externalId: '' } });
  else await deps.models.ScimLink.updateOne({ userId }, { $set: { externalId } }, { upsert: true });
}

/**
 * POST /Users: the invitation of the API and Slack (inviteUser), with the identity provider as the
 * one who asks. A deactivated account is still this provider's resource: it comes back with
 * `active: true`, not with a second POST.
 */
export async function createScimUser(deps: ScimDeps, fields: ScimUserFields & { email: string }, caller: ScimCaller): Promise<ScimUserRecord> {
  const email = normalizeEmail(fields.email);
  if (await deps.models.User.exists({ email, status: 'deactivated' })) throw new ScimError(409, `A user with userName ${email} already exists.`, 'uniqueness');
  const { user } = await inviteUser(
    deps,
    { email, firstName: fields.firstName || undefined, lastName: fields.lastName || undefined, title: fields.title || undefined },
    caller.actor,
    { requestedBy: caller.requestedBy, source: 'scim' },
  );
  await setExternalId(deps, user._id, fields.externalId);
  return getScimUser(deps, String(user._id));
}

/**
 * PUT (mode "replace": every attribute tenure keeps is replaced, absent optional ones cleared)
 * and PATCH (only what the operations name). `active` changes only when it is given: a PUT
 * that omits it never deactivates anyone.
 */
export async function updateScimUser(deps: ScimDeps, id: string, fields: ScimUserFields, caller: ScimCaller): Promise<ScimUserRecord> {
  const { user, link } = await getScimUser(deps, id);
  if (fields.active === false) assertMayOffboard(user, caller);
  // The user as it would be after the request, checked by the rules of POST and PUT before anything is written.
  const given = new Set((Object.keys(fields) as (keyof ScimUserFields)[]).filter((k) => fields[k] !== undefined));
  assertScimUserStorable(
    {
      email: fields.email ?? user.email,
      firstName: fields.firstName ?? user.firstName ?? '',
      lastName: fields.lastName ?? user.lastName ?? '',
      title: fields.title === undefined ? user.title : fields.title,
      externalId: fields.externalId === undefined ? link?.externalId : fields.externalId,
    },
    given,
  );
  const doc = await deps.models.User.findById(user._id);
  if (!doc) notFound(id);
  const changed: string[] = [];
  if (fields.email !== undefined && normalizeEmail(fields.email) !== user.email) {
    const email = normalizeEmail(fields.email);
    if (await deps.models.User.exists({ email, _id: { $ne: user._id } })) throw new ScimError(409, `A user with userName ${email} already exists.`, 'uniqueness');
    doc.email = email;
    changed.push('email');
  }
  if (fields.firstName !== undefined && fields.firstName !== (user.firstName ?? '')) {
    doc.firstName = fields.firstName;
    changed.push('firstName');
  }
  if (fields.lastName !== undefined && fields.lastName !== (user.lastName ?? '')) {
    doc.lastName = fields.lastName;
    changed.push('lastName');
  }
  if (fields.title !== undefined && (fields.title ?? undefined) !== (user.title ?? undefined)) {
    doc.title = fields.title ?? undefined;
    changed.push('title');
  }
  if (changed.length) {
    try {
      // A value the store refuses is a 400 (toScimError), raised here before anything is written.
      await doc.validate();
      await doc.save();
    } catch (err) {
      if ((err as { code?: number }).code === 11000) throw new ScimError(409, `A user with userName ${doc.email} already exists.`, 'uniqueness');
      throw err;
    }
    await recordAudit(deps.models, { action: 'user.updated', actor: caller.actor, target: { id: user._id, email: doc.email }, details: { fields: changed, via: 'scim' } });
  }
  await setExternalId(deps, user._id, fields.externalId);
  if (fields.active === false) await deprovision(deps, user, link, caller, 'Deprovisioned by the identity provider (SCIM active=false).');
  if (fields.active === true) await reprovision(deps, user, link, caller);
  return getScimUser(deps, id);
}

/** The one offboarding rule: the SCIM token acts as an Administrator; a person's token never offboards its own account. */
function assertMayOffboard(user: StoredUser, caller: ScimCaller): void {
  const authority = offboardingAuthority({
    actor: { id: caller.processCaller.id, siteRole: caller.processCaller.role },
    leaver: { id: String(user._id), managerId: user.managerId ? String(user.managerId) : null },
    permission: 'processes:start',
  });
  if (authority === 'own_offboarding') throw new ScimError(403, `${user.email} cannot deprovision their own account; the identity provider or another Administrator may.`);
  if (isOffboardingRefusal(authority)) throw new ScimError(403, `Only an Administrator may deprovision ${user.email}.`);
}

async function deprovision(deps: ScimDeps, user: StoredUser, link: ScimLink | null, caller: ScimCaller, reason: string, extra: Record<string, Date> = {}): Promise<void> {
  if (user.status !== 'deactivated' && !link?.deprovisionedAt) {
    await requestOffboarding(deps, user, { requestedBy: caller.requestedBy, actor: caller.actor, source: 'scim' }, { reason, immediateLockout: true });
  }
  await deps.models.ScimLink.updateOne({ userId: user._id }, { $set: { deprovisionedAt: link?.deprovisionedAt ?? new Date(), ...extra } }, { upsert: true });
}

async function reprovision(deps: ScimDeps, user: StoredUser, link: ScimLink | null, caller: ScimCaller): Promise<void> {
  if (user.status === 'deactivated') {
    await reactivate(deps, user._id, caller.actor, { reason: 'Reactivated by the identity provider (SCIM active=true).', waitMs: 5_000 });
  } else if (link?.deprovisionedAt) {
    // Still being offboarded: cancelling before the deactivation undoes the lockout.
    if (await offboardingRunning(deps.temporal, String(user._id))) {
      await actOnOffboardingAs(deps, user, { requestedBy: caller.requestedBy, actor: caller.actor, source: 'scim', caller: caller.processCaller }, { action: 'cancel', reason: 'Reactivated by the identity provider (SCIM active=true).' });
    }
  }
  if (link?.deprovisionedAt) await deps.models.ScimLink.updateOne({ userId: user._id }, { $unset: { deprovisionedAt: '' } });
}

/**
 * DELETE: the provider no longer wants the account. tenure starts the offboarding (immediate
 * lockout) and marks the user deleted for SCIM (404 from now on); the offboarding's retention
 * period then deletes the account permanently, after its resources have been handed over.
 */
export async function deleteScimUser(deps: ScimDeps, id: string, caller: ScimCaller): Promise<void> {
  const { user, link } = await getScimUser(deps, id);
  assertMayOffboard(user, caller);
  await deprovision(deps, user, link, caller, 'Deleted by the identity provider (SCIM DELETE).', { deletedAt: new Date() });
  await recordAudit(deps.models, { action: 'user.scim_deleted', actor: caller.actor, target: { id: user._id, email: user.email } });
}

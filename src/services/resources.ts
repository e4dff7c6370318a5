/**
 * Owned resources (pipelines, tasks, tools): registered, renamed and removed by the platform's
 * services and by Administrators, and shown with owner and creator by name ("Deleted User" when
 * the creator was permanently deleted). Ownership changes go through transferResource (users.ts).
 */
import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import type { Resource, ResourceKind } from '../db/models/resource';
import { NotFoundError, UnprocessableError, ValidationError } from '../errors';
import { recordAudit, type AuditActor } from './audit';
import { displayName } from './user-view';
import { assertCanOwnResources, DELETED_USER_NAME } from './users';
import { readPage, type PageRequest } from './paging';

type StoredResource = Resource & { _id: Types.ObjectId; createdAt?: Date; updatedAt?: Date };

async function namesOf(models: Models, ids: Types.ObjectId[], serviceIds: Types.ObjectId[] = []): Promise<Map<string, string>> {
  const unique = [...new Set(ids.map(String))];
  const services = [...new Set(serviceIds.map(String))];
  const [users, credentials] = await Promise.all([
    unique.length ? models.User.find({ _id: { $in: unique } }, { email: 1, firstName: 1, lastName: 1, preferredName: 1 }).lean() : [],
    services.length ? models.ServiceCredential.find({ _id: { $in: services } }, { name: 1 }).lean() : [],
  ]);
  return new Map([...users.map((u) => [String(u._id), displayName(u)] as const), ...credentials.map((c) => [`service:${String(c._id)}`, c.name] as const)]);
}

function peopleOf(r: StoredResource): Types.ObjectId[] {
  return [r.ownerId, ...(r.createdBy ? [r.createdBy] : [])];
}

function servicesOf(r: StoredResource): Types.ObjectId[] {
  return r.createdByService ? [r.createdByService] : [];
}

function toApiResource(r: StoredResource, names: Map<string, string>) {
  const serviceName = r.createdByService ? (names.get(`service:${String(r.createdByService)}`) ?? null) : null;
  return {
    _id: String(r._id),
    kind: r.kind,
    name: r.name,
    description: r.description ?? undefined,
    externalId: r.externalId ?? undefined,
    ownerId: String(r.ownerId),
    ownerName: names.get(String(r.ownerId)) ?? DELETED_USER_NAME,
    createdBy: r.createdBy ? String(r.createdBy) : null,
    // A null creator is a user who was permanently deleted (an unknown id is treated the same),
    // or, for a resource a service registered naming no one, the service.
    creatorName: r.createdBy ? (names.get(String(r.createdBy)) ?? DELETED_USER_NAME) : (serviceName ?? DELETED_USER_NAME),
    createdByService: serviceName,
    createdAt: r.createdAt?.toISOString(),
    updatedAt: r.updatedAt?.toISOString(),
    transfers: (r.transfers ?? []).map((t) => ({
      fromUserId: String(t.fromUserId),
      toUserId: String(t.toUserId),
      at: t.at.toISOString(),
      byUserId: t.byUserId ? String(t.byUserId) : undefined,
      processId: t.processId ?? undefined,
      reason: t.reason ?? undefined,
    })),
  };
}

export type ApiResource = ReturnType<typeof toApiResource>;

export async function listResources(models: Models, filter: { ownerId?: string; createdBy?: string; kind?: ResourceKind }, page: PageRequest) {
  const query: Record<string, unknown> = {};
  if (filter.ownerId) query.ownerId = filter.ownerId;
  if (filter.createdBy) query.createdBy = filter.createdBy;
  if (filter.kind) query.kind = filter.kind;
  const { items: resources, page: info } = await readPage(
    page,
    (skip, limit) => models.Resource.find(query).sort({ kind: 1, name: 1, _id: 1 }).skip(skip).limit(limit).lean<StoredResource[]>(),
    () => models.Resource.countDocuments(query),
  );
  const names = await namesOf(models, resources.flatMap(peopleOf), resources.flatMap(servicesOf));
  return { page: info, resources: resources.map((r) => toApiResource(r, names)) };
}

export async function getResource(models: Models, id: Types.ObjectId | string): Promise<ApiResource> {
  const r = await models.Resource.findById(id).lean<StoredResource>();
  if (!r) throw new NotFoundError(`No resource with id ${String(id)}.`, 'resource_not_found');
  return toApiResource(r, await namesOf(models, peopleOf(r), servicesOf(r)));
}

/** Who asks: a user (API token) or a platform service (service credential). */
export type ResourceCaller = { type: 'user'; userId: Types.ObjectId; actor: AuditActor } | { type: 'service'; credentialId: Types.ObjectId; name: string; actor: AuditActor };

export interface NewResource {
  kind: ResourceKind;
  name: string;
  ownerId: Types.ObjectId;
  description?: string;
  externalId?: string;
  /** Only from a service: the person it registers the resource for (the creator shown). */
  createdBy?: Types.ObjectId;
}

const OWNER_CODES = { unknown: 'unknown_owner', inactive: 'owner_inactive' };

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number }).code === 11000;
}

/**
 * Registers a resource under `resourceId` (chosen by the caller, so a retried create lands on the
 * same document: a second insert of it is a duplicate `_id`, never a second resource). The owner
 * must be an active user. A user's own token makes them the creator; a service is recorded as
 * `createdByService` and `createdBy` is the user the request names, if any.
 */
export async function createResource(models: Models, resourceId: Types.ObjectId, input: NewResource, caller: ResourceCaller): Promise<ApiResource> {
  if (caller.type === 'user' && input.createdBy && !input.createdBy.equals(caller.userId)) {
    throw new UnprocessableError('The holder of the API token is the creator; createdBy is for service credentials.', 'creator_is_caller');
  }
  await assertCanOwnResources(models, input.ownerId, OWNER_CODES);
  const createdBy = caller.type === 'user' ? caller.userId : (input.createdBy ?? null);
  if (caller.type === 'service' && input.createdBy && !(await models.User.exists({ _id: input.createdBy }))) {
    throw new UnprocessableError(`No user with id ${String(input.createdBy)} to name as creator.`, 'unknown_creator');
  }
  try {
    await models.Resource.create({
      _id: resourceId,
      kind: input.kind,
      name: input.name,
      description: input.description,
      externalId: input.externalId,
      ownerId: input.ownerId,
      createdBy,
      createdByService: caller.type === 'service' ? caller.credentialId : undefined,
    });
  } catch (err) {
    // An earlier attempt of this same request stored it already.
    if (!isDuplicateKey(err)) throw err;
  }
  // The owner was checked before the write; check again after it, so a resource is never left
  // with an owner deactivated in between (the deactivation saw nothing to transfer).
  const stored = await models.Resource.findById(resourceId, { ownerId: 1 }).lean();
  if (!stored) throw new NotFoundError(`No resource with id ${String(resourceId)}.`, 'resource_not_found');
  const owner = await models.User.findById(stored.ownerId, { status: 1, email: 1 }).lean();
  if (owner?.status !== 'active') {
    await models.Resource.deleteOne({ _id: resourceId, ownerId: stored.ownerId });
    throw new UnprocessableError(`${owner?.email ?? String(stored.ownerId)} is no longer active; only an active user can own resources.`, OWNER_CODES.inactive);
  }
  const created = await getResource(models, resourceId);
  await recordAudit(models, {
    action: 'resource.created',
    actor: caller.actor,
    target: { id: input.ownerId },
    eventKey: `resource.created:${String(resourceId)}`,
    details: { resourceId: created._id, kind: created.kind, name: created.name, ownerId: created.ownerId, createdBy: created.createdBy, ...serviceDetails(caller) },
  });
  return created;
}

export interface ResourceChanges {
  name?: string;
  /** null clears it. */
  description?: string | null;
  externalId?: string | null;
}

/** Renames or re-describes a resource (its owner changes only through a transfer). */
export async function updateResource(models: Models, resourceId: Types.ObjectId, changes: ResourceChanges, caller: ResourceCaller): Promise<ApiResource> {
  const set: Record<string, string> = {};
  const unset: Record<string, ''> = {};
  for (const field of ['name', 'description', 'externalId'] as const) {
    const value = changes[field];
    if (value === undefined) continue;
    if (value === null) unset[field] = '';
    else set[field] = value;
  }
  if (!Object.keys(set).length && !Object.keys(unset).length) {
    throw new ValidationError('Send at least one of name, description, externalId.', undefined, 'nothing_to_change');
  }
  const before = await models.Resource.findOneAndUpdate({ _id: resourceId }, { ...(Object.keys(set).length ? { $set: set } : {}), ...(Object.keys(unset).length ? { $unset: unset } : {}) }, { returnDocument: 'before' }).lean();
  if (!before) throw new NotFoundError(`No resource with id ${String(resourceId)}.`, 'resource_not_found');
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of ['name', 'description', 'externalId'] as const) {
    if (changes[field] === undefined) continue;
    const from = before[field] ?? null;
    const to = changes[field] ?? null;
    if (from !== to) changed[field] = { from, to };
  }
  if (Object.keys(changed).length) {
    await recordAudit(models, { action: 'resource.updated', actor: caller.actor, target: { id: before.ownerId }, details: { resourceId: String(resourceId), kind: before.kind, changes: changed, ...serviceDetails(caller) } });
  }
  return getResource(models, resourceId);
}

/** Removes a resource; an offboarding that planned it skips it (it is no longer there to move). */
export async function deleteResource(models: Models, resourceId: Types.ObjectId, caller: ResourceCaller): Promise<ApiResource> {
  const removed = await models.Resource.findOneAndDelete({ _id: resourceId }).lean<StoredResource>();
  if (!removed) throw new NotFoundError(`No resource with id ${String(resourceId)}.`, 'resource_not_found');
  const view = toApiResource(removed, await namesOf(models, peopleOf(removed), servicesOf(removed)));
  await recordAudit(models, {
    action: 'resource.deleted',
    actor: caller.actor,
    target: { id: view.ownerId },
    eventKey: `resource.deleted:${String(resourceId)}`,
    details: { resourceId: view._id, kind: view.kind, name: view.name, ownerId: view.ownerId, ...serviceDetails(caller) },
  });
  return view;
}

function serviceDetails(caller: ResourceCaller) {
  return caller.type === 'service' ? { service: { id: String(caller.credentialId), name: caller.name } } : {};
}

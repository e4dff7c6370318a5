/**
 * Owned resources as the API shows them: owner and creator by name, "Deleted User" when the
 * creator was permanently deleted.
 */
import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import type { Resource, ResourceKind } from '../db/models/resource';
import { NotFoundError } from '../errors';
import { displayName } from './user-view';
import { DELETED_USER_NAME } from './users';
import { readPage, type PageRequest } from './paging';

type StoredResource = Resource & { _id: Types.ObjectId; createdAt?: Date; updatedAt?: Date };

async function namesOf(models: Models, ids: Types.ObjectId[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids.map(String))];
  if (!unique.length) return new Map();
  const users = await models.User.find({ _id: { $in: unique } }, { email: 1, firstName: 1, lastName: 1, preferredName: 1 }).lean();
  return new Map(users.map((u) => [String(u._id), displayName(u)]));
}

function toApiResource(r: StoredResource, names: Map<string, string>) {
  return {
    _id: String(r._id),
    kind: r.kind,
    name: r.name,
    ownerId: String(r.ownerId),
    ownerName: names.get(String(r.ownerId)) ?? DELETED_USER_NAME,
    createdBy: r.createdBy ? String(r.createdBy) : null,
    // A null creator is a user who was permanently deleted; an unknown id is treated the same.
    creatorName: r.createdBy ? (names.get(String(r.createdBy)) ?? DELETED_USER_NAME) : DELETED_USER_NAME,
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
  const names = await namesOf(models, resources.flatMap((r) => [r.ownerId, ...(r.createdBy ? [r.createdBy] : [])]));
  return { page: info, resources: resources.map((r) => toApiResource(r, names)) };
}

export async function getResource(models: Models, id: Types.ObjectId | string): Promise<ApiResource> {
  const r = await models.Resource.findById(id).lean<StoredResource>();
  if (!r) throw new NotFoundError(`No resource with id ${String(id)}.`, 'resource_not_found');
  const names = await namesOf(models, [r.ownerId, ...(r.createdBy ? [r.createdBy] : [])]);
  return toApiResource(r, names);
}

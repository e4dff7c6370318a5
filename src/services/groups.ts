/** Groups (shared workspaces). Membership lives on each user's `groups` list. */
import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import type { Group } from '../db/models/group';
import { ConflictError } from '../errors';
import { countSubjectDocuments } from '../db/count';
import { recordAudit, type Actor } from './audit';
import { readPage, type PageRequest } from './paging';

type StoredGroup = Group & { _id: Types.ObjectId; createdAt?: Date; updatedAt?: Date };

function toApiGroup(g: StoredGroup, memberCount: number) {
  return { _id: String(g._id), name: g.name, description: g.description ?? undefined, memberCount, createdAt: g.createdAt?.toISOString() };
}

export async function listGroups(models: Models, page: PageRequest) {
  const { items: groups, page: info } = await readPage(
    page,
    (skip, limit) => models.Group.find({}).sort({ name: 1 }).skip(skip).limit(limit).lean<StoredGroup[]>(),
    () => models.Group.countDocuments({}),
  );
  // One count per group on the page, each from the multikey { groups } index.
  const counts = await Promise.all(groups.map((g) => countSubjectDocuments(models.User, { groups: g._id })));
  return { page: info, groups: groups.map((g, i) => toApiGroup(g, counts[i]!)) };
}

export async function createGroup(models: Models, input: { name: string; description?: string }, actor: Actor) {
  const name = input.name.trim();
  if (await models.Group.exists({ name })) throw new ConflictError(`A group named "${name}" already exists.`, 'group_exists');
  let created;
  try {
    created = await models.Group.create({ name, description: input.description });
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw new ConflictError(`A group named "${name}" already exists.`, 'group_exists');
    throw err;
  }
  await recordAudit(models, { action: 'group.created', actor, details: { groupId: String(created._id), name } });
  return toApiGroup(created.toObject() as StoredGroup, 0);
}

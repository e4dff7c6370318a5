/** A small organization for offboarding tests: admin, manager, leaver (with sessions, tokens, groups, resources). */
import type { Types } from 'mongoose';
import { randomUUID } from 'node:crypto';
import type { Models } from '../../src/db/models';
import { ORG_SETTINGS_ID } from '../../src/db/models/org-settings';
import { issueAccessToken } from '../../src/security/access-tokens';
import { createSession } from '../../src/services/sessions';
import { seedResource, seedUser, type SeededUser } from '../helpers/users';

export interface Org {
  admin: SeededUser;
  manager: SeededUser;
  leaver: SeededUser;
  other: SeededUser;
  spare: SeededUser;
  resources: Array<{ _id: Types.ObjectId }>;
  groupId: Types.ObjectId;
}

export async function setPolicy(models: Models, policy: { approvalRequired?: boolean; retentionMs?: number | null; defaultNewOwnerId?: Types.ObjectId }): Promise<void> {
  const set: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(policy)) set[`offboarding.${k}`] = v;
  await models.OrgSettings.updateOne({ _id: ORG_SETTINGS_ID }, { $set: set }, { upsert: true, setDefaultsOnInsert: true });
}

export async function seedOrg(models: Models, options: { resources?: number } = {}): Promise<Org> {
  const tag = randomUUID().slice(0, 6);
  const admin = await seedUser(models, { email: `admin-${tag}@example.com`, siteRole: 'Administrators' });
  const manager = await seedUser(models, { email: `manager-${tag}@example.com`, siteRole: 'Users' });
  const leaver = await seedUser(models, { email: `leaver-${tag}@example.com`, siteRole: 'Users', managerId: manager.user._id });
  const other = await seedUser(models, { email: `other-${tag}@example.com`, siteRole: 'PowerUsers' });
  const spare = await seedUser(models, { email: `spare-${tag}@example.com`, siteRole: 'Users' });
  const group = await models.Group.create({ name: `group-${tag}` });
  await models.User.updateOne({ _id: leaver.user._id }, { $set: { groups: [group._id] } });
  await createSession(models, leaver.user._id, { ip: '127.0.0.1' }, { type: 'system' });
  await issueAccessToken(models, leaver.user._id, { name: 'second token' });
  const resources = [];
  const kinds = ['pipeline', 'task', 'tool'] as const;
  for (let i = 0; i < (options.resources ?? 3); i++) resources.push(await seedResource(models, leaver.user._id, { kind: kinds[i % 3], name: `r${i}-${tag}` }));
  return { admin, manager, leaver, other, spare, resources, groupId: group._id };
}

/** A resource whose stored history is corrupt, so every transfer of it fails. */
export async function seedUntransferableResource(models: Models, ownerId: Types.ObjectId): Promise<Types.ObjectId> {
  const res = await models.Resource.collection.insertOne({ kind: 'tool', name: `broken-${randomUUID().slice(0, 6)}`, ownerId, createdBy: ownerId, transfers: 'corrupt', createdAt: new Date(), updatedAt: new Date() } as never);
  return res.insertedId as unknown as Types.ObjectId;
}

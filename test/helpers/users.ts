import type { Types } from 'mongoose';
import { randomUUID } from 'node:crypto';
import type { Models } from '../../src/db/models';
import type { SiteRole } from '../../src/domain/roles';
import type { UserStatus } from '../../src/domain/user-state';
import { issueAccessToken } from '../../src/security/access-tokens';
import type { StoredUser } from '../../src/services/users';

export interface SeededUser {
  user: StoredUser;
  /** A live API token of this user ("Bearer <token>"). */
  token: string;
  auth: { authorization: string };
}

/** Writes a user straight into the store (test set-up, not the code under test) with an API token. */
export async function seedUser(
  models: Models,
  fields: { email?: string; siteRole?: SiteRole; status?: UserStatus; firstName?: string; lastName?: string; managerId?: Types.ObjectId; hrEmployeeId?: string } = {},
): Promise<SeededUser> {
  const created = await models.User.create({
    email: fields.email ?? `user-${randomUUID().slice(0, 8)}@example.com`,
    firstName: fields.firstName ?? 'Test',
    lastName: fields.lastName ?? 'User',
    siteRole: fields.siteRole ?? 'Users',
    status: fields.status ?? 'active',
    managerId: fields.managerId,
    hrEmployeeId: fields.hrEmployeeId,
    deactivatedAt: fields.status === 'deactivated' ? new Date() : undefined,
  });
  const { token } = await issueAccessToken(models, created._id);
  return { user: created.toObject() as StoredUser, token, auth: { authorization: `Bearer ${token}` } };
}

export async function seedResource(models: Models, ownerId: Types.ObjectId, fields: { kind?: 'pipeline' | 'task' | 'tool'; name?: string } = {}) {
  return models.Resource.create({ kind: fields.kind ?? 'pipeline', name: fields.name ?? `res-${randomUUID().slice(0, 6)}`, ownerId, createdBy: ownerId });
}

/** Everything a refused request must leave as it was, as one comparable string. */
export async function storeSnapshot(m: Models): Promise<string> {
  const [users, resources, groups, tokens, audit, sessions] = await Promise.all([
    m.User.find({}, { updatedAt: 0 }).sort({ _id: 1 }).lean(),
    m.Resource.find({}).sort({ _id: 1 }).lean(),
    m.Group.find({}).sort({ _id: 1 }).lean(),
    m.AccessToken.find({}, { lastUsedAt: 0 }).sort({ _id: 1 }).lean(),
    m.AuditEvent.countDocuments({}),
    m.Session.countDocuments({}),
  ]);
  return JSON.stringify({ users, resources, groups, tokens, audit, sessions });
}

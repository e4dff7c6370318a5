/**
 * The first Administrator of a fresh installation, with an API token to call the API with.
 * Refused while an active Administrator exists, unless forced (a locked-out operator's way back).
 */
import type { Models } from '../db/models';
import { normalizeEmail } from '../domain/email';
import { ConflictError } from '../errors';
import { issueAccessToken } from '../security/access-tokens';
import { recordAudit, SYSTEM_ACTOR } from './audit';
import { assertSeatAvailable, type StoredUser } from './users';

export interface BootstrapInput {
  email: string;
  firstName?: string;
  lastName?: string;
  /** Create (or promote) even though an active Administrator exists; skips the plan check. */
  force?: boolean;
}

export interface BootstrapResult {
  user: StoredUser;
  /** Whether the account was created (false: an existing account was made an active Administrator). */
  created: boolean;
  tokenId: string;
  /** The whole API token: printed once, never stored. */
  token: string;
}

export async function bootstrapAdministrator(models: Models, input: BootstrapInput): Promise<BootstrapResult> {
  const email = normalizeEmail(input.email);
  const existingAdmin = await models.User.findOne({ siteRole: 'Administrators', status: 'active' }, { email: 1 }).lean();
  if (existingAdmin && !input.force) {
    throw new ConflictError(`An Administrator already exists (${existingAdmin.email}); use the API, or pass --force to add another.`, 'administrator_exists');
  }
  const existing = await models.User.findOne({ email }).lean<StoredUser>();
  let user: StoredUser;
  if (existing) {
    user = (await models.User.findOneAndUpdate(
      { _id: existing._id },
      // The way back for a locked-out operator: any offboarding lockout is lifted too.
      { $set: { siteRole: 'Administrators', status: 'active' }, $unset: { deactivatedAt: '', lockout: '' } },
      { new: true },
    ).lean<StoredUser>())!;
  } else {
    if (!input.force) await assertSeatAvailable(models);
    const doc = await models.User.create({ email, firstName: input.firstName ?? '', lastName: input.lastName ?? '', siteRole: 'Administrators', status: 'active' });
    user = doc.toObject() as StoredUser;
  }
  const issued = await issueAccessToken(models, user._id, { name: 'bootstrap', scope: ['api'] });
  await recordAudit(models, {
    action: 'user.bootstrapped',
    actor: SYSTEM_ACTOR,
    target: { id: user._id, email },
    details: { created: !existing, forced: !!input.force, tokenId: issued.tokenId, ...(existing ? { previousRole: existing.siteRole, previousStatus: existing.status } : {}) },
  });
  return { user, created: !existing, tokenId: issued.tokenId, token: issued.token };
}

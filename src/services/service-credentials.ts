/** Issuing, listing and revoking service credentials (Administrators), audited. */
import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import { NotFoundError } from '../errors';
import { issueServiceCredential } from '../security/service-credentials';
import { recordAudit, type Actor } from './audit';

interface StoredCredential {
  credentialId: string;
  name: string;
  createdAt: Date;
  createdBy: unknown;
  lastUsedAt?: Date | null;
  revokedAt?: Date | null;
}

function toApiCredential(c: StoredCredential) {
  return {
    id: c.credentialId,
    name: c.name,
    createdAt: c.createdAt.toISOString(),
    createdBy: String(c.createdBy),
    lastUsedAt: c.lastUsedAt ? c.lastUsedAt.toISOString() : null,
    revokedAt: c.revokedAt ? c.revokedAt.toISOString() : null,
  };
}

/** Issues a credential; the secret is in the answer once and never stored. */
export async function createServiceCredential(models: Models, name: string, createdBy: Types.ObjectId, actor: Actor) {
  const { record, credential } = await issueServiceCredential(models, { name, createdBy });
  await recordAudit(models, { action: 'service_credential.issued', actor, details: { credentialId: record.credentialId, name } });
  return { ...toApiCredential(record), credential };
}

export async function listServiceCredentials(models: Models, options: { includeRevoked: boolean }) {
  const filter = options.includeRevoked ? {} : { revokedAt: null };
  const found = await models.ServiceCredential.find(filter).sort({ createdAt: -1, _id: -1 }).limit(500).lean();
  return found.map(toApiCredential);
}

/** Revokes at once (the next request with it is a 401). A second call changes nothing and says so. */
export async function revokeServiceCredential(models: Models, credentialId: string, actor: Actor) {
  const at = new Date();
  const revoked = await models.ServiceCredential.findOneAndUpdate(
    { credentialId, revokedAt: null },
    { $set: { revokedAt: at, ...(actor.type === 'user' && actor.id ? { revokedBy: actor.id } : {}) } },
    { returnDocument: 'after' },
  ).lean();
  if (revoked) {
    await recordAudit(models, { action: 'service_credential.revoked', actor, details: { credentialId, name: revoked.name } });
    return { ...toApiCredential(revoked), alreadyRevoked: false };
  }
  const existing = await models.ServiceCredential.findOne({ credentialId }).lean();
  if (!existing) throw new NotFoundError(`No service credential with id ${credentialId}.`, 'service_credential_not_found');
  return { ...toApiCredential(existing), alreadyRevoked: true };
}

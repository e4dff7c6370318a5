/**
 * Service credentials: `tsc_<credentialId>_<secret>`, stored as the SHA-256 of the secret and
 * checked like API tokens (lookup by the public id, constant-time comparison of the hashes).
 */
import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import { constantTimeEqual, generateSecret, hashSecret } from './secrets';

const CREDENTIAL_PATTERN = /^tsc_([A-Za-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

/** Whether a presented bearer value is shaped as a service credential (not an API token). */
export function looksLikeServiceCredential(presented: string): boolean {
  return presented.startsWith('tsc_');
}

export async function issueServiceCredential(models: Models, input: { name: string; createdBy: Types.ObjectId }) {
  const credentialId = generateSecret(12).replace(/[^A-Za-z0-9]/g, '').padEnd(16, '0').slice(0, 16);
  const secret = generateSecret(32);
  const record = await models.ServiceCredential.create({ credentialId, name: input.name, hash: hashSecret(secret), createdAt: new Date(), createdBy: input.createdBy });
  return { record: record.toObject(), credential: `tsc_${credentialId}_${secret}` };
}

/** The live credential a presented secret belongs to, or undefined (unknown, wrong secret, revoked). */
export async function verifyServiceCredential(models: Models, presented: string) {
  const match = CREDENTIAL_PATTERN.exec(presented);
  if (!match) return undefined;
  const [, credentialId, secret] = match;
  const record = await models.ServiceCredential.findOne({ credentialId }).lean();
  const ok = constantTimeEqual(hashSecret(secret!), record?.hash ?? hashSecret('no-such-credential'));
  if (!record || !ok || record.revokedAt) return undefined;
  return record;
}

/** Records a use; a revoked credential is never touched (the revoke is the only writer of revokedAt). */
export async function recordServiceCredentialUse(models: Models, credentialId: string, at: Date): Promise<void> {
  await models.ServiceCredential.updateOne({ credentialId, revokedAt: null }, { $max: { lastUsedAt: at } });
}

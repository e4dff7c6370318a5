import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import { constantTimeEqual, generateSecret, hashSecret } from './secrets';

const TOKEN_PATTERN = /^tnr_([A-Za-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export interface IssuedToken {
  tokenId: string;
  /** The whole token; shown once, never stored. */
  token: string;
}

export async function issueAccessToken(models: Models, userId: Types.ObjectId, options: { name?: string; scope?: string[]; expiresAt?: Date } = {}): Promise<IssuedToken> {
  const tokenId = generateSecret(12).replace(/[^A-Za-z0-9]/g, '').padEnd(16, '0').slice(0, 16);
  const secret = generateSecret(32);
  await models.AccessToken.create({
    tokenId,
    userId,
    name: options.name ?? 'API token',
    scope: options.scope ?? ['api'],
    hash: hashSecret(secret),
    createdAt: new Date(),
    expiresAt: options.expiresAt,
  });
  return { tokenId, token: `tnr_${tokenId}_${secret}` };
}

/** Looks a presented token up by its public id and checks its secret in constant time. */
export async function verifyAccessToken(models: Models, presented: string) {
  const match = TOKEN_PATTERN.exec(presented);
  if (!match) return undefined;
  const [, tokenId, secret] = match;
  const record = await models.AccessToken.findOne({ tokenId }).lean();
  const expected = record?.hash ?? hashSecret('no-such-token');
  const ok = constantTimeEqual(hashSecret(secret!), expected);
  if (!record || !ok) return undefined;
  return tokenAuthenticates(record) ? record : undefined;
}

/**
 * Whether a stored token still lets its holder in. The authenticator and the offboarding
 * verification both ask this, so "clean" can never be reported for a token that authenticates.
 */
export function tokenAuthenticates(record: { revokedAt?: Date | null; expiresAt?: Date | null }, now = new Date()): boolean {
  if (record.revokedAt) return false;
  return !record.expiresAt || record.expiresAt.getTime() > now.getTime();
}

/**
 * Records one use of a token: its own usage-log document, and `lastUsedAt` on the token through
 * a filter that excludes revoked tokens. The revoke is the only writer of a token's revocation,
 * so no use racing with a lockout can bring a revoked token back.
 */
export async function recordTokenUse(models: Models, use: { tokenId: string; userId: Types.ObjectId; at: Date; method: string; path: string; ip: string; status: number }): Promise<void> {
  await Promise.all([
    models.AccessToken.updateOne({ tokenId: use.tokenId, revokedAt: null }, { $max: { lastUsedAt: use.at } }),
    models.TokenUsage.create(use),
  ]);
}

/** Revokes every live token of a user; returns how many were revoked. Idempotent. */
export async function revokeUserTokens(models: Models, userId: Types.ObjectId, reason: string, at = new Date()): Promise<number> {
  const result = await models.AccessToken.updateMany({ userId, revokedAt: null }, { $set: { revokedAt: at, revokedReason: reason } });
  return result.modifiedCount;
}

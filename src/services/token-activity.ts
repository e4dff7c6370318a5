/** Access-token records and their usage log as readers see them: never a hash or a secret. */
import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import type { AccessToken, TokenUsage } from '../db/models/access-token';

export function toApiToken(t: AccessToken) {
  return {
    tokenId: t.tokenId,
    name: t.name ?? 'API token',
    scope: t.scope ?? [],
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString(),
    expiresAt: t.expiresAt?.toISOString(),
    revokedAt: t.revokedAt?.toISOString(),
    revokedReason: t.revokedReason ?? undefined,
    active: !t.revokedAt && !(t.expiresAt && t.expiresAt.getTime() <= Date.now()),
  };
}

export function toApiUsage(u: TokenUsage) {
  return {
    tokenId: u.tokenId,
    at: u.at.toISOString(),
    method: u.method ?? undefined,
    path: u.path ?? undefined,
    ip: u.ip ?? undefined,
    status: u.status ?? undefined,
  };
}

export async function listTokens(models: Models, userId: Types.ObjectId) {
  const tokens = await models.AccessToken.find({ userId }, { hash: 0 }).sort({ createdAt: -1 }).limit(500).lean<AccessToken[]>();
  return tokens.map(toApiToken);
}

export async function tokenUsageLog(models: Models, userId: Types.ObjectId, filter: { tokenId?: string }, page: { limit: number; offset: number }) {
  const query: Record<string, unknown> = { userId };
  if (filter.tokenId) query.tokenId = filter.tokenId;
  const [total, usage] = await Promise.all([
    models.TokenUsage.countDocuments(query),
    models.TokenUsage.find(query).sort({ at: -1 }).skip(page.offset).limit(page.limit).lean<TokenUsage[]>(),
  ]);
  return { total, usage: usage.map(toApiUsage) };
}

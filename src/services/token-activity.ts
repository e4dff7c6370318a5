/** Access-token records and their usage log as readers see them: never a hash or a secret. */
import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import type { AccessToken, TokenUsage } from '../db/models/access-token';
import { tokenAuthenticates } from '../security/access-tokens';
import { readPage, type PageRequest } from './paging';

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
    active: tokenAuthenticates(t),
  };
}

function toApiUsage(u: TokenUsage) {
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

/** Index { userId: 1, at: -1 }, or { tokenId: 1, at: -1 } with a token filter: no sort stage. */
export async function tokenUsageLog(models: Models, userId: Types.ObjectId, filter: { tokenId?: string }, page: PageRequest) {
  const query: Record<string, unknown> = { userId };
  if (filter.tokenId) query.tokenId = filter.tokenId;
  const { items, page: info } = await readPage(
    page,
    (skip, limit) => models.TokenUsage.find(query).sort({ at: -1 }).skip(skip).limit(limit).lean<TokenUsage[]>(),
    () => models.TokenUsage.countDocuments(query),
  );
  return { page: info, usage: items.map(toApiUsage) };
}

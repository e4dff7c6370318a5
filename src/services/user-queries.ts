/**
 * Read side of the user store for the API: filters, text search, visibility by role. Every
 * filter is built from validated values; user text reaches MongoDB only escaped and anchored.
 */
import type { Models } from '../db/models';
import { escapeRegex } from '../domain/email';
import type { SiteRole } from '../domain/roles';
import type { UserStatus } from '../domain/user-state';
import { NotFoundError, ValidationError } from '../errors';
import { readPage, type PageInfo, type PageRequest } from './paging';
import { emailPatternQuery, getUserByIdOrEmail, type StoredUser } from './users';

const MAX_SEARCH_WORDS = 5;

/**
 * `q=` text search: every word must be the prefix of one of the user's searchTokens (words of
 * names and email). Anchored, escaped prefixes can use the multikey searchTokens index.
 */
export function textSearchFilter(q: string): Record<string, unknown> | undefined {
  const words = [...new Set(q.toLowerCase().split(/\s+/).filter(Boolean))];
  if (!words.length) return undefined;
  if (words.length > MAX_SEARCH_WORDS) throw new ValidationError(`Search with at most ${MAX_SEARCH_WORDS} words.`, undefined, 'invalid_query');
  return { $and: words.map((w) => ({ searchTokens: new RegExp(`^${escapeRegex(w)}`) })) };
}

export interface UserFilter {
  /** Statuses the caller may read; a requested status outside them is refused by the caller. */
  statuses: UserStatus[];
  siteRoles?: SiteRole[];
  q?: string;
  email?: string;
}

export function buildUserFilter(filter: UserFilter): Record<string, unknown> {
  const query: Record<string, unknown> = { status: { $in: filter.statuses } };
  if (filter.siteRoles?.length) query.siteRole = { $in: filter.siteRoles };
  if (filter.email) Object.assign(query, emailPatternQuery(filter.email));
  const text = filter.q ? textSearchFilter(filter.q) : undefined;
  if (text) Object.assign(query, text);
  return query;
}

const SORT_FIELDS: Record<string, Record<string, 1 | -1>> = {
  createdAt: { createdAt: 1, _id: 1 },
  '-createdAt': { createdAt: -1, _id: -1 },
  email: { email: 1 },
  '-email': { email: -1 },
  lastLoginAt: { lastLoginAt: 1, _id: 1 },
  '-lastLoginAt': { lastLoginAt: -1, _id: -1 },
};

export async function listUsers(models: Models, filter: UserFilter, page: PageRequest & { sort?: string }): Promise<{ page: PageInfo; users: StoredUser[] }> {
  const query = buildUserFilter(filter);
  const sort = SORT_FIELDS[page.sort ?? '-createdAt'] ?? SORT_FIELDS['-createdAt']!;
  const { items, page: info } = await readPage(
    page,
    (skip, limit) => models.User.find(query).sort(sort).skip(skip).limit(limit).lean<StoredUser[]>(),
    () => models.User.countDocuments(query),
  );
  return { page: info, users: items };
}

/**
 * The email search: exactly one user among those the caller may read; 400 when several match.
 * Two users are enough to tell, and no order is needed to tell it, so the read stops at the
 * second match: IXSCAN email_1 (exact, prefix) or emailDomain_1_email_1 (domain), LIMIT 2.
 */
export async function findOneByPattern(models: Models, pattern: string, statuses: UserStatus[]): Promise<StoredUser> {
  const query = { ...emailPatternQuery(pattern), status: { $in: statuses } };
  const found = await models.User.find(query).limit(2).lean<StoredUser[]>();
  if (found.length === 0) throw new NotFoundError(`No user matches ${pattern.slice(0, 254)}.`, 'user_not_found');
  if (found.length > 1) {
    throw new ValidationError(`More than one user matches ${pattern.slice(0, 254)}; use an exact email or a narrower pattern.`, undefined, 'multiple_matches');
  }
  return found[0]!;
}

/** Active users by email pattern, by id list, or both. */
export async function listActiveUsers(models: Models, input: { email?: string; ids?: string[] }, page: PageRequest): Promise<{ page: PageInfo; users: StoredUser[] }> {
  const query: Record<string, unknown> = { status: 'active' };
  if (input.email) Object.assign(query, emailPatternQuery(input.email));
  if (input.ids) query._id = { $in: input.ids };
  const { items, page: info } = await readPage(
    page,
    (skip, limit) => models.User.find(query).sort({ email: 1 }).skip(skip).limit(limit).lean<StoredUser[]>(),
    () => models.User.countDocuments(query),
  );
  return { page: info, users: items };
}

/**
 * A user the caller may see. A user in a status the caller may not read is reported exactly
 * like an absent one, so a reader cannot learn that a deactivated account exists.
 */
export async function getVisibleUser(models: Models, idOrEmail: string, statuses: UserStatus[]): Promise<StoredUser> {
  const user = await getUserByIdOrEmail(models, idOrEmail);
  if (!statuses.includes(user.status)) {
    throw new NotFoundError(`No user ${idOrEmail.includes('@') ? 'with email' : 'with id'} ${idOrEmail.slice(0, 254)}.`, 'user_not_found');
  }
  return user;
}

/**
 * Building blocks of the API's zod schemas. Objects are strict (unknown keys are refused; the
 * app refuses to start a route whose schema is not, see route-rules.ts), strings are bounded,
 * free text follows the one text rule, and query numbers are parsed from digits only, so
 * `{"$gt": ""}` or `limit=1e9` is a 400 before any handler runs.
 */
import { z } from 'zod';
import { SITE_ROLES } from '../../domain/roles';
import { freeText } from '../../domain/text';
import { USER_STATUSES } from '../../domain/user-state';

export { freeText };

const OBJECT_ID_PATTERN = /^[0-9a-fA-F]{24}$/;

export const objectIdString = z.string().regex(OBJECT_ID_PATTERN, 'must be 24 hexadecimal characters');
export const siteRoleSchema = z.enum(SITE_ROLES);
export const userStatusSchema = z.enum(USER_STATUSES);

/** {idOrEmail}: a MongoDB id or a whole email address (a malformed id is a 400 from the service). */
export const idOrEmailParams = z.strictObject({
  idOrEmail: freeText(254).describe('A user id (24 hexadecimal characters) or a complete email address'),
});

export const idParams = z.strictObject({ id: objectIdString });

/** A non-negative integer query parameter written in digits. */
export function intQuery(min: number, max: number, fallback: number) {
  return z
    .string()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback);
}

/** `true` or `false` in a query string. */
export const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

export const pagingQuery = {
  limit: intQuery(1, 200, 50).describe('Page size (1-200, default 50)'),
  offset: intQuery(0, 100_000, 0).describe('Items to skip (default 0)'),
  count: booleanQuery.default(false).describe('Also return `total`, the number of all matches (counts them; off by default)'),
};

export const pageMeta = z.object({
  limit: z.number().int(),
  offset: z.number().int(),
  hasMore: z.boolean().describe('Whether another page follows'),
  total: z.number().int().optional().describe('Number of all matches; only with count=true'),
});

/** A comma-separated list of values from a fixed set, e.g. `status=active,pending`. */
export function csvEnumQuery<T extends readonly [string, ...string[]]>(values: T) {
  const item = z.enum(values);
  return z
    .string()
    .max(200)
    .transform((text) => [...new Set(text.split(',').map((v) => v.trim()).filter(Boolean))])
    .pipe(z.array(item).min(1).max(values.length));
}

/** A comma-separated list of ids, at most `max` of them. */
export function csvIdsQuery(max: number) {
  return z
    .string()
    .max(max * 25)
    .transform((text) => [...new Set(text.split(',').map((v) => v.trim()).filter(Boolean))])
    .pipe(z.array(objectIdString).min(1).max(max));
}

/** What went wrong: the inside of the error envelope, also used for the per-item errors of bulk answers. */
export const errorDetailSchema = z
  .object({
    code: z.string().describe('Machine-readable code, e.g. invalid_request, missing_token, forbidden'),
    message: z.string().describe('What went wrong, in a sentence'),
    details: z.unknown().optional().describe('More about the error, e.g. the invalid fields'),
  })
  .meta({ id: 'ErrorDetail' });

/**
 * The error envelope of every API error. Its `id` makes it one component (`Error`) of the OpenAPI
 * document, referenced by every error response.
 */
export const errorBodySchema = z.object({ error: errorDetailSchema }).meta({ id: 'Error' });

/** The documented error answers of a route: `{ "error": { "code", "message" } }`. */
export function errorResponses(...statuses: Array<400 | 401 | 403 | 404 | 409 | 410 | 413 | 414 | 415 | 422 | 429 | 503>) {
  return Object.fromEntries(statuses.map((s) => [s, errorBodySchema])) as Record<number, typeof errorBodySchema>;
}

/** Every authenticated route can answer 400 (bad input), 401 (no or bad token) and 403 (role). */
export const AUTH_ERRORS = [400, 401, 403] as const;

export { SITE_ROLES, USER_STATUSES };

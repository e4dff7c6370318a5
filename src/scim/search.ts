/**
 * The query of a user list, from GET /Users parameters or a SearchRequest body
 * (POST /.search, RFC 7644 §3.4.3). Sorting is not supported (ServiceProviderConfig says so):
 * `sortBy` and `sortOrder` are ignored and every list comes in its one stable order.
 */
import type { AttributeSelection } from './attributes';
import { attributeList } from './attributes';
import { ScimError } from './errors';
import { SEARCH_REQUEST_SCHEMA } from './schema-names';
import { attribute } from './user-resource';

export interface UserQuery extends AttributeSelection {
  filter?: string;
  startIndex: number;
  count: number;
}

function integer(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new ScimError(400, `${name} must be an integer.`, 'invalidValue');
  return value;
}

export function parseSearchRequest(body: unknown, defaultCount: number): UserQuery {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ScimError(400, 'The body must be a SearchRequest object.', 'invalidSyntax');
  const object = body as Record<string, unknown>;
  const schemas = attribute(object, 'schemas');
  if (schemas !== undefined && (!Array.isArray(schemas) || !schemas.some((s) => String(s).toLowerCase() === SEARCH_REQUEST_SCHEMA.toLowerCase()))) {
    throw new ScimError(400, `schemas must be ["${SEARCH_REQUEST_SCHEMA}"].`, 'invalidSyntax');
  }
  const filter = attribute(object, 'filter');
  if (filter !== undefined && filter !== null && typeof filter !== 'string') throw new ScimError(400, 'filter must be a string.', 'invalidFilter');
  return {
    filter: typeof filter === 'string' ? filter.trim() || undefined : undefined,
    startIndex: integer(attribute(object, 'startIndex'), 'startIndex', 1),
    count: integer(attribute(object, 'count'), 'count', defaultCount),
    attributes: attributeList(attribute(object, 'attributes'), 'attributes', 'body'),
    excludedAttributes: attributeList(attribute(object, 'excludedAttributes'), 'excludedAttributes', 'body'),
  };
}

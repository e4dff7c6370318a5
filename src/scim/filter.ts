/**
 * The SCIM filters identity providers send for users (RFC 7644 §3.4.2.2), parsed with
 * scim2-parse-filter and narrowed to what tenure can answer from an index:
 *
 *   userName eq "x"                      (Okta, Entra lookups)
 *   emails[type eq "work"].value eq "x"  emails.value eq "x"   emails[value eq "x"]
 *   externalId eq "x"                    id eq "x"
 *   … joined with `and`
 *
 * Anything else is refused with `invalidFilter` rather than answered wrongly.
 */
import { parse, type Compare, type Filter, type LogExp, type ValuePath } from 'scim2-parse-filter';
import { ScimError } from './errors';
import { normalizeAttributePath } from './schema-names';

export type UserCondition = { attribute: 'email' | 'externalId' | 'id'; value: string } | { attribute: 'none' };

const MAX_FILTER_LENGTH = 1000;

function refuse(detail: string): never {
  throw new ScimError(400, detail, 'invalidFilter');
}

function stringValue(value: unknown, attribute: string): string {
  if (typeof value !== 'string') refuse(`The value compared with ${attribute} must be a string.`);
  return value;
}

function fromNode(node: Filter, out: UserCondition[]): void {
  switch (node.op) {
    case 'and':
      for (const f of (node as LogExp).filters) fromNode(f, out);
      return;
    case 'eq': {
      const { attrPath, compValue } = node as Compare;
      const path = normalizeAttributePath(attrPath);
      if (path === 'username' || path === 'emails.value' || path === 'emails') out.push({ attribute: 'email', value: stringValue(compValue, attrPath) });
      else if (path === 'externalid') out.push({ attribute: 'externalId', value: stringValue(compValue, attrPath) });
      else if (path === 'id') out.push({ attribute: 'id', value: stringValue(compValue, attrPath) });
      else refuse(`Filtering on "${attrPath}" is not supported; use userName, emails.value, externalId or id.`);
      return;
    }
    case '[]': {
      const { attrPath, valFilter } = node as ValuePath;
      if (normalizeAttributePath(attrPath) !== 'emails') refuse(`Filtering inside "${attrPath}" is not supported; only emails[...] is.`);
      fromEmailValueFilter(valFilter, out);
      return;
    }
    default:
      refuse(`The operator "${node.op}" is not supported; use eq, optionally joined with and.`);
  }
}

/** Inside emails[...]: type eq "work" (every user's one email is the primary work address), primary eq true, value eq "x". */
function fromEmailValueFilter(node: Filter, out: UserCondition[]): void {
  if (node.op === 'and') {
    for (const f of (node as LogExp).filters) fromEmailValueFilter(f, out);
    return;
  }
  if (node.op !== 'eq') refuse(`The operator "${node.op}" is not supported inside emails[...]; use eq.`);
  const { attrPath, compValue } = node as Compare;
  const path = normalizeAttributePath(attrPath);
  if (path === 'type') {
    if (String(compValue).toLowerCase() !== 'work') out.push({ attribute: 'none' });
  } else if (path === 'primary') {
    if (compValue !== true && String(compValue).toLowerCase() !== 'true') out.push({ attribute: 'none' });
  } else if (path === 'value') {
    out.push({ attribute: 'email', value: stringValue(compValue, 'emails.value') });
  } else {
    refuse(`Filtering on emails.${attrPath} is not supported; use type, primary or value.`);
  }
}

/** Parses a filter into conditions that must all hold. */
export function parseUserFilter(filter: string): UserCondition[] {
  if (filter.length > MAX_FILTER_LENGTH) refuse(`The filter is longer than ${MAX_FILTER_LENGTH} characters.`);
  let ast: Filter;
  try {
    ast = parse(filter);
  } catch (err) {
    refuse(`The filter could not be parsed: ${(err as Error).message}.`);
  }
  const conditions: UserCondition[] = [];
  fromNode(ast, conditions);
  return conditions;
}

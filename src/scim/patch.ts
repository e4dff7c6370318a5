/**
 * SCIM PATCH (RFC 7644 §3.5.2) for users, as Okta and Entra send it:
 *   Okta:  { op: "replace", value: { active: false } }
 *   Entra: { op: "Replace", path: "active", value: "False" }
 *          { op: "Add", path: "emails[type eq \"work\"].value", value: "x@y" }
 *          { op: "Replace", path: "name.givenName", value: "Ann" }
 * Operation names in any letter case. Every value is checked by the same rules as POST and
 * PUT (the email rule, the text rule) before anything is stored.
 *
 * What tenure does with each attribute:
 * - userName, emails (one work address, the same), name.givenName/familyName, title,
 *   externalId, active: kept; `remove` clears name parts, title and externalId; userName,
 *   emails and active cannot be removed (400 mutability).
 * - displayName, name.formatted: derived from the name; values sent are checked and ignored
 *   (Entra sends them), removing them is refused (400 mutability). So are id and meta.
 * - The enterprise extension's employeeNumber and manager are set by the HR system: any
 *   change over SCIM, the whole extension's removal included, is refused (400 mutability).
 * - Anything else (phone numbers, addresses, other extension attributes) is not kept.
 */
import { ScimError } from './errors';
import { ENTERPRISE_USER_SCHEMA, normalizeAttributePath, PATCH_OP_SCHEMA } from './schema-names';
import { attribute, MAX_NAME_LENGTH, scimBoolean, scimEmail, scimString, workEmail, type ScimUserFields } from './user-resource';

type Op = 'add' | 'replace' | 'remove';

const MAX_OPERATIONS = 100;
const WORK_EMAIL_PATHS = new Set(['emails[type eq "work"].value', "emails[type eq 'work'].value", 'emails[primary eq true].value', 'emails.value']);
const ENTERPRISE = ENTERPRISE_USER_SCHEMA.toLowerCase();
/** Enterprise attributes tenure keeps (from the HR system); the others are not kept. */
const HR_ATTRIBUTES = new Set(['employeenumber', 'manager', 'manager.value', 'manager.$ref', 'manager.displayname']);
const DERIVED = new Set(['displayname', 'name.formatted', 'id', 'meta', 'schemas']);

function readOnlyFromHr(path: string): never {
  throw new ScimError(400, `${path} is set by the HR system and read-only over SCIM.`, 'mutability');
}

function applyEnterprise(op: Op, sub: string, value: unknown): void {
  if (sub === '') {
    if (op === 'remove') readOnlyFromHr(ENTERPRISE_USER_SCHEMA);
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ScimError(400, `${ENTERPRISE_USER_SCHEMA} must be an object.`, 'invalidValue');
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) applyEnterprise(op, k.toLowerCase(), v);
    return;
  }
  if (HR_ATTRIBUTES.has(sub)) readOnlyFromHr(`${ENTERPRISE_USER_SCHEMA}:${sub}`);
  if (sub === 'manager' || sub.startsWith('manager.')) readOnlyFromHr(`${ENTERPRISE_USER_SCHEMA}:manager`);
  // department, costCenter, organization, division: not kept.
}

function apply(fields: ScimUserFields, op: Op, path: string, value: unknown): void {
  const p = normalizeAttributePath(path).replace(/\s+/g, ' ');
  const removing = op === 'remove';
  if (p === ENTERPRISE || p.startsWith(`${ENTERPRISE}:`)) {
    applyEnterprise(op, p.slice(ENTERPRISE.length + 1), value);
    return;
  }
  if (DERIVED.has(p) || p.startsWith('meta.')) {
    if (removing) throw new ScimError(400, `${path} is read-only; it cannot be removed.`, 'mutability');
    if (p === 'displayname' || p === 'name.formatted') scimString(value, path, MAX_NAME_LENGTH);
    return;
  }
  switch (p) {
    case 'active':
      if (removing) throw new ScimError(400, 'active cannot be removed; replace it with true or false.', 'mutability');
      fields.active = scimBoolean(value, 'active');
      return;
    case 'username':
      if (removing) throw new ScimError(400, 'userName cannot be removed.', 'mutability');
      fields.email = scimEmail(value, 'userName');
      return;
    case 'emails':
      if (removing) throw new ScimError(400, "The user's email cannot be removed.", 'mutability');
      fields.email = workEmail(Array.isArray(value) ? value : [value]) ?? fields.email;
      return;
    case 'name.givenname':
      fields.firstName = removing ? '' : scimString(value, 'name.givenName', MAX_NAME_LENGTH);
      return;
    case 'name.familyname':
      fields.lastName = removing ? '' : scimString(value, 'name.familyName', MAX_NAME_LENGTH);
      return;
    case 'name': {
      if (removing) {
        fields.firstName = '';
        fields.lastName = '';
        return;
      }
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ScimError(400, 'name must be an object.', 'invalidValue');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) apply(fields, op, `name.${k}`, v);
      return;
    }
    case 'title':
      fields.title = removing ? null : scimString(value, 'title', MAX_NAME_LENGTH);
      return;
    case 'externalid':
      fields.externalId = removing ? null : scimString(value, 'externalId', MAX_NAME_LENGTH);
      return;
    default:
      if (WORK_EMAIL_PATHS.has(p)) {
        if (removing) throw new ScimError(400, "The user's email cannot be removed.", 'mutability');
        fields.email = scimEmail(value, 'emails.value');
      }
      // Anything else (phone numbers, addresses, name.middleName) is not kept by tenure.
      return;
  }
}

/** Turns a PatchOp body into the changes it asks for; refuses the whole request if any operation is invalid. */
export function parsePatch(body: unknown): ScimUserFields {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ScimError(400, 'The PATCH body must be a PatchOp object.', 'invalidSyntax');
  const object = body as Record<string, unknown>;
  const schemas = attribute(object, 'schemas');
  if (schemas !== undefined && (!Array.isArray(schemas) || !schemas.some((s) => String(s).toLowerCase() === PATCH_OP_SCHEMA.toLowerCase()))) {
    throw new ScimError(400, `schemas must be ["${PATCH_OP_SCHEMA}"].`, 'invalidSyntax');
  }
  const operations = attribute(object, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0) throw new ScimError(400, 'Operations must be a non-empty array.', 'invalidSyntax');
  if (operations.length > MAX_OPERATIONS) throw new ScimError(400, `At most ${MAX_OPERATIONS} operations per request.`, 'tooMany');
  const fields: ScimUserFields = {};
  for (const raw of operations) {
    if (!raw || typeof raw !== 'object') throw new ScimError(400, 'Each operation must be an object.', 'invalidSyntax');
    const operation = raw as Record<string, unknown>;
    const op = String(attribute(operation, 'op') ?? '').toLowerCase();
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw new ScimError(400, `Unknown PATCH op "${String(attribute(operation, 'op')).slice(0, 50)}"; use add, replace or remove.`, 'invalidSyntax');
    const path = attribute(operation, 'path');
    const value = attribute(operation, 'value');
    if (path !== undefined && path !== null && path !== '') {
      if (typeof path !== 'string') throw new ScimError(400, 'path must be a string.', 'invalidPath');
      if (path.length > 500) throw new ScimError(400, 'path is longer than 500 characters.', 'invalidPath');
      if (op !== 'remove' && value === undefined) throw new ScimError(400, `The ${op} of ${path} has no value.`, 'invalidValue');
      apply(fields, op, path, value);
      continue;
    }
    if (op === 'remove') throw new ScimError(400, 'remove needs a path.', 'noTarget');
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ScimError(400, `An ${op} without a path needs an object value.`, 'invalidValue');
    // Without a path the value holds attributes, possibly with dotted names ("name.givenName") or an extension's URN.
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) apply(fields, op, k, v);
  }
  return fields;
}

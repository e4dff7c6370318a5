/**
 * SCIM PATCH (RFC 7644 §3.5.2) for users, as Okta and Entra send it:
 *   Okta:  { op: "replace", value: { active: false } }
 *   Entra: { op: "Replace", path: "active", value: "False" }
 *          { op: "Add", path: "emails[type eq \"work\"].value", value: "x@y" }
 *          { op: "Replace", path: "name.givenName", value: "Ann" }
 * Operation names in any letter case. Attributes tenure does not keep are ignored.
 */
import { ScimError } from './errors';
import { normalizeAttributePath, PATCH_OP_SCHEMA } from './schema-names';
import { attribute, scimBoolean, scimString, workEmail, type ScimUserFields } from './user-resource';

type Op = 'add' | 'replace' | 'remove';

const MAX_OPERATIONS = 100;
const WORK_EMAIL_PATHS = new Set(['emails[type eq "work"].value', "emails[type eq 'work'].value", 'emails[primary eq true].value', 'emails.value']);

function apply(fields: ScimUserFields, op: Op, path: string, value: unknown): void {
  const p = normalizeAttributePath(path).replace(/\s+/g, ' ');
  const removing = op === 'remove';
  switch (p) {
    case 'active':
      if (removing) throw new ScimError(400, 'active cannot be removed; replace it with true or false.', 'mutability');
      fields.active = scimBoolean(value, 'active');
      return;
    case 'username':
      if (removing) throw new ScimError(400, 'userName cannot be removed.', 'mutability');
      fields.email = scimString(value, 'userName');
      return;
    case 'emails':
      if (removing) throw new ScimError(400, "The user's email cannot be removed.", 'mutability');
      fields.email = workEmail(Array.isArray(value) ? value : [value]) ?? fields.email;
      return;
    case 'name.givenname':
      fields.firstName = removing ? '' : scimString(value, 'name.givenName', 200);
      return;
    case 'name.familyname':
      fields.lastName = removing ? '' : scimString(value, 'name.familyName', 200);
      return;
    case 'name': {
      if (removing) {
        fields.firstName = '';
        fields.lastName = '';
        return;
      }
      if (!value || typeof value !== 'object') throw new ScimError(400, 'name must be an object.', 'invalidValue');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) apply(fields, op, `name.${k}`, v);
      return;
    }
    case 'title':
      fields.title = removing ? null : scimString(value, 'title', 200);
      return;
    case 'externalid':
      fields.externalId = removing ? null : scimString(value, 'externalId', 200);
      return;
    default:
      if (WORK_EMAIL_PATHS.has(p)) {
        if (removing) throw new ScimError(400, "The user's email cannot be removed.", 'mutability');
        fields.email = scimString(value, 'emails.value');
      }
      // Anything else (phone numbers, addresses, extension attributes) is not kept by tenure.
      return;
  }
}

/** Turns a PatchOp body into the changes it asks for. */
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
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw new ScimError(400, `Unknown PATCH op "${String(attribute(operation, 'op'))}"; use add, replace or remove.`, 'invalidSyntax');
    const path = attribute(operation, 'path');
    const value = attribute(operation, 'value');
    if (path !== undefined && path !== null && path !== '') {
      if (typeof path !== 'string') throw new ScimError(400, 'path must be a string.', 'invalidPath');
      if (op !== 'remove' && value === undefined) throw new ScimError(400, `The ${op} of ${path} has no value.`, 'invalidValue');
      apply(fields, op, path, value);
      continue;
    }
    if (op === 'remove') throw new ScimError(400, 'remove needs a path.', 'noTarget');
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ScimError(400, `An ${op} without a path needs an object value.`, 'invalidValue');
    // Without a path the value holds attributes, possibly with dotted names ("name.givenName").
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) apply(fields, op, k, v);
  }
  return fields;
}

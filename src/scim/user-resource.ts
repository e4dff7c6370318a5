/** The SCIM User resource (RFC 7643 §4.1) as tenure maps it to and from its user store. */
import { emailAddressProblem, normalizeEmail } from '../domain/email';
import { textProblem } from '../domain/text';
import { isActiveStatus } from '../domain/user-state';
import { displayName } from '../services/user-view';
import type { StoredUser } from '../services/users';
import { ScimError } from './errors';
import type { ScimLink } from '../db/models/scim-link';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from './schema-names';

/** What a SCIM request may set on a user. `undefined` = not given; `null` = cleared. */
export interface ScimUserFields {
  email?: string;
  firstName?: string;
  lastName?: string;
  title?: string | null;
  externalId?: string | null;
  active?: boolean;
}

export const MAX_NAME_LENGTH = 200;

/**
 * `active` follows the one rule of src/domain/user-state (only an `active` account is active:
 * a pending invitee is not, until the invitation is accepted), and is false as soon as the
 * provider deprovisioned the account, while the offboarding it started may still be running.
 * Empty attributes are left out: a user without a name has no `name`, one without HR data no
 * enterprise extension.
 */
export function toScimUser(user: StoredUser, link: Pick<ScimLink, 'externalId' | 'deprovisionedAt'> | null | undefined, baseUrl: string) {
  const id = String(user._id);
  const name = { ...(user.firstName ? { givenName: user.firstName } : {}), ...(user.lastName ? { familyName: user.lastName } : {}) };
  const enterprise = {
    ...(user.hrEmployeeId ? { employeeNumber: user.hrEmployeeId } : {}),
    ...(user.managerId ? { manager: { value: String(user.managerId) } } : {}),
  };
  const hasEnterprise = Object.keys(enterprise).length > 0;
  return {
    schemas: hasEnterprise ? [USER_SCHEMA, ENTERPRISE_USER_SCHEMA] : [USER_SCHEMA],
    id,
    ...(link?.externalId ? { externalId: link.externalId } : {}),
    userName: user.email,
    ...(Object.keys(name).length ? { name } : {}),
    displayName: displayName(user),
    ...(user.title ? { title: user.title } : {}),
    emails: [{ value: user.email, type: 'work', primary: true }],
    active: isActiveStatus(user.status) && !link?.deprovisionedAt,
    ...(hasEnterprise ? { [ENTERPRISE_USER_SCHEMA]: enterprise } : {}),
    meta: {
      resourceType: 'User',
      created: user.createdAt?.toISOString(),
      lastModified: user.updatedAt?.toISOString(),
      location: `${baseUrl}/Users/${id}`,
    },
  };
}

/** Entra sends booleans as "True"/"False" strings. */
export function scimBoolean(value: unknown, attribute: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  throw new ScimError(400, `${attribute} must be true or false.`, 'invalidValue');
}

/** A text attribute under the one text rule (src/domain/text): no control characters, well-formed Unicode, at most `max` characters. */
export function scimString(value: unknown, attribute: string, max = 254): string {
  if (typeof value !== 'string') throw new ScimError(400, `${attribute} must be a string.`, 'invalidValue');
  if (value.length > max) throw new ScimError(400, `${attribute} is longer than ${max} characters.`, 'invalidValue');
  const problem = textProblem(value);
  if (problem) throw new ScimError(400, `${attribute} ${problem}.`, 'invalidValue');
  return value.trim();
}

/** An email address under the one email rule (src/domain/email), normalised. */
export function scimEmail(value: unknown, attribute: string): string {
  const text = scimString(value, attribute, 320);
  const problem = emailAddressProblem(text);
  if (problem) throw new ScimError(400, `${attribute} must be an email address: ${JSON.stringify(text.slice(0, 100))} ${problem}.`, 'invalidValue');
  return normalizeEmail(text);
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ScimError(400, `${what} must be a JSON object.`, 'invalidSyntax');
  return value as Record<string, unknown>;
}

/** Case-insensitive attribute lookup (SCIM attribute names are case-insensitive). */
export function attribute(object: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : object[key];
}

/**
 * The work (else primary, else first) address of an `emails` array. Every value given must be
 * an email address, including those of entries tenure does not keep.
 */
export function workEmail(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new ScimError(400, 'emails must be an array.', 'invalidValue');
  const entries = value.map((e) => asObject(e, 'Each entry of emails'));
  const addresses = entries.map((e) => scimEmail(attribute(e, 'value'), 'emails.value'));
  const work = entries.findIndex((e) => String(attribute(e, 'type') ?? '').toLowerCase() === 'work');
  const primary = entries.findIndex((e) => attribute(e, 'primary') === true || String(attribute(e, 'primary')).toLowerCase() === 'true');
  return addresses[work >= 0 ? work : primary >= 0 ? primary : 0];
}

/**
 * The rules every user that SCIM stores must satisfy, whatever way it came (POST, PUT, or the
 * result of a PATCH): the sign-in address under the one email rule, names and title under the
 * text rule. `changed` names the attributes to check (all when omitted): what is already
 * stored and left alone never blocks a request.
 */
export function assertScimUserStorable(user: ScimUserFields, changed?: ReadonlySet<keyof ScimUserFields>): void {
  const check = (key: keyof ScimUserFields) => !changed || changed.has(key);
  if (check('email')) {
    if (!user.email) throw new ScimError(400, 'userName (the sign-in email address) is required.', 'invalidValue');
    scimEmail(user.email, 'userName');
  }
  if (check('firstName') && user.firstName) scimString(user.firstName, 'name.givenName', MAX_NAME_LENGTH);
  if (check('lastName') && user.lastName) scimString(user.lastName, 'name.familyName', MAX_NAME_LENGTH);
  if (check('title') && user.title) scimString(user.title, 'title', MAX_NAME_LENGTH);
  if (check('externalId') && user.externalId) scimString(user.externalId, 'externalId', MAX_NAME_LENGTH);
}

/**
 * Reads a full User resource (POST, PUT). userName is the sign-in email; optional attributes
 * that are absent come back as null (cleared by a PUT); attributes tenure does not keep are
 * ignored, but every text they hold is checked like the rest (displayName, name.formatted).
 */
export function parseScimUser(body: unknown): ScimUserFields & { email: string } {
  const object = asObject(body, 'The User resource');
  const schemas = attribute(object, 'schemas');
  if (schemas !== undefined && (!Array.isArray(schemas) || !schemas.some((s) => String(s).toLowerCase() === USER_SCHEMA.toLowerCase()))) {
    throw new ScimError(400, `schemas must include ${USER_SCHEMA}.`, 'invalidSyntax');
  }
  const userName = attribute(object, 'userName');
  const emails = workEmail(attribute(object, 'emails'));
  const email = userName !== undefined && userName !== null ? scimEmail(userName, 'userName') : emails;
  if (!email) throw new ScimError(400, 'userName (the sign-in email address) is required.', 'invalidValue');
  const name = attribute(object, 'name');
  const nameObject = name === undefined || name === null ? {} : asObject(name, 'name');
  const optional = (value: unknown, what: string) => (value === undefined || value === null ? null : scimString(value, what, MAX_NAME_LENGTH));
  const givenName = optional(attribute(nameObject, 'givenName'), 'name.givenName');
  const familyName = optional(attribute(nameObject, 'familyName'), 'name.familyName');
  optional(attribute(nameObject, 'formatted'), 'name.formatted');
  optional(attribute(object, 'displayName'), 'displayName');
  const active = attribute(object, 'active');
  const fields = {
    email,
    firstName: givenName ?? '',
    lastName: familyName ?? '',
    title: optional(attribute(object, 'title'), 'title'),
    externalId: optional(attribute(object, 'externalId'), 'externalId'),
    active: active === undefined || active === null ? undefined : scimBoolean(active, 'active'),
  };
  assertScimUserStorable(fields);
  return fields;
}

/** The SCIM User resource (RFC 7643 §4.1) as tenure maps it to and from its user store. */
import { displayName } from '../services/user-view';
import type { StoredUser } from '../services/users';
import { ScimError } from './errors';
import type { ScimLink } from './scim-link-model';
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

/**
 * `active` is false once the account is deactivated, or as soon as the provider asked for it
 * (the offboarding it started may still be running). Pending users are active: provisioned
 * and invited, not yet signed in.
 */
export function toScimUser(user: StoredUser, link: Pick<ScimLink, 'externalId' | 'deprovisionedAt'> | null | undefined, baseUrl: string) {
  const id = String(user._id);
  return {
    schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    id,
    ...(link?.externalId ? { externalId: link.externalId } : {}),
    userName: user.email,
    name: { givenName: user.firstName ?? '', familyName: user.lastName ?? '', formatted: [user.firstName, user.lastName].filter(Boolean).join(' ') },
    displayName: displayName(user),
    ...(user.title ? { title: user.title } : {}),
    emails: [{ value: user.email, type: 'work', primary: true }],
    active: user.status !== 'deactivated' && !link?.deprovisionedAt,
    [ENTERPRISE_USER_SCHEMA]: {
      ...(user.hrEmployeeId ? { employeeNumber: user.hrEmployeeId } : {}),
      ...(user.managerId ? { manager: { value: String(user.managerId) } } : {}),
    },
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

export function scimString(value: unknown, attribute: string, max = 254): string {
  if (typeof value !== 'string') throw new ScimError(400, `${attribute} must be a string.`, 'invalidValue');
  if (value.length > max) throw new ScimError(400, `${attribute} is longer than ${max} characters.`, 'invalidValue');
  return value.trim();
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

/** The work (else primary, else first) address of an `emails` array. */
export function workEmail(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new ScimError(400, 'emails must be an array.', 'invalidValue');
  const entries = value.map((e) => asObject(e, 'Each entry of emails'));
  const chosen =
    entries.find((e) => String(attribute(e, 'type') ?? '').toLowerCase() === 'work') ??
    entries.find((e) => attribute(e, 'primary') === true || String(attribute(e, 'primary')).toLowerCase() === 'true') ??
    entries[0];
  return chosen ? scimString(attribute(chosen, 'value'), 'emails.value') : undefined;
}

/**
 * Reads a full User resource (POST, PUT). userName is the sign-in email; optional attributes
 * that are absent come back as null (cleared by a PUT); attributes tenure does not keep are ignored.
 */
export function parseScimUser(body: unknown): ScimUserFields & { email: string } {
  const object = asObject(body, 'The User resource');
  const schemas = attribute(object, 'schemas');
  if (schemas !== undefined && (!Array.isArray(schemas) || !schemas.some((s) => String(s).toLowerCase() === USER_SCHEMA.toLowerCase()))) {
    throw new ScimError(400, `schemas must include ${USER_SCHEMA}.`, 'invalidSyntax');
  }
  const userName = attribute(object, 'userName');
  const email = userName !== undefined ? scimString(userName, 'userName') : workEmail(attribute(object, 'emails'));
  if (!email) throw new ScimError(400, 'userName (the sign-in email address) is required.', 'invalidValue');
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new ScimError(400, `userName "${email.slice(0, 254)}" is not an email address.`, 'invalidValue');
  const name = attribute(object, 'name');
  const nameObject = name === undefined || name === null ? {} : asObject(name, 'name');
  const givenName = attribute(nameObject, 'givenName');
  const familyName = attribute(nameObject, 'familyName');
  const title = attribute(object, 'title');
  const externalId = attribute(object, 'externalId');
  const active = attribute(object, 'active');
  return {
    email,
    firstName: givenName === undefined || givenName === null ? '' : scimString(givenName, 'name.givenName', 200),
    lastName: familyName === undefined || familyName === null ? '' : scimString(familyName, 'name.familyName', 200),
    title: title === undefined || title === null ? null : scimString(title, 'title', 200),
    externalId: externalId === undefined || externalId === null ? null : scimString(externalId, 'externalId', 200),
    active: active === undefined || active === null ? undefined : scimBoolean(active, 'active'),
  };
}

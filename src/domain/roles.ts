/**
 * The role matrix. Administrators do everything; Security Managers and Auditors
 * read active and pending users and token activity; PowerUsers and Users manage no one.
 * Pure: no I/O.
 */
export const SITE_ROLES = ['Administrators', 'PowerUsers', 'Users', 'Auditors', 'SecurityManagers'] as const;
export type SiteRole = (typeof SITE_ROLES)[number];

export const PERMISSIONS = [
  'users:read-active',
  'users:read-pending',
  'users:read-deactivated',
  'users:create',
  'users:update',
  'users:deactivate',
  'users:reactivate',
  'users:delete',
  'users:export',
  'users:change-role',
  'users:read-activity',
  'tokens:read-activity',
  'sessions:manage',
  'resources:transfer',
  'resources:read',
  'resources:write',
  'service-credentials:manage',
  'tokens:issue',
  'tokens:revoke',
  'groups:read',
  'groups:manage',
  'processes:start',
  'processes:read',
  'processes:act',
  'settings:read',
  'settings:manage',
  'webhooks:manage',
  'queues:read',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const READ_ONLY: readonly Permission[] = ['users:read-active', 'users:read-pending', 'tokens:read-activity', 'settings:read'];

const ROLE_PERMISSIONS: Readonly<Record<SiteRole, ReadonlySet<Permission>>> = {
  Administrators: new Set(PERMISSIONS),
  SecurityManagers: new Set(READ_ONLY),
  Auditors: new Set(READ_ONLY),
  PowerUsers: new Set(),
  Users: new Set(),
};

export function can(role: SiteRole, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role]?.has(permission) ?? false;
}

/**
 * What a platform service (CI, workflow tool) may do with its service credential: read, create,
 * update and delete resources, nothing else (no transfer, no users, no processes, no settings).
 */
const SERVICE_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>(['resources:read', 'resources:write']);

export function serviceCan(permission: Permission): boolean {
  return SERVICE_PERMISSIONS.has(permission);
}

export function isSiteRole(value: unknown): value is SiteRole {
  return typeof value === 'string' && (SITE_ROLES as readonly string[]).includes(value);
}

/** The account states a role may read (readers see active and pending users only). */
export function readableStatuses(role: SiteRole): Array<'active' | 'pending' | 'deactivated'> {
  const statuses: Array<'active' | 'pending' | 'deactivated'> = [];
  if (can(role, 'users:read-active')) statuses.push('active');
  if (can(role, 'users:read-pending')) statuses.push('pending');
  if (can(role, 'users:read-deactivated')) statuses.push('deactivated');
  return statuses;
}

/** A role as a person reads it, in the singular ("Security Manager"). */
export function roleLabel(role: SiteRole): string {
  const labels: Record<SiteRole, string> = { Administrators: 'Administrator', PowerUsers: 'Power User', Users: 'User', Auditors: 'Auditor', SecurityManagers: 'Security Manager' };
  return labels[role];
}

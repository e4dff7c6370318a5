/**
 * Who may start, read and act on an offboarding: Administrators (by the role matrix) or the
 * leaver's manager, never the leaver, not even an Administrator offboarding themself. One rule for
 * every way in (API, Slack) and for the offboarding workflow's update validators.
 * Pure: no I/O and no Node imports, so the workflow bundle can import it.
 */
import { can, isSiteRole, SITE_ROLES, type Permission, type SiteRole } from './roles';

/** The permissions of the role matrix that make an Administrator of an offboarding. */
export type OffboardingPermission = Extract<Permission, 'processes:start' | 'processes:read' | 'processes:act'>;

export type OffboardingRefusal =
  /** The caller has no identity to check. */
  | 'caller_unknown'
  /** The caller is the leaver. */
  | 'own_offboarding'
  /** Neither an Administrator nor the leaver's manager. */
  | 'not_an_approver';

/**
 * `admin` or `manager`: the caller may. `manager_unknown`: the caller is no Administrator and the
 * leaver's manager is not known yet (the workflow before its plan); ask again once it is.
 */
export type OffboardingAuthority = 'admin' | 'manager' | 'manager_unknown' | OffboardingRefusal;

export interface OffboardingAuthorityInput {
  actor: { id: string | undefined; siteRole: string | undefined };
  /** `managerId` null: the leaver has no manager; `managerKnown` false: not read yet. */
  leaver: { id: string; managerId: string | null; managerKnown?: boolean };
  /** Which permission of the role matrix makes the actor an Administrator here. */
  permission?: OffboardingPermission;
}

export function offboardingAuthority({ actor, leaver, permission = 'processes:act' }: OffboardingAuthorityInput): OffboardingAuthority {
  if (!actor.id) return 'caller_unknown';
  if (actor.id === leaver.id) return 'own_offboarding';
  if (isSiteRole(actor.siteRole) && can(actor.siteRole, permission)) return 'admin';
  if (leaver.managerKnown === false) return 'manager_unknown';
  if (leaver.managerId !== null && actor.id === leaver.managerId) return 'manager';
  return 'not_an_approver';
}

/** The site roles whose members are Administrators of every offboarding (to ask, and to tell). */
export function offboardingAdministratorRoles(permission: OffboardingPermission = 'processes:act'): SiteRole[] {
  return SITE_ROLES.filter((role) => can(role, permission));
}

export function isOffboardingRefusal(authority: OffboardingAuthority): authority is OffboardingRefusal {
  return authority === 'caller_unknown' || authority === 'own_offboarding' || authority === 'not_an_approver';
}

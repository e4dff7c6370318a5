import type { Types } from 'mongoose';
import type { User } from '../db/models/user';
import { isActiveStatus } from '../domain/user-state';

type StoredUser = User & { _id: Types.ObjectId; createdAt?: Date; updatedAt?: Date };

/** The API's user object: the stored profile plus lifecycle state; never a token hash. */
export function toApiUser(user: StoredUser) {
  const inv = user.invitation;
  return {
    _id: String(user._id),
    email: user.email,
    firstName: user.firstName ?? '',
    lastName: user.lastName ?? '',
    preferredName: user.preferredName ?? undefined,
    title: user.title ?? undefined,
    site: user.site ?? undefined,
    division: user.division ?? undefined,
    organization: user.organization ?? undefined,
    domain: user.domain ?? undefined,
    sso: user.sso ?? undefined,
    groups: (user.groups ?? []).map(String),
    applications: user.applications ?? [],
    tools: user.tools ?? [],
    createdAt: user.createdAt?.toISOString(),
    updatedAt: user.updatedAt?.toISOString(),
    active: isActiveStatus(user.status),
    siteRole: user.siteRole,
    status: user.status,
    managerId: user.managerId ? String(user.managerId) : undefined,
    hrEmployeeId: user.hrEmployeeId ?? undefined,
    hrStatus: user.hrStatus ?? undefined,
    lastLoginAt: user.lastLoginAt?.toISOString(),
    deactivatedAt: user.deactivatedAt?.toISOString(),
    lockout: user.lockout ? { at: user.lockout.at.toISOString(), processId: user.lockout.processId } : undefined,
    invitation: inv?.sentAt
      ? {
          sentAt: inv.sentAt.toISOString(),
          expiresAt: inv.expiresAt?.toISOString(),
          sendCount: inv.sendCount ?? 0,
          state: (inv.acceptedAt ? 'accepted' : inv.revokedAt && !inv.tokenHash ? 'revoked' : inv.expiredAt ? 'expired' : 'sent') as 'accepted' | 'revoked' | 'expired' | 'sent',
        }
      : undefined,
  };
}

/** "First Last", else the preferred name, else the email. */
export function displayName(user: { firstName?: string | null; lastName?: string | null; preferredName?: string | null; email: string }): string {
  return [user.firstName, user.lastName].filter(Boolean).join(' ') || user.preferredName || user.email;
}

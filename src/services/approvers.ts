/**
 * Who is asked to answer an offboarding: the leaver's manager while active, else the active
 * Administrators; the Administrators as well once the wait has been escalated. Never the leaver,
 * not even a leaver who is their own manager or an Administrator. Administrators are the roles
 * the offboarding authority rule (src/domain/authority.ts) makes them. One rule for the approval
 * mails (activities) and the approval requests in Slack.
 */
import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import { offboardingAdministratorRoles } from '../domain/authority';
import type { StoredUser } from './users';

/** At most this many Administrators are asked (or told) at once. */
const ADMINISTRATORS_ASKED = 50;

type Leaver = Pick<StoredUser, '_id' | 'managerId'>;

/** The leaver's manager when that account is active and is not the leaver's own. */
export async function activeManagerOf(models: Models, leaver: Leaver): Promise<StoredUser | null> {
  if (!leaver.managerId || leaver.managerId.equals(leaver._id)) return null;
  return models.User.findOne({ _id: leaver.managerId, status: 'active' }).lean<StoredUser>();
}

/** The active Administrators of an offboarding, the leaver excluded. */
export async function administratorsOf(models: Models, leaverId: Types.ObjectId): Promise<StoredUser[]> {
  return models.User.find({ siteRole: { $in: offboardingAdministratorRoles() }, status: 'active', _id: { $ne: leaverId } })
    .sort({ createdAt: 1 })
    .limit(ADMINISTRATORS_ASKED)
    .lean<StoredUser[]>();
}

/** The approvers of the leaver's offboarding, the manager first; `escalated`: the Administrators too. */
export async function approversOf(models: Models, leaver: Leaver, options: { escalated?: boolean } = {}): Promise<StoredUser[]> {
  const manager = await activeManagerOf(models, leaver);
  const approvers = manager ? [manager] : [];
  if (!manager || options.escalated) {
    for (const admin of await administratorsOf(models, leaver._id)) if (!approvers.some((a) => a._id.equals(admin._id))) approvers.push(admin);
  }
  return approvers;
}

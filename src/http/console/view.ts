/** Small pieces the console's pages share: dates in the organization's time zone, state labels. */
import type { StoredUser } from '../../services/users';

export function dateFormatter(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone });
}

/** The status as the table shows it: a pending account is an "Invited User" until its first sign-in. */
export function statusLabel(user: Pick<StoredUser, 'status' | 'lockout'>): string {
  if (user.status === 'pending') return 'Invited User';
  if (user.status === 'deactivated') return 'Deactivated';
  return user.lockout ? 'Active (locked out)' : 'Active';
}

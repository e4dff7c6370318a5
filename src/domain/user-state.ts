/** The account state machine: pending, active, deactivated and the moves between them. Pure: no I/O. */
export const USER_STATUSES = ['pending', 'active', 'deactivated'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/**
 * Whether an account is active, wherever `active` is reported (the API's user object, SCIM's
 * `active`): only `active` is. A pending invitee is not active until the invitation is
 * accepted or the registration completed; a deactivated account is not active.
 */
export function isActiveStatus(status: UserStatus | string | null | undefined): boolean {
  return status === 'active';
}

/** Why an account moves; each names the one transition it may make. */
export type Transition =
  | 'accept-invitation' // pending → active: the invitee accepted
  | 'complete-registration' // pending → active: an admin completed it
  | 'deactivate' // active|pending → deactivated
  | 'reactivate' // deactivated → active
  | 'reinvite'; // deactivated → pending: access returns on acceptance

const MOVES: Record<Transition, { from: readonly UserStatus[]; to: UserStatus }> = {
  'accept-invitation': { from: ['pending'], to: 'active' },
  'complete-registration': { from: ['pending'], to: 'active' },
  deactivate: { from: ['active', 'pending'], to: 'deactivated' },
  reactivate: { from: ['deactivated'], to: 'active' },
  reinvite: { from: ['deactivated'], to: 'pending' },
};

export function nextStatus(current: UserStatus, transition: Transition): UserStatus | undefined {
  const move = MOVES[transition];
  return move.from.includes(current) ? move.to : undefined;
}

export function allowedFrom(transition: Transition): readonly UserStatus[] {
  return MOVES[transition].from;
}

export function targetOf(transition: Transition): UserStatus {
  return MOVES[transition].to;
}

/** Moves that give an account access it did not have; refused while the account is locked out. */
export function grantsAccess(transition: Transition): boolean {
  return transition === 'accept-invitation' || transition === 'complete-registration';
}

/** Moves by which an Administrator deliberately restores access: they lift a lockout. */
export function liftsLockout(transition: Transition): boolean {
  return transition === 'reactivate' || transition === 'reinvite';
}

/**
 * Failure types of every process: raised as non-retryable ApplicationFailures by activities and
 * handled by workflows, or raised by the workflows' update validators and handlers and mapped to
 * answers by the API, Slack and SCIM. One list, shared by all sides; no Node imports.
 */
export const ErrorType = {
  NotFound: 'NotFound',
  InvalidInput: 'InvalidInput',
  Unauthorized: 'Unauthorized',
  Conflict: 'Conflict',
  /** Offboarding: the caller may not act on this process (not the manager or an Administrator, or the leaver). */
  NotAllowed: 'NotAllowed',
  /** Offboarding: the process is not in a state that accepts this action. */
  InvalidState: 'InvalidState',
  /** Offboarding: an approval names a plan version that is no longer current. */
  StalePlan: 'StalePlan',
  /** Offboarding: the leaver no longer exists. */
  UserGone: 'UserGone',
  /** Offboarding: the chosen new owner is unknown, inactive or the leaver. */
  NewOwnerInactive: 'NewOwnerInactive',
  /** Onboarding: only Administrators act on an onboarding. */
  NotAdministrator: 'NotAdministrator',
  /** Onboarding: the process has already ended. */
  ProcessFinished: 'ProcessFinished',
  /** Onboarding: the invitee is already active. */
  AlreadyActive: 'AlreadyActive',
} as const;

export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

export const NON_RETRYABLE_ERROR_TYPES: string[] = Object.values(ErrorType);

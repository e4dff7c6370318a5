/**
 * Failure types raised as non-retryable ApplicationFailures by activities and handled by
 * workflows. One list, shared by both sides; no Node imports.
 */
export const ErrorType = {
  NotFound: 'NotFound',
  InvalidInput: 'InvalidInput',
  Unauthorized: 'Unauthorized',
  Conflict: 'Conflict',
} as const;

export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

export const NON_RETRYABLE_ERROR_TYPES: string[] = Object.values(ErrorType);

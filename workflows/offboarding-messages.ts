/**
 * The offboarding, bulk offboarding and reactivation processes' messages, imported by the
 * workflows, the API, Slack and tests: commands (updates and signals), queries and values each
 * in their own module under `messages/`. No Node imports: this module is part of the workflow bundle.
 */
export type { Caller } from './messages/caller';
export * from './messages/offboarding/commands';
export * from './messages/offboarding/queries';
export * from './messages/offboarding/values';
export * from './messages/bulk-offboarding';

/**
 * The onboarding process's messages, imported by the workflow, the HTTP API, the sweep, the
 * Slack bot and tests: commands (updates and signals), queries and values each in their own
 * module under `messages/`. No Node imports: this module is part of the workflow bundle.
 */
export type { Caller, Requester } from './messages/caller';
export * from './messages/onboarding/commands';
export * from './messages/onboarding/queries';
export * from './messages/onboarding/values';

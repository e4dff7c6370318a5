import type { ActivityDeps } from './deps';

/** Offboarding activities (issue: offboarding). */
export function offboardingActivities(_deps: ActivityDeps) {
  return {};
}

import type { ActivityDeps } from './deps';

/** Onboarding activities (issue: onboarding). */
export function onboardingActivities(_deps: ActivityDeps) {
  return {};
}

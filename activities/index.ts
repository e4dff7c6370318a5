import { connectedSystemActivities } from './connected-systems';
import type { ActivityDeps } from './deps';
import { offboardingActivities } from './offboarding';
import { onboardingActivities } from './onboarding';
import { systemCheckActivities } from './system-check';

export type { ActivityDeps } from './deps';

/** Every activity, bound to the dependencies the worker injects. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...systemCheckActivities(deps),
    ...onboardingActivities(deps),
    ...offboardingActivities(deps),
    ...connectedSystemActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

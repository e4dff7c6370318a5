import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppDeps } from '../app';

/** onboarding routes. */
export function onboardingRoutes(_deps: AppDeps): FastifyPluginAsyncZod {
  return async () => {};
}

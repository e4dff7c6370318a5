import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppDeps } from '../app';

/** offboarding routes. */
export function offboardingRoutes(_deps: AppDeps): FastifyPluginAsyncZod {
  return async () => {};
}

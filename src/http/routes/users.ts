import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppDeps } from '../app';

/** users routes. */
export function usersRoutes(_deps: AppDeps): FastifyPluginAsyncZod {
  return async () => {};
}

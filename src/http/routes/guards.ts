/**
 * Route guards. Authentication (one app-level hook, route-rules.ts) and the role check run at
 * onRequest, before the body is parsed or validated: a caller without a valid token gets 401 and
 * a caller whose role forbids the route gets 403, whatever they sent.
 */
import type { onRequestAsyncHookHandler } from 'fastify';
import { readableStatuses, type Permission, type SiteRole } from '../../domain/roles';
import type { UserStatus } from '../../domain/user-state';
import { ForbiddenError } from '../../errors';
import type { AppDeps } from '../deps';
import { requirePermission } from '../auth';

/** The role check of a route (the caller is already authenticated; without a principal it is a 401). */
export function createGuard(_deps?: Pick<AppDeps, 'models' | 'logger'>) {
  return (...permissions: Permission[]): onRequestAsyncHookHandler[] => [requirePermission(...permissions) as unknown as onRequestAsyncHookHandler];
}

export type Guard = ReturnType<typeof createGuard>;

/** The statuses a list may cover: those asked for, each of which the role must be allowed to read. */
export function statusesFor(role: SiteRole, requested: UserStatus[] | undefined): UserStatus[] {
  const readable = readableStatuses(role);
  if (!requested) return readable;
  const denied = requested.filter((s) => !readable.includes(s));
  if (denied.length) throw new ForbiddenError(`The ${role} role may not read ${denied.join(' or ')} users.`);
  return requested;
}

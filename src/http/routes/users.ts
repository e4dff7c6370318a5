import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { readableStatuses } from '../../domain/roles';
import { findOneByPattern, getVisibleUser, listActiveUsers, listUsers } from '../../services/user-queries';
import { toApiUser } from '../../services/user-view';
import type { AppDeps } from '../deps';
import { principalOf } from '../auth';
import { AUTH_ERRORS, errorResponses, idOrEmailParams } from '../schemas/common';
import { activeQuery, apiUserSchema, listQuery, searchQuery, userListSchema } from '../schemas/users';
import { accessRoutes } from './access';
import { createGuard, statusesFor } from './guards';
import { groupRoutes } from './groups';
import { resourceRoutes } from './resources';
import { userAdminRoutes } from './user-admin';
import { userExportRoutes } from './user-export';

const TAGS = ['users'];

/**
 * The user API (search, list, get) and the admin routes around it. Reads are open to the roles that may
 * read users (Administrators, SecurityManagers, Auditors), each seeing only the account states
 * their role allows; every change is for Administrators.
 */
export function usersRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const guard = createGuard(deps);

    app.get(
      '/v1/users/search',
      {
        onRequest: guard('users:read-active'),
        schema: {
          tags: TAGS,
          summary: 'Find exactly one user by email or email pattern; 400 multiple_matches when several match',
          querystring: searchQuery,
          response: { 200: apiUserSchema, ...errorResponses(...AUTH_ERRORS, 404) },
        },
      },
      async (request) => {
        const statuses = readableStatuses(principalOf(request).user.siteRole);
        return toApiUser(await findOneByPattern(deps.models, request.query.email, statuses));
      },
    );

    app.get(
      '/v1/users/active',
      {
        onRequest: guard('users:read-active'),
        schema: {
          tags: TAGS,
          summary: 'Active users by email pattern and/or id list; X-Has-More says whether another page follows, X-Total-Count (with count=true) the number of matches',
          querystring: activeQuery,
          response: { 200: z.array(apiUserSchema), ...errorResponses(...AUTH_ERRORS) },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const { page, users } = await listActiveUsers(deps.models, { email: q.email, ids: q.id }, q);
        if (page.total !== undefined) reply.header('x-total-count', String(page.total));
        reply.header('x-has-more', String(page.hasMore));
        return users.map(toApiUser);
      },
    );

    app.get(
      '/v1/users',
      {
        onRequest: guard('users:read-active'),
        schema: {
          tags: TAGS,
          summary: 'List users with filters (status, siteRole, text, email pattern) and paging',
          querystring: listQuery,
          response: { 200: userListSchema, ...errorResponses(...AUTH_ERRORS) },
        },
      },
      async (request) => {
        const q = request.query;
        const statuses = statusesFor(principalOf(request).user.siteRole, q.status);
        const { page, users } = await listUsers(deps.models, { statuses, siteRoles: q.siteRole, q: q.q, email: q.email }, q);
        return { ...page, users: users.map(toApiUser) };
      },
    );

    app.get(
      '/v1/users/:idOrEmail',
      {
        onRequest: guard('users:read-active'),
        schema: {
          tags: TAGS,
          summary: 'Get a user by id or email',
          params: idOrEmailParams,
          response: { 200: apiUserSchema, ...errorResponses(...AUTH_ERRORS, 404) },
        },
      },
      async (request) => {
        const statuses = readableStatuses(principalOf(request).user.siteRole);
        return toApiUser(await getVisibleUser(deps.models, request.params.idOrEmail, statuses));
      },
    );

    await app.register(userAdminRoutes(deps, guard));
    await app.register(userExportRoutes(deps, guard));
    await app.register(accessRoutes(deps, guard));
    await app.register(resourceRoutes(deps, guard));
    await app.register(groupRoutes(deps, guard));
  };
}

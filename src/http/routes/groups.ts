/** Groups (shared workspaces): list with member counts, create. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { createGroup, listGroups } from '../../services/groups';
import type { AppDeps } from '../deps';
import { actorOf } from '../auth';
import { apiGroupSchema, createGroupBody, groupListQuery, groupListSchema } from '../schemas/access';
import { AUTH_ERRORS, errorResponses } from '../schemas/common';
import type { Guard } from './guards';

export function groupRoutes(deps: AppDeps, guard: Guard): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/groups',
      {
        onRequest: guard('groups:read'),
        schema: { tags: ['groups'], summary: 'Groups with their member counts', querystring: groupListQuery, response: { 200: groupListSchema, ...errorResponses(...AUTH_ERRORS) } },
      },
      async (request) => {
        const q = request.query;
        const { page, groups } = await listGroups(deps.models, q);
        return { ...page, groups };
      },
    );

    app.post(
      '/v1/groups',
      {
        onRequest: guard('groups:manage'),
        schema: { tags: ['groups'], summary: 'Create a group', body: createGroupBody, response: { 201: apiGroupSchema, ...errorResponses(...AUTH_ERRORS, 409) } },
      },
      async (request, reply) => reply.status(201).send(await createGroup(deps.models, request.body, actorOf(request))),
    );
  };
}

/** Owned resources: list (with creator, "Deleted User" once deleted), one resource, ownership transfer. */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Types } from 'mongoose';
import { UnprocessableError } from '../../errors';
import { getResource, listResources } from '../../services/resources';
import { transferResource } from '../../services/users';
import type { AppDeps } from '../deps';
import { actorOf } from '../auth';
import { apiResourceSchema, resourceListQuery, resourceListSchema, transferBody, transferResultSchema } from '../schemas/access';
import { AUTH_ERRORS, errorResponses, idParams } from '../schemas/common';
import type { Guard } from './guards';

const TAGS = ['resources'];

export function resourceRoutes(deps: AppDeps, guard: Guard): FastifyPluginAsyncZod {
  const { models } = deps;
  return async (app) => {
    app.get(
      '/v1/resources',
      {
        onRequest: guard('resources:read'),
        schema: {
          tags: TAGS,
          summary: 'Pipelines, tasks and tools, by owner, creator or kind',
          querystring: resourceListQuery,
          response: { 200: resourceListSchema, ...errorResponses(...AUTH_ERRORS) },
        },
      },
      async (request) => {
        const q = request.query;
        const { page, resources } = await listResources(models, { ownerId: q.ownerId, createdBy: q.createdBy, kind: q.kind }, q);
        return { ...page, resources };
      },
    );

    app.get(
      '/v1/resources/:id',
      {
        onRequest: guard('resources:read'),
        schema: {
          tags: TAGS,
          summary: 'One resource with its owner, creator and transfer history',
          params: idParams,
          response: { 200: apiResourceSchema, ...errorResponses(...AUTH_ERRORS, 404) },
        },
      },
      async (request) => getResource(models, request.params.id),
    );

    app.post(
      '/v1/resources/:id/transfer',
      {
        onRequest: guard('resources:transfer'),
        schema: {
          tags: TAGS,
          summary: 'Transfer ownership of one resource to another active user',
          params: idParams,
          body: transferBody,
          response: { 200: transferResultSchema, ...errorResponses(...AUTH_ERRORS, 404, 409, 422) },
        },
      },
      async (request) => {
        const resourceId = new Types.ObjectId(request.params.id);
        const toUserId = new Types.ObjectId(request.body.newOwnerId);
        const before = await getResource(models, resourceId);
        if (before.ownerId === String(toUserId)) {
          throw new UnprocessableError('The new owner already owns this resource; choose someone else.', 'same_owner');
        }
        await transferResource(models, {
          resourceId,
          toUserId,
          transferId: `api:${randomUUID()}`,
          actor: actorOf(request),
          reason: request.body.reason,
          expectedOwnerId: new Types.ObjectId(before.ownerId),
        });
        return { message: 'Ownership transferred.', resource: await getResource(models, resourceId) };
      },
    );
  };
}

/**
 * Owned resources: list (with creator, "Deleted User" once deleted), one resource, create, update,
 * delete and ownership transfer. Open to platform services (service credentials) for everything
 * but the transfer; creating, updating and deleting take an optional Idempotency-Key.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Types } from 'mongoose';
import { UnprocessableError } from '../../errors';
import { parseIdempotencyKey, runIdempotent, type IdempotentRequest, type IdempotentResult } from '../../services/idempotency';
import { createResource, deleteResource, getResource, listResources, updateResource, type ResourceCaller } from '../../services/resources';
import { transferResource } from '../../services/users';
import type { AppDeps } from '../deps';
import { actorOf, auditActorOf } from '../auth';
import {
  apiResourceSchema,
  createResourceBody,
  deletedResourceSchema,
  idempotencyHeaders,
  resourceListQuery,
  resourceListSchema,
  transferBody,
  transferResultSchema,
  updateResourceBody,
} from '../schemas/access';
import { AUTH_ERRORS, errorResponses, idParams } from '../schemas/common';
import type { Guard } from './guards';

const TAGS = ['resources'];
/** These routes take service credentials as well as API tokens (route-rules.ts closes every other). */
const OPEN_TO_SERVICES = { services: true };

function callerOf(request: FastifyRequest): ResourceCaller {
  const p = request.principal;
  if (p?.kind === 'service') return { type: 'service', credentialId: p.credential._id, name: p.credential.name, actor: auditActorOf(request) };
  const actor = actorOf(request);
  return { type: 'user', userId: new Types.ObjectId(String(actor.id)), actor };
}

/** The request's Idempotency-Key with whose key it is and what was asked, or undefined without one. */
function idempotencyOf(request: FastifyRequest, what: unknown, ttlMs: number): IdempotentRequest | undefined {
  const key = parseIdempotencyKey(request.headers['idempotency-key']);
  if (key === undefined) return undefined;
  const p = request.principal;
  const scope = p?.kind === 'service' ? `service:${p.credential.credentialId}` : `user:${String(p?.user._id)}`;
  return { scope, key, request: what, ttlMs };
}

function answer<T>(reply: FastifyReply, result: IdempotentResult<T>): T {
  if (result.replayed) reply.header('idempotent-replayed', 'true');
  reply.status(result.status);
  return result.body;
}

export function resourceRoutes(deps: AppDeps, guard: Guard): FastifyPluginAsyncZod {
  const { models } = deps;
  const keyTtlMs = deps.config.IDEMPOTENCY_KEY_TTL;
  return async (app) => {
    app.get(
      '/v1/resources',
      {
        onRequest: guard('resources:read'),
        config: OPEN_TO_SERVICES,
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

    app.post(
      '/v1/resources',
      {
        onRequest: guard('resources:write'),
        config: OPEN_TO_SERVICES,
        schema: {
          tags: TAGS,
          summary: 'Register a pipeline, task or tool for an active owner (201); with an Idempotency-Key a retry answers the first result',
          headers: idempotencyHeaders,
          body: createResourceBody,
          response: { 201: apiResourceSchema, ...errorResponses(...AUTH_ERRORS, 409, 422) },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const caller = callerOf(request);
        const idem = idempotencyOf(request, { op: 'create', body }, keyTtlMs);
        const result = await runIdempotent(models, idem, async (resourceId) => ({
          status: 201,
          body: await createResource(
            models,
            resourceId,
            {
              kind: body.kind,
              name: body.name,
              ownerId: new Types.ObjectId(body.ownerId),
              description: body.description,
              externalId: body.externalId,
              createdBy: body.createdBy ? new Types.ObjectId(body.createdBy) : undefined,
            },
            caller,
          ),
        }));
        return answer(reply, result);
      },
    );

    app.get(
      '/v1/resources/:id',
      {
        onRequest: guard('resources:read'),
        config: OPEN_TO_SERVICES,
        schema: {
          tags: TAGS,
          summary: 'One resource with its owner, creator and transfer history',
          params: idParams,
          response: { 200: apiResourceSchema, ...errorResponses(...AUTH_ERRORS, 404) },
        },
      },
      async (request) => getResource(models, request.params.id),
    );

    app.patch(
      '/v1/resources/:id',
      {
        onRequest: guard('resources:write'),
        config: OPEN_TO_SERVICES,
        schema: {
          tags: TAGS,
          summary: 'Rename or re-describe a resource (null clears a field); the owner changes only by a transfer',
          headers: idempotencyHeaders,
          params: idParams,
          body: updateResourceBody,
          response: { 200: apiResourceSchema, ...errorResponses(...AUTH_ERRORS, 404, 409, 422) },
        },
      },
      async (request, reply) => {
        const resourceId = new Types.ObjectId(request.params.id);
        const caller = callerOf(request);
        const idem = idempotencyOf(request, { op: 'update', id: request.params.id, body: request.body }, keyTtlMs);
        const result = await runIdempotent(models, idem, async (id) => ({ status: 200, body: await updateResource(models, id, request.body, caller) }), resourceId);
        return answer(reply, result);
      },
    );

    app.delete(
      '/v1/resources/:id',
      {
        onRequest: guard('resources:write'),
        config: OPEN_TO_SERVICES,
        schema: {
          tags: TAGS,
          summary: 'Remove a resource (200 with what was removed); a running offboarding skips it',
          headers: idempotencyHeaders,
          params: idParams,
          response: { 200: deletedResourceSchema, ...errorResponses(...AUTH_ERRORS, 404, 409, 422) },
        },
      },
      async (request, reply) => {
        const resourceId = new Types.ObjectId(request.params.id);
        const caller = callerOf(request);
        const idem = idempotencyOf(request, { op: 'delete', id: request.params.id }, keyTtlMs);
        const result = await runIdempotent(models, idem, async (id) => ({ status: 200, body: { message: 'Resource deleted.', resource: await deleteResource(models, id, caller) } }), resourceId);
        return answer(reply, result);
      },
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

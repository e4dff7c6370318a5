/** Administrator changes to accounts: deactivate, reactivate, site role (one or bulk), permanent delete. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Types } from 'mongoose';
import { z } from 'zod';
import { bulkChangeRole, changeRoleChecked, deactivateChecked, deleteChecked, reactivate, REACTIVATION_WAIT_MS } from '../../services/user-admin';
import { toApiUser } from '../../services/user-view';
import { getUserByIdOrEmail } from '../../services/users';
import type { AppDeps } from '../deps';
import { actorOf } from '../auth';
import { AUTH_ERRORS, errorResponses, idOrEmailParams } from '../schemas/common';
import { bulkSiteRoleBody, bulkSiteRoleResult, deletedSchema, siteRoleBody, userMessageSchema } from '../schemas/users';
import type { Guard } from './guards';

const TAGS = ['users'];

export function userAdminRoutes(deps: AppDeps, guard: Guard): FastifyPluginAsyncZod {
  const { models } = deps;
  return async (app) => {
    app.post(
      '/v1/users/:idOrEmail/deactivate',
      {
        onRequest: guard('users:deactivate'),
        schema: {
          tags: TAGS,
          summary: 'Deactivate a user; 409 listing what they still own',
          params: idOrEmailParams,
          response: { 200: userMessageSchema, ...errorResponses(...AUTH_ERRORS, 404, 409) },
        },
      },
      async (request) => {
        const target = await getUserByIdOrEmail(models, request.params.idOrEmail);
        const user = await deactivateChecked(models, target._id, actorOf(request), deps.temporal);
        return { message: 'User deactivation completed: true', user: toApiUser(user) };
      },
    );

    app.post(
      '/v1/users/:idOrEmail/reactivate',
      {
        onRequest: guard('users:reactivate'),
        schema: {
          tags: TAGS,
          summary: 'Reactivate a deactivated user through the reactivation process (plan limit applies); 202 if it has not finished within 15 s',
          params: idOrEmailParams,
          response: { 200: userMessageSchema, 202: z.object({ processId: z.string(), started: z.boolean() }), ...errorResponses(...AUTH_ERRORS, 404, 409, 422) },
        },
      },
      async (request, reply) => {
        const target = await getUserByIdOrEmail(models, request.params.idOrEmail);
        const outcome = await reactivate({ models, temporal: deps.temporal, taskQueue: deps.config.TEMPORAL_TASK_QUEUE }, target._id, actorOf(request), { waitMs: REACTIVATION_WAIT_MS });
        if (!outcome.finished) return reply.status(202).send({ processId: outcome.processId, started: outcome.started });
        return reply.status(200).send({ message: 'User reactivation completed: true', user: toApiUser(outcome.user) });
      },
    );

    app.put(
      '/v1/users/:idOrEmail/site-role',
      {
        onRequest: guard('users:change-role'),
        schema: {
          tags: TAGS,
          summary: "Update a user's site role; counts from the user's next request",
          params: idOrEmailParams,
          body: siteRoleBody,
          response: { 200: userMessageSchema, ...errorResponses(...AUTH_ERRORS, 404, 409) },
        },
      },
      async (request) => {
        const target = await getUserByIdOrEmail(models, request.params.idOrEmail);
        const user = await changeRoleChecked(models, target._id, request.body.siteRole, actorOf(request));
        return { message: 'Successfully updated site role for user.', user: toApiUser(user) };
      },
    );

    app.post(
      '/v1/users/bulk/site-role',
      {
        onRequest: guard('users:change-role'),
        schema: {
          tags: TAGS,
          summary: 'Change the site role of many users; each id is reported on its own',
          body: bulkSiteRoleBody,
          response: { 200: bulkSiteRoleResult, ...errorResponses(...AUTH_ERRORS, 413) },
        },
      },
      async (request) => {
        const ids = request.body.ids.map((id) => new Types.ObjectId(id));
        const results = await bulkChangeRole(models, ids, request.body.siteRole, actorOf(request));
        const count = (r: string) => results.filter((x) => x.result === r).length;
        return {
          siteRole: request.body.siteRole,
          changed: count('changed'),
          unchanged: count('unchanged'),
          failed: count('not_found') + count('refused'),
          results,
        };
      },
    );

    app.delete(
      '/v1/users/:idOrEmail',
      {
        onRequest: guard('users:delete'),
        schema: {
          tags: TAGS,
          summary: 'Delete a user permanently; what they created stays with "Deleted User" as creator',
          params: idOrEmailParams,
          response: { 200: deletedSchema, ...errorResponses(...AUTH_ERRORS, 404, 409) },
        },
      },
      async (request) => {
        const target = await getUserByIdOrEmail(models, request.params.idOrEmail);
        const user = await deleteChecked(models, target._id, actorOf(request), deps.temporal);
        return { message: 'User deleted permanently.', deleted: { _id: String(user._id), email: user.email } };
      },
    );
  };
}

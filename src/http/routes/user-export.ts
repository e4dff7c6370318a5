/** CSV export of the user list (Administrators only). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAudit } from '../../services/audit';
import { exportUsersCsv } from '../../services/user-export';
import type { AppDeps } from '../deps';
import { actorOf, principalOf } from '../auth';
import { AUTH_ERRORS, errorResponses } from '../schemas/common';
import { exportQuery } from '../schemas/users';
import { statusesFor, type Guard } from './guards';

export function userExportRoutes(deps: AppDeps, guard: Guard): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/users/export.csv',
      {
        onRequest: guard('users:export'),
        schema: {
          tags: ['users'],
          summary: 'Export users as CSV: name, email, role, status, last login, created',
          produces: ['text/csv'],
          querystring: exportQuery,
          response: { 200: z.string().describe('text/csv with a header row'), ...errorResponses(...AUTH_ERRORS) },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const statuses = statusesFor(principalOf(request).user.siteRole, q.status);
        await recordAudit(deps.models, { action: 'users.exported', actor: actorOf(request), details: { statuses, siteRoles: q.siteRole, q: q.q } });
        const stamp = new Date().toISOString().slice(0, 10);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="users-${stamp}.csv"`)
          // A stream is piped as is (fastify never serializes streams); the cast only satisfies the typed reply.
          .send(exportUsersCsv(deps.models, { statuses, siteRoles: q.siteRole, q: q.q }, request.log) as unknown as string);
      },
    );
  };
}

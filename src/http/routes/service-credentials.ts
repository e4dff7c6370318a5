/** Service credentials for the platform's services (Administrators): issue, list, revoke. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createServiceCredential, listServiceCredentials, revokeServiceCredential } from '../../services/service-credentials';
import type { AppDeps } from '../deps';
import { actorOf, principalOf } from '../auth';
import { issuedServiceCredentialSchema, revokedServiceCredentialSchema, serviceCredentialBody, serviceCredentialListQuery, serviceCredentialParams, serviceCredentialSchema } from '../schemas/access';
import { AUTH_ERRORS, errorResponses } from '../schemas/common';
import { createGuard } from './guards';

const TAGS = ['service credentials'];

export function serviceCredentialRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { models } = deps;
  return async (app) => {
    const guard = createGuard(deps);

    app.post(
      '/v1/service-credentials',
      {
        onRequest: guard('service-credentials:manage'),
        schema: {
          tags: TAGS,
          summary: 'Issue a credential for a platform service: it may read, create, update and delete resources and nothing else; the secret is shown once',
          body: serviceCredentialBody,
          response: { 201: issuedServiceCredentialSchema, ...errorResponses(...AUTH_ERRORS) },
        },
      },
      async (request, reply) => {
        const issued = await createServiceCredential(models, request.body.name, principalOf(request).user._id, actorOf(request));
        reply.status(201);
        return issued;
      },
    );

    app.get(
      '/v1/service-credentials',
      {
        onRequest: guard('service-credentials:manage'),
        schema: {
          tags: TAGS,
          summary: 'Service credentials, newest first (never their secrets)',
          querystring: serviceCredentialListQuery,
          response: { 200: z.object({ credentials: z.array(serviceCredentialSchema) }), ...errorResponses(...AUTH_ERRORS) },
        },
      },
      async (request) => ({ credentials: await listServiceCredentials(models, { includeRevoked: request.query.includeRevoked }) }),
    );

    app.delete(
      '/v1/service-credentials/:id',
      {
        onRequest: guard('service-credentials:manage'),
        schema: {
          tags: TAGS,
          summary: 'Revoke a service credential: its next request is a 401; a second call answers alreadyRevoked: true',
          params: serviceCredentialParams,
          response: { 200: revokedServiceCredentialSchema, ...errorResponses(...AUTH_ERRORS, 404) },
        },
      },
      async (request) => revokeServiceCredential(models, request.params.id, actorOf(request)),
    );
  };
}

/**
 * SCIM 2.0 (RFC 7643/7644) at /scim/v2 for identity providers (Okta, Entra ID): Users with
 * filter and paging, get, create, replace, patch and delete, plus the discovery documents.
 * Bearer auth with the SCIM token or an Administrator's API token; every error is a SCIM error.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthorizedError } from '../../errors';
import { attributeList, selectAttributes, type AttributeSelection } from '../../scim/attributes';
import { scimErrorBody, toScimError, ScimError } from '../../scim/errors';
import { enterpriseUserSchema, listResponse, serviceProviderConfig, userResourceType, userSchema } from '../../scim/discovery';
import { parsePatch } from '../../scim/patch';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from '../../scim/schema-names';
import { createScimUser, deleteScimUser, getScimUser, listScimUsers, updateScimUser, type ScimCaller, type ScimDeps, type ScimUserRecord } from '../../scim/scim-users';
import { parseSearchRequest, type UserQuery } from '../../scim/search';
import { parseScimUser, toScimUser } from '../../scim/user-resource';
import { constantTimeEqual } from '../../security/secrets';
import { strictJsonParser } from '../body-encoding';
import type { AppDeps } from '../deps';
import { answerMethodNotAllowed } from '../method-not-allowed';
import { bearerToken, createAuthenticate, principalOf } from '../auth';

declare module 'fastify' {
  interface FastifyRequest {
    scimCaller?: ScimCaller;
  }
}

const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';
const DEFAULT_PAGE_SIZE = 100;

function integerParam(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const text = typeof value === 'string' ? value : '';
  if (!/^-?\d{1,9}$/.test(text)) throw new ScimError(400, `${name} must be an integer.`, 'invalidValue');
  return Number(text);
}

function callerOf(request: FastifyRequest): ScimCaller {
  if (!request.scimCaller) throw new UnauthorizedError();
  return request.scimCaller;
}

export function scimRoutes(deps: AppDeps): FastifyPluginAsync {
  const scim: ScimDeps = { models: deps.models, temporal: deps.temporal, taskQueue: deps.config.TEMPORAL_TASK_QUEUE, logger: deps.logger.child({ component: 'scim' }) };
  const baseUrl = `${deps.config.PUBLIC_BASE_URL.replace(/\/$/, '')}/scim/v2`;
  const authenticateApiToken = createAuthenticate(deps.models, deps.logger);

  return async (app) => {
    app.addContentTypeParser('application/scim+json', { parseAs: 'buffer' }, strictJsonParser(app));

    app.setErrorHandler((err, request, reply) => {
      const { status, body, internal } = toScimError(err);
      if (internal) request.log.error({ err }, 'unhandled error on a SCIM route');
      return reply.status(status).type(SCIM_CONTENT_TYPE).send(body);
    });
    app.setNotFoundHandler((request, reply) => {
      const refused = answerMethodNotAllowed(request, reply);
      if (refused) return reply.type(SCIM_CONTENT_TYPE).send(scimErrorBody(405, refused.message));
      return reply.status(404).type(SCIM_CONTENT_TYPE).send(toScimError(new ScimError(404, `No SCIM endpoint ${request.method} ${request.url.split('?')[0]}.`)).body);
    });

    app.addHook('onRequest', async (request, reply) => {
      const presented = bearerToken(request);
      if (!presented) throw new UnauthorizedError('Send the SCIM token as "Authorization: Bearer <token>".', 'missing_token');
      const scimToken = deps.config.SCIM_BEARER_TOKEN;
      if (scimToken && constantTimeEqual(presented, scimToken)) {
        request.scimCaller = { actor: { type: 'scim', ip: request.ip }, requestedBy: { type: 'scim' }, processCaller: { id: 'scim', role: 'Administrators' } };
        return;
      }
      await authenticateApiToken.call(app, request, reply);
      const { user } = principalOf(request);
      if (user.siteRole !== 'Administrators') throw new ForbiddenError('Only the SCIM token or an Administrator may provision users.');
      request.scimCaller = {
        actor: { type: 'user', id: user._id, email: user.email, ip: request.ip },
        requestedBy: { type: 'user', id: String(user._id), email: user.email },
        processCaller: { id: String(user._id), role: user.siteRole, email: user.email },
      };
    });
    app.addHook('onSend', async (_request, reply, payload) => {
      if (reply.statusCode !== 204) reply.header('content-type', SCIM_CONTENT_TYPE);
      return payload;
    });

    const hidden = { schema: { hide: true } };
    type Query = { Querystring: Record<string, unknown> };

    /** The partial representation asked for with ?attributes= or ?excludedAttributes= (RFC 7644 §3.9). */
    const selectionOf = (query: Record<string, unknown>): AttributeSelection => ({
      attributes: attributeList(query.attributes, 'attributes', 'query'),
      excludedAttributes: attributeList(query.excludedAttributes, 'excludedAttributes', 'query'),
    });
    const present = (record: ScimUserRecord, selection: AttributeSelection) => selectAttributes(toScimUser(record.user, record.link, baseUrl), selection);
    const list = async (query: UserQuery) => {
      const page = await listScimUsers(scim, query);
      return listResponse(
        page.records.map((r) => present(r, query)),
        page.total,
        page.startIndex,
      );
    };

    app.get('/ServiceProviderConfig', hidden, async () => serviceProviderConfig(baseUrl));
    app.get('/ResourceTypes', hidden, async () => listResponse([userResourceType(baseUrl)], 1));
    app.get('/ResourceTypes/User', hidden, async () => userResourceType(baseUrl));
    app.get('/Schemas', hidden, async () => listResponse([userSchema(baseUrl), enterpriseUserSchema(baseUrl)], 2));
    app.get<{ Params: { id: string } }>('/Schemas/:id', hidden, async (request) => {
      if (request.params.id === USER_SCHEMA) return userSchema(baseUrl);
      if (request.params.id === ENTERPRISE_USER_SCHEMA) return enterpriseUserSchema(baseUrl);
      throw new ScimError(404, `No schema ${request.params.id.slice(0, 200)}.`);
    });
    // The discovery documents are read-only (RFC 7644 §4): any other method is 405 with Allow,
    // answered by the not-found handler above like every undeclared method (method-not-allowed.ts).

    app.get<Query>('/Users', hidden, async (request) =>
      list({
        startIndex: integerParam(request.query.startIndex, 'startIndex', 1),
        count: integerParam(request.query.count, 'count', DEFAULT_PAGE_SIZE),
        filter: typeof request.query.filter === 'string' ? request.query.filter.trim() || undefined : undefined,
        ...selectionOf(request.query),
      }),
    );

    // POST /.search (RFC 7644 §3.4.3): the query in a SearchRequest body. Users are the only
    // resource type, so the root search and the Users search answer alike.
    for (const url of ['/Users/.search', '/.search']) {
      app.post(url, hidden, async (request) => list(parseSearchRequest(request.body, DEFAULT_PAGE_SIZE)));
    }

    app.get<{ Params: { id: string } } & Query>('/Users/:id', hidden, async (request) => {
      const selection = selectionOf(request.query);
      return present(await getScimUser(scim, request.params.id), selection);
    });

    app.post<Query>('/Users', hidden, async (request, reply) => {
      const selection = selectionOf(request.query);
      const fields = parseScimUser(request.body);
      const created = await createScimUser(scim, fields, callerOf(request));
      return reply.status(201).header('location', toScimUser(created.user, created.link, baseUrl).meta.location).send(present(created, selection));
    });

    app.put<{ Params: { id: string } } & Query>('/Users/:id', hidden, async (request) => {
      const selection = selectionOf(request.query);
      const fields = parseScimUser(request.body);
      return present(await updateScimUser(scim, request.params.id, fields, callerOf(request)), selection);
    });

    app.patch<{ Params: { id: string } } & Query>('/Users/:id', hidden, async (request) => {
      const selection = selectionOf(request.query);
      const fields = parsePatch(request.body);
      return present(await updateScimUser(scim, request.params.id, fields, callerOf(request)), selection);
    });

    app.delete<{ Params: { id: string } }>('/Users/:id', hidden, async (request, reply) => {
      await deleteScimUser(scim, request.params.id, callerOf(request));
      return reply.status(204).send();
    });
  };
}

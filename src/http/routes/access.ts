/**
 * Access to accounts: API tokens (issue, revoke one; list and usage log for Administrators,
 * SecurityManagers and Auditors), sessions (one per account;
 * list, end one) and the activity log of a user.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { assertMayGainAccess } from '../../services/access';
import { userActivity } from '../../services/activity';
import { endOneSession, listSessions, revokeOneToken } from '../../services/credentials';
import { createSession, introspectSession } from '../../services/sessions';
import { listTokens, toApiToken, tokenUsageLog } from '../../services/token-activity';
import { issueTokenFor } from '../../services/user-admin';
import { getUserByIdOrEmail, parseObjectId } from '../../services/users';
import type { AppDeps } from '../deps';
import { actorOf } from '../auth';
import {
  createdSessionSchema,
  createSessionBody,
  endedSessionSchema,
  introspectBody,
  introspectionSchema,
  issuedTokenSchema,
  issueTokenBody,
  revokedTokenSchema,
  sessionListQuery,
  sessionListSchema,
  sessionParams,
  tokenActivityQuery,
  tokenActivitySchema,
  tokenListSchema,
  tokenParams,
} from '../schemas/access';
import { AUTH_ERRORS, errorResponses, idOrEmailParams } from '../schemas/common';
import { activityListSchema, activityQuery } from '../schemas/users';
import type { Guard } from './guards';

export function accessRoutes(deps: AppDeps, guard: Guard): FastifyPluginAsyncZod {
  const { models } = deps;
  return async (app) => {
    // Token activity is readable for accounts in every state: the tokens of a deactivated
    // account are exactly what a security review reads.
    app.get(
      '/v1/users/:idOrEmail/tokens',
      {
        onRequest: guard('tokens:read-activity'),
        schema: {
          tags: ['tokens'],
          summary: "A user's API tokens: id, scope, created, last used, revoked (never a hash)",
          params: idOrEmailParams,
          response: { 200: tokenListSchema, ...errorResponses(...AUTH_ERRORS, 404) },
        },
      },
      async (request) => {
        const user = await getUserByIdOrEmail(models, request.params.idOrEmail);
        return { userId: String(user._id), tokens: await listTokens(models, user._id) };
      },
    );

    app.get(
      '/v1/users/:idOrEmail/token-activity',
      {
        onRequest: guard('tokens:read-activity'),
        schema: {
          tags: ['tokens'],
          summary: "A user's tokens and their usage log, newest first",
          params: idOrEmailParams,
          querystring: tokenActivityQuery,
          response: { 200: tokenActivitySchema, ...errorResponses(...AUTH_ERRORS, 404) },
        },
      },
      async (request) => {
        const q = request.query;
        const user = await getUserByIdOrEmail(models, request.params.idOrEmail);
        const [tokens, log] = await Promise.all([listTokens(models, user._id), tokenUsageLog(models, user._id, { tokenId: q.tokenId }, q)]);
        return { userId: String(user._id), tokens, usage: log.usage, ...log.page };
      },
    );

    app.post(
      '/v1/users/:idOrEmail/tokens',
      {
        onRequest: guard('tokens:issue'),
        schema: {
          tags: ['tokens'],
          summary: 'Issue an API token for an active user; the token is shown once (409 while the user is locked out or being offboarded)',
          params: idOrEmailParams,
          body: issueTokenBody.nullish(),
          response: { 201: issuedTokenSchema, ...errorResponses(...AUTH_ERRORS, 404, 409) },
        },
      },
      async (request, reply) => {
        const user = await getUserByIdOrEmail(models, request.params.idOrEmail);
        await assertMayGainAccess(deps, user, 'an API token');
        const issued = await issueTokenFor(models, user._id, request.body ?? {}, actorOf(request));
        return reply.status(201).send({ ...toApiToken(issued.record), userId: String(user._id), token: issued.token });
      },
    );

    app.post(
      '/v1/users/:idOrEmail/sessions',
      {
        onRequest: guard('sessions:manage'),
        schema: {
          tags: ['sessions'],
          summary: 'Start a session for an active user, ending their previous one (one session per account; 409 while the user is locked out or being offboarded)',
          params: idOrEmailParams,
          body: createSessionBody,
          response: { 201: createdSessionSchema, ...errorResponses(...AUTH_ERRORS, 404, 409) },
        },
      },
      async (request, reply) => {
        const user = await getUserByIdOrEmail(models, request.params.idOrEmail);
        await assertMayGainAccess(deps, user, 'a session');
        const started = await createSession(models, user._id, { ip: request.ip, userAgent: request.body?.userAgent ?? request.headers['user-agent']?.slice(0, 512) }, actorOf(request));
        return reply.status(201).send({ sessionId: started.sessionId, userId: String(user._id), session: started.secret, endedPrevious: started.endedPrevious });
      },
    );

    app.delete(
      '/v1/users/:idOrEmail/tokens/:tokenId',
      {
        onRequest: guard('tokens:revoke'),
        schema: {
          tags: ['tokens'],
          summary: 'Revoke one API token of a user at once (audited); revoking it again answers alreadyRevoked and changes nothing',
          params: tokenParams,
          response: { 200: revokedTokenSchema, ...errorResponses(...AUTH_ERRORS, 404) },
        },
      },
      async (request) => {
        const user = await getUserByIdOrEmail(models, request.params.idOrEmail);
        const { alreadyRevoked, token } = await revokeOneToken(models, user, request.params.tokenId, actorOf(request));
        return { message: alreadyRevoked ? `Token ${token.tokenId} was already revoked.` : `Token ${token.tokenId} of ${user.email} revoked.`, userId: String(user._id), alreadyRevoked, token };
      },
    );

    app.get(
      '/v1/users/:idOrEmail/sessions',
      {
        onRequest: guard('sessions:manage'),
        schema: {
          tags: ['sessions'],
          summary: "A user's sessions, newest first: id, created, ended and why (never a secret)",
          params: idOrEmailParams,
          querystring: sessionListQuery,
          response: { 200: sessionListSchema, ...errorResponses(...AUTH_ERRORS, 404) },
        },
      },
      async (request) => {
        const user = await getUserByIdOrEmail(models, request.params.idOrEmail);
        const { page, sessions } = await listSessions(models, user._id, request.query);
        return { userId: String(user._id), sessions, ...page };
      },
    );

    app.delete(
      '/v1/users/:idOrEmail/sessions/:sessionId',
      {
        onRequest: guard('sessions:manage'),
        schema: {
          tags: ['sessions'],
          summary: 'End one session of a user at once (audited); ending it again answers alreadyEnded and changes nothing',
          params: sessionParams,
          response: { 200: endedSessionSchema, ...errorResponses(...AUTH_ERRORS, 404) },
        },
      },
      async (request) => {
        const user = await getUserByIdOrEmail(models, request.params.idOrEmail);
        const { alreadyEnded, session } = await endOneSession(models, user, parseObjectId(request.params.sessionId, 'session id'), actorOf(request));
        return { message: alreadyEnded ? `Session ${session.sessionId} had already ended.` : `Session ${session.sessionId} of ${user.email} ended.`, userId: String(user._id), alreadyEnded, session };
      },
    );

    app.post(
      '/v1/sessions/introspect',
      {
        onRequest: guard('sessions:manage'),
        schema: {
          tags: ['sessions'],
          summary: "Whether a session secret is its user's current session",
          body: introspectBody,
          response: { 200: introspectionSchema, ...errorResponses(...AUTH_ERRORS) },
        },
      },
      async (request) => introspectSession(models, request.body.session),
    );

    app.get(
      '/v1/users/:idOrEmail/activity',
      {
        onRequest: guard('users:read-activity'),
        schema: {
          tags: ['users'],
          summary: 'Activity log of a user: audit events about them, newest first',
          params: idOrEmailParams,
          querystring: activityQuery,
          response: { 200: activityListSchema, ...errorResponses(...AUTH_ERRORS, 404) },
        },
      },
      async (request) => {
        const q = request.query;
        const user = await getUserByIdOrEmail(models, request.params.idOrEmail);
        const { page, events } = await userActivity(models, user._id, { action: q.action }, q);
        return { ...page, events };
      },
    );
  };
}

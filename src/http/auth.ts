/**
 * Bearer-token authentication (run for every route by route-rules.ts) and the role matrix,
 * applied per route. The holder's role and status are read from the store on every request, so a
 * role change counts from the next request and a deactivated user's token stops working at once.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Models } from '../db/models';
import { can, type Permission } from '../domain/roles';
import { ForbiddenError, UnauthorizedError } from '../errors';
import { recordTokenUse, verifyAccessToken } from '../security/access-tokens';
import type { Actor } from '../services/audit';
import type { StoredUser } from '../services/users';
import type { Logger } from '../logger';
import { loggablePath } from './log-redaction';

export interface Principal {
  user: StoredUser;
  tokenId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export function createAuthenticate(models: Models, logger: Logger): preHandlerAsyncHookHandler {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply) {
    if (request.principal) return;
    const presented = bearerToken(request);
    if (!presented) throw new UnauthorizedError('Send an API token as "Authorization: Bearer <token>".', 'missing_token');
    const token = await verifyAccessToken(models, presented);
    if (!token) throw new UnauthorizedError('The API token is unknown, revoked or expired.', 'invalid_token');
    const user = await models.User.findById(token.userId).lean<StoredUser>();
    if (!user || user.status !== 'active') throw new UnauthorizedError("The token's holder is not an active user.", 'inactive_user');
    request.principal = { user, tokenId: token.tokenId };
    reply.raw.once('finish', () => {
      recordTokenUse(models, { tokenId: token.tokenId, userId: user._id, at: new Date(), method: request.method, path: loggablePath(request), ip: request.ip, status: reply.statusCode }).catch((err) =>
        logger.warn({ err, tokenId: token.tokenId }, 'could not record token usage'),
      );
    });
  };
}

/** Refuses with 403 unless the principal's current role grants every listed permission. */
export function requirePermission(...permissions: Permission[]): preHandlerAsyncHookHandler {
  return async function authorize(request: FastifyRequest) {
    const role = request.principal?.user.siteRole;
    if (!role) throw new UnauthorizedError();
    const missing = permissions.filter((p) => !can(role, p));
    if (missing.length) throw new ForbiddenError(`The ${role} role may not do this (needs ${missing.join(', ')}).`);
  };
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthorizedError();
  return request.principal;
}

export function actorOf(request: FastifyRequest): Actor {
  const p = principalOf(request);
  return { type: 'user', id: p.user._id, email: p.user.email, ip: request.ip };
}

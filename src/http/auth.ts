/**
 * Bearer-token authentication (run for every route by route-rules.ts) and the role matrix,
 * applied per route. The holder's role and status are read from the store on every request, so a
 * role change counts from the next request and a deactivated user's token stops working at once.
 *
 * The caller is a user (API token, `tnr_…`) or a platform service (service credential, `tsc_…`,
 * read on every request too: a revoked one is a 401 from the next request). A service may use
 * only the routes that declare `config: { services: true }` (checked in route-rules.ts) and only
 * the service permissions of the role matrix; everything that asks for a user (principalOf,
 * actorOf) refuses it.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import { can, serviceCan, type Permission } from '../domain/roles';
import { ForbiddenError, UnauthorizedError } from '../errors';
import { recordTokenUse, verifyAccessToken } from '../security/access-tokens';
import { looksLikeServiceCredential, recordServiceCredentialUse, verifyServiceCredential } from '../security/service-credentials';
import type { Actor, AuditActor } from '../services/audit';
import type { StoredUser } from '../services/users';
import type { Logger } from '../logger';
import { loggablePath } from './log-redaction';

export interface UserPrincipal {
  kind: 'user';
  user: StoredUser;
  tokenId: string;
}

interface ServicePrincipal {
  kind: 'service';
  credential: { _id: Types.ObjectId; credentialId: string; name: string };
}

type Principal = UserPrincipal | ServicePrincipal;

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
    if (looksLikeServiceCredential(presented)) {
      const credential = await verifyServiceCredential(models, presented);
      if (!credential) throw new UnauthorizedError('The service credential is unknown or revoked.', 'invalid_token');
      request.principal = { kind: 'service', credential: { _id: credential._id, credentialId: credential.credentialId, name: credential.name } };
      reply.raw.once('finish', () => {
        recordServiceCredentialUse(models, credential.credentialId, new Date()).catch((err) => logger.warn({ err, credentialId: credential.credentialId }, 'could not record service credential use'));
      });
      return;
    }
    const token = await verifyAccessToken(models, presented);
    if (!token) throw new UnauthorizedError('The API token is unknown, revoked or expired.', 'invalid_token');
    const user = await models.User.findById(token.userId).lean<StoredUser>();
    if (!user || user.status !== 'active') throw new UnauthorizedError("The token's holder is not an active user.", 'inactive_user');
    request.principal = { kind: 'user', user, tokenId: token.tokenId };
    reply.raw.once('finish', () => {
      recordTokenUse(models, { tokenId: token.tokenId, userId: user._id, at: new Date(), method: request.method, path: loggablePath(request), ip: request.ip, status: reply.statusCode }).catch((err) =>
        logger.warn({ err, tokenId: token.tokenId }, 'could not record token usage'),
      );
    });
  };
}

/**
 * Refuses with 403 unless the principal may do every listed permission: a user by their current
 * role, a service by the service permissions (and only on a route open to services).
 */
export function requirePermission(...permissions: Permission[]): preHandlerAsyncHookHandler {
  return async function authorize(request: FastifyRequest) {
    const principal = request.principal;
    if (!principal) throw new UnauthorizedError();
    if (principal.kind === 'service') {
      const missing = permissions.filter((p) => !serviceCan(p));
      if (missing.length || !request.routeOptions.config.services) throw serviceRefused();
      return;
    }
    const role = principal.user.siteRole;
    const missing = permissions.filter((p) => !can(role, p));
    if (missing.length) throw new ForbiddenError(`The ${role} role may not do this (needs ${missing.join(', ')}).`);
  };
}

export function serviceRefused(): ForbiddenError {
  return new ForbiddenError('A service credential may only read, create, update and delete resources.', 'service_not_allowed');
}

/** The calling user; a service credential is refused here (403), so code that needs a person never gets a service. */
export function principalOf(request: FastifyRequest): UserPrincipal {
  if (!request.principal) throw new UnauthorizedError();
  if (request.principal.kind !== 'user') throw serviceRefused();
  return request.principal;
}

export function actorOf(request: FastifyRequest): Actor {
  const p = principalOf(request);
  return { type: 'user', id: p.user._id, email: p.user.email, ip: request.ip };
}

/** Who the audit log names for a request, user or service (routes open to services only). */
export function auditActorOf(request: FastifyRequest): AuditActor {
  const p = request.principal;
  if (p?.kind === 'service') return { type: 'service', id: p.credential._id, ip: request.ip };
  return actorOf(request);
}

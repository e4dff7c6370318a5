/**
 * Undeclared methods (RFC 9110 §15.5.6): a request whose path a route serves, but not with its
 * method, is answered 405 with an `Allow` header naming the methods that path does take; a path
 * no route serves stays 404. The methods are looked up in fastify's own router, the one that
 * routes requests, so the answer cannot drift from the registered routes. The three not-found
 * handlers (the API's, SCIM's, the console's) call this and answer in their own format.
 *
 * The 405 comes where the 404 would: it is about the route, not the caller, and says nothing the
 * OpenAPI document does not already say. So the API and the console answer it before any
 * authentication (as they answer 404), while SCIM, which authenticates everything under its
 * prefix, unknown paths included, answers it after its bearer check.
 */
import type { FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';

/** The methods any tenure route may declare (fastify adds HEAD to every GET route). */
const METHODS: readonly HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * The methods routes serve for this request's path; empty when no route serves the path, or
 * when one serves it with the request's own method (then the 404 is the route's own answer).
 */
function allowedMethods(request: FastifyRequest): string[] {
  const url = request.url;
  const find = (method: HTTPMethods) => request.server.findRoute({ method, url }) !== null;
  if (find(request.method as HTTPMethods)) return [];
  return METHODS.filter(find);
}

/** Sets status 405 and the Allow header when the path takes other methods; says whether it did. */
export function answerMethodNotAllowed(request: FastifyRequest, reply: FastifyReply): { allowed: string[]; message: string } | undefined {
  const allowed = allowedMethods(request);
  if (allowed.length === 0) return undefined;
  reply.status(405).header('allow', allowed.join(', '));
  // The path is not repeated: it may hold a token (an invitation link).
  return { allowed, message: `${request.method} is not allowed here; this path takes ${allowed.join(', ')}.` };
}

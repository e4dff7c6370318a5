/**
 * The rules every API route follows, applied in one place when the route is added, so a route
 * cannot forget them:
 *
 * - **Authentication first.** Every route needs an API token unless its schema declares
 *   `security: []` (public, as the OpenAPI document then says too). One onRequest hook checks
 *   the token before the body is read, parsed or validated: a caller without a valid token gets
 *   401 whatever they sent. Route guards then check the role, still before the body.
 * - **Services are let in only where a route says so.** A platform service's credential is
 *   refused (403 `service_not_allowed`) on every route that does not declare
 *   `config: { services: true }`, so a new route is closed to services unless it opts in.
 * - **Closed input.** Query strings and JSON bodies are strict objects at every depth: unknown
 *   keys (`$where`, a misspelt parameter) are a 400. A route without a query schema takes no
 *   query parameters, and one without a body schema no body beyond `{}`. Building the app fails
 *   when a route's schema would accept unknown keys.
 *
 * - **Shared answers documented once.** Every route's response schemas get the statuses the
 *   rules above (and the app's body handling) can answer with: 400 (invalid path, query or
 *   body); 401 and 403 on routes that need a token; 413 and 415 on routes that take a body; 414
 *   (a URL longer than the server reads); 429 (rate limits); 503 when a server the API depends on
 *   is unreachable or the process sheds load. A route lists only its own (404, 409, …).
 *
 * SCIM and the signed HR webhooks speak their own protocols (their own tokens or signatures,
 * their own error format): they authenticate and check their input themselves.
 */
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { z } from 'zod';
import type { Models } from '../db/models';
import type { Logger } from '../logger';
import { createAuthenticate, serviceRefused } from './auth';
import { errorResponses } from './schemas/common';

type RouteAccess = 'token' | 'public' | 'own';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set for every route by applyRouteRules: who may call it and who checks. */
    access?: RouteAccess;
    /** The route may be called with a service credential (the resource routes); off unless set. */
    services?: boolean;
  }
}

/**
 * Routes that speak another protocol and authenticate and check their input themselves (the
 * queue dashboard: Bull Board's own API, behind the console's session; console/queues.ts).
 */
const OWN_PROTOCOL_PATHS: readonly RegExp[] = [/^\/scim\/v2(\/|$)/, /^\/webhooks\//, /^\/console\/queues(\/|$)/];

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The body schema of a route that takes no body: nothing, null or `{}`. Left out of the OpenAPI document. */
export const NO_BODY = z.strictObject({}).nullish();

/** The onRoute hook: decides the route's access and closes its query and body schemas. */
export function applyRouteRules(route: RouteOptions): void {
  const url = route.url ?? '';
  if (OWN_PROTOCOL_PATHS.some((p) => p.test(url))) {
    route.config = { ...route.config, access: 'own' };
    return;
  }
  const schema = { ...(route.schema ?? {}) } as NonNullable<RouteOptions['schema']> & { security?: unknown[] };
  const where = `${String(route.method)} ${url}`;
  if (schema.querystring === undefined) schema.querystring = z.strictObject({});
  else assertClosed(schema.querystring, `${where}: query`);
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const takesBody = methods.some((m) => BODY_METHODS.has(String(m).toUpperCase()));
  if (takesBody) {
    if (schema.body === undefined) schema.body = NO_BODY;
    else assertClosed(schema.body, `${where}: body`);
  }
  const isPublic = Array.isArray(schema.security) && schema.security.length === 0;
  schema.response = {
    ...errorResponses(
      400,
      ...(isPublic ? [] : ([401, 403] as const)),
      ...(takesBody ? ([413, 415] as const) : []),
      414,
      // Rate limits (protection.ts): the failed-authentication limit applies to any request that
      // bears a token, public routes included, and some public routes have a budget of their own.
      429,
      503,
    ),
    ...(schema.response as Record<number, unknown> | undefined),
  };
  route.schema = schema;
  if (isPublic && route.config?.services) throw new Error(`${where}: a public route cannot be opened to services`);
  route.config = { ...route.config, access: isPublic ? 'public' : 'token' };
}

/** Throws when `schema` (zod) accepts unknown keys anywhere; names where. */
function assertClosed(schema: unknown, where: string): void {
  const open: string[] = [];
  collectOpenObjects(schema, '', open, new Set());
  if (open.length) throw new Error(`${where} schema accepts unknown keys at ${open.map((p) => p || '(top level)').join(', ')}; use z.strictObject`);
}

interface ZodLike {
  _zod?: { def: Record<string, unknown> & { type: string } };
}

function collectOpenObjects(schema: unknown, path: string, open: string[], seen: Set<unknown>): void {
  if (!schema || typeof schema !== 'object' || seen.has(schema)) return;
  seen.add(schema);
  const def = (schema as ZodLike)._zod?.def;
  if (!def) {
    open.push(`${path} (not a zod schema)`);
    return;
  }
  const walk = (inner: unknown, at = path) => collectOpenObjects(inner, at, open, seen);
  switch (def.type) {
    case 'object': {
      const catchall = (def.catchall as ZodLike | undefined)?._zod?.def.type;
      if (catchall !== 'never') open.push(path);
      for (const [key, value] of Object.entries(def.shape as Record<string, unknown>)) walk(value, path ? `${path}.${key}` : key);
      return;
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return walk(def.innerType);
    case 'pipe':
      // What the client sends is the pipe's input.
      return walk(def.in);
    case 'array':
      return walk(def.element, `${path}[]`);
    case 'union':
      return (def.options as unknown[]).forEach((o) => walk(o));
    case 'intersection':
      walk(def.left);
      return walk(def.right);
    case 'tuple':
      return (def.items as unknown[]).forEach((o) => walk(o, `${path}[]`));
    case 'record':
      return walk(def.valueType, `${path}.*`);
    case 'lazy':
      return walk((def.getter as () => unknown)());
    default:
      return;
  }
}

/** The onRequest hook that authenticates every route that needs an API token. */
export function createRouteAuthentication(models: Models, logger: Logger) {
  const authenticate = createAuthenticate(models, logger);
  return async function authenticateRoute(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (request.is404) return;
    // Fail closed: only routes marked public or own-protocol go without an API token.
    const access = request.routeOptions.config.access;
    if (access === 'public' || access === 'own') return;
    await authenticate.call(request.server, request, reply);
    // Fail closed: a service credential gets only the routes that open themselves to services.
    if (request.principal?.kind === 'service' && request.routeOptions.config.services !== true) throw serviceRefused();
  };
}

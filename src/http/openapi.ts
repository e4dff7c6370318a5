/**
 * The OpenAPI document, written in one place from the routes' zod schemas:
 *
 * - `servers` is the public base URL; every operation gets an `operationId` derived from its
 *   method and path (`GET /v1/users/{idOrEmail}/offboarding` → `getUsersByIdOrEmailOffboarding`,
 *   stable while the route is; building the document fails if two would collide).
 * - Zod schemas with an `id` (`.meta({ id })`, e.g. the error envelope in schemas/common.ts) are emitted once under
 *   `components.schemas` and referenced with `$ref`.
 * - A route whose `config.csvBody` describes a CSV form documents `text/csv` next to JSON.
 * - A route that takes no body documents none (its schema only refuses one).
 *
 * The statuses every route shares (400, 401, 403, 413, 414, 415, 429, 503) are added to the routes by
 * route-rules.ts; this file only gives each error status its sentence.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { NO_BODY } from './route-rules';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route also takes `text/csv`; the description of that form for the OpenAPI document. */
    csvBody?: string;
  }
}

/** What each error status means, for the responses' descriptions. */
const ERROR_DESCRIPTIONS: Record<string, string> = {
  400: 'The request is invalid (path, query or body); `error.details` lists the fields',
  401: 'No API token, or one that is unknown, revoked, expired or whose holder is not active',
  403: "The caller's role (or a service credential) may not do this",
  404: 'The user or object named in the path does not exist',
  409: 'The request conflicts with the current state',
  410: 'The link has expired or was used',
  413: 'The request body is larger than this server accepts',
  414: 'The URL is longer than this server reads',
  415: 'The Content-Type is not accepted here (send UTF-8 application/json)',
  422: 'The request is well-formed but cannot be carried out',
  429: 'Too many requests from this address (or too many failed authentications); retry after Retry-After',
  503: 'A server the API depends on (MongoDB, Redis, Temporal) cannot be reached, or the server is overloaded; retry later',
};

const zodTransform = createJsonSchemaTransform({});
const zodTransformObject = createJsonSchemaTransformObject({});

type TransformInput = Parameters<typeof zodTransform>[0];

/** The options of @fastify/swagger for the API's document. */
export function swaggerOptions(publicBaseUrl: string): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'tenure',
        version: '0.1.0',
        description: 'User-account lifecycle automation: users, onboarding and offboarding processes. SCIM 2.0 provisioning is described in its own document, /scim/v2/openapi.json.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: publicBaseUrl.replace(/\/$/, ''), description: 'This server' }],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token (`tnr_…`) or, on the resource routes, a service credential (`tsc_…`)' } } },
      security: [{ bearerAuth: [] }],
    },
    transform: transformRoute as FastifyDynamicSwaggerOptions['transform'],
    transformObject: (input) => completeDocument(zodTransformObject(input as Parameters<typeof zodTransformObject>[0]) as OpenApiDocument),
  };
}

function transformRoute(input: TransformInput) {
  const schema = input.schema as (Record<string, unknown> & { body?: unknown }) | undefined;
  const noBody = schema?.body === NO_BODY;
  const result = zodTransform(noBody ? { ...input, schema: { ...schema, body: undefined } } : input) as { schema: Record<string, unknown>; url: string };
  const csv = (input.route as { config?: { csvBody?: string } }).config?.csvBody;
  if (csv && result.schema.body) {
    result.schema = { ...result.schema, body: { content: { 'application/json': { schema: result.schema.body }, 'text/csv': { schema: { type: 'string', description: csv } } } } };
  }
  return result;
}

interface Operation {
  operationId?: string;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: { default?: unknown } }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}
interface OpenApiDocument {
  paths?: Record<string, Record<string, Operation>>;
  [key: string]: unknown;
}

const ERROR_REF = '#/components/schemas/Error';
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);

/** operationIds and error descriptions over the whole document. */
function completeDocument(doc: OpenApiDocument): OpenApiDocument {
  const taken = new Map<string, string>();
  for (const [path, byMethod] of Object.entries(doc.paths ?? {})) {
    for (const [method, operation] of Object.entries(byMethod)) {
      if (!METHODS.has(method)) continue;
      const where = `${method.toUpperCase()} ${path}`;
      operation.operationId ??= operationIdOf(method, path);
      const other = taken.get(operation.operationId);
      if (other) throw new Error(`OpenAPI: ${where} and ${other} would share the operationId ${operation.operationId}; give one an explicit operationId`);
      taken.set(operation.operationId, where);
      // A body with a default (`{}`) may be left out.
      if (operation.requestBody && operation.requestBody.content?.['application/json']?.schema?.default !== undefined) operation.requestBody.required = false;
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (Number(status) < 400) continue;
        if (!response.description || response.description === 'Default Response') response.description = ERROR_DESCRIPTIONS[status] ?? STATUS_CODES[Number(status)] ?? 'Error';
        // Errors are JSON even where the route produces another type (the CSV export).
        const error = Object.values(response.content ?? {}).find((c) => (c.schema as { $ref?: string } | undefined)?.$ref === ERROR_REF);
        if (error) response.content = { 'application/json': error };
      }
    }
  }
  // Components nothing refers to (the input form of an output-only schema) are left out.
  const schemas = (doc.components as { schemas?: Record<string, unknown> } | undefined)?.schemas ?? {};
  const reachable = new Set<string>();
  const follow = (value: unknown) => {
    for (const [, name] of JSON.stringify(value).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      if (!reachable.has(name!)) {
        reachable.add(name!);
        follow(schemas[name!] ?? null);
      }
    }
  };
  follow({ ...doc, components: { ...(doc.components as object), schemas: {} } });
  for (const name of Object.keys(schemas)) if (!reachable.has(name)) delete schemas[name];
  return doc;
}

/**
 * `post` + `/v1/users/{idOrEmail}/offboarding/approve` → `postUsersByIdOrEmailOffboardingApprove`:
 * the method, then the path's words without the version prefix, parameters as `By<Name>`.
 */
function operationIdOf(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((s) => s && !/^v\d+$/.test(s))
    .flatMap((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (param) return ['by', param[1]!];
      return segment.split(/[^A-Za-z0-9]+/).filter(Boolean);
    });
  return [method.toLowerCase(), ...words].map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
}

/**
 * The OpenAPI document of the SCIM 2.0 endpoints (`GET /scim/v2/openapi.json`), kept apart from
 * the API's: SCIM is another protocol for other clients (identity providers), with its own
 * token, its own media type (`application/scim+json`), its own error body (RFC 7644 §3.12) and
 * its schemas defined by RFC 7643 rather than by the API's zod schemas. Keeping it apart keeps
 * every rule of the API document (one error envelope, the shared statuses) true for all of its
 * operations. The resource schemas here describe what tenure reads and writes; the full
 * attribute definitions are served by `GET /scim/v2/Schemas`.
 */
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from './schema-names';

const SCIM = 'application/scim+json';
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const body = (schema: object) => ({ [SCIM]: { schema }, 'application/json': { schema } });
const ok = (description: string, schema: object) => ({ description, content: { [SCIM]: { schema } } });
const error = (description: string) => ({ description, content: { [SCIM]: { schema: ref('Error') } } });

/** The statuses every SCIM request may get: unreadable request, no or bad token, not an Administrator. */
const COMMON_ERRORS = {
  400: error('The request is invalid (filter, attribute, value); scimType says which'),
  401: error('No token, or one that is neither the SCIM token nor an active API token'),
  403: error("The API token's holder is not an Administrator"),
  414: { description: "The URL is longer than this server reads (refused before SCIM reads the request, with the API's error body)" },
  429: error('Too many requests from this address; retry after Retry-After'),
  503: error('A server tenure depends on cannot be reached, or the server is overloaded; retry later'),
};
const BODY_ERRORS = {
  413: error('The request body is larger than this server accepts'),
  415: error('Send application/scim+json or application/json, UTF-8'),
};
const NOT_FOUND = { 404: error('No such user (or schema)') };

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'The SCIM id of the user' };
const attributeParams = [
  { name: 'attributes', in: 'query', schema: { type: 'string' }, description: 'Comma-separated attributes to return (RFC 7644 §3.9)' },
  { name: 'excludedAttributes', in: 'query', schema: { type: 'string' }, description: 'Comma-separated attributes to leave out' },
];
const listParams = [
  { name: 'filter', in: 'query', schema: { type: 'string', maxLength: 2000 }, description: 'A SCIM filter, e.g. userName eq "ada@example.com"' },
  { name: 'startIndex', in: 'query', schema: { type: 'integer' }, description: '1-based index of the first result (default 1)' },
  { name: 'count', in: 'query', schema: { type: 'integer' }, description: 'Page size (default 100)' },
  ...attributeParams,
];

const multiValued = { type: 'array', items: { type: 'object', properties: { value: { type: 'string' }, type: { type: 'string' }, primary: { type: 'boolean' } } } };

const schemas = {
  Error: {
    type: 'object',
    required: ['schemas', 'status', 'detail'],
    properties: {
      schemas: { type: 'array', items: { type: 'string', const: 'urn:ietf:params:scim:api:messages:2.0:Error' } },
      status: { type: 'string', description: 'The HTTP status, as a string' },
      scimType: { type: 'string', description: 'invalidFilter, invalidValue, uniqueness, mutability, invalidSyntax, …' },
      detail: { type: 'string' },
    },
  },
  User: {
    type: 'object',
    description: `A user (${USER_SCHEMA}, with ${ENTERPRISE_USER_SCHEMA} when the employee number or manager is known)`,
    required: ['schemas', 'userName'],
    properties: {
      schemas: { type: 'array', items: { type: 'string' } },
      id: { type: 'string', readOnly: true },
      externalId: { type: 'string' },
      userName: { type: 'string', description: "The user's email address" },
      name: { type: 'object', properties: { givenName: { type: 'string' }, familyName: { type: 'string' }, formatted: { type: 'string' } } },
      displayName: { type: 'string' },
      title: { type: 'string' },
      emails: multiValued,
      active: { type: 'boolean', description: 'false deactivates the user through an offboarding' },
      [ENTERPRISE_USER_SCHEMA]: { type: 'object', properties: { employeeNumber: { type: 'string' }, manager: { type: 'object', properties: { value: { type: 'string' } } } } },
      meta: {
        type: 'object',
        readOnly: true,
        properties: { resourceType: { type: 'string' }, created: { type: 'string' }, lastModified: { type: 'string' }, location: { type: 'string' } },
      },
    },
  },
  ListResponse: {
    type: 'object',
    required: ['schemas', 'totalResults', 'Resources'],
    properties: {
      schemas: { type: 'array', items: { type: 'string' } },
      totalResults: { type: 'integer' },
      startIndex: { type: 'integer' },
      itemsPerPage: { type: 'integer' },
      Resources: { type: 'array', items: { type: 'object' } },
    },
  },
  PatchOp: {
    type: 'object',
    required: ['schemas', 'Operations'],
    properties: {
      schemas: { type: 'array', items: { type: 'string', const: 'urn:ietf:params:scim:api:messages:2.0:PatchOp' } },
      Operations: {
        type: 'array',
        items: { type: 'object', required: ['op'], properties: { op: { type: 'string', description: 'add, replace or remove (any case)' }, path: { type: 'string' }, value: {} } },
      },
    },
  },
  SearchRequest: {
    type: 'object',
    properties: {
      schemas: { type: 'array', items: { type: 'string', const: 'urn:ietf:params:scim:api:messages:2.0:SearchRequest' } },
      filter: { type: 'string' },
      startIndex: { type: 'integer' },
      count: { type: 'integer' },
      attributes: { type: 'array', items: { type: 'string' } },
      excludedAttributes: { type: 'array', items: { type: 'string' } },
    },
  },
  Discovery: { type: 'object', description: 'A discovery document (RFC 7643 §5–7)', properties: { schemas: { type: 'array', items: { type: 'string' } } } },
};

const search = (operationId: string) => ({
  post: {
    operationId,
    tags: ['scim'],
    summary: 'Search users with a SearchRequest body (RFC 7644 §3.4.3)',
    requestBody: { required: true, content: body(ref('SearchRequest')) },
    responses: { 200: ok('The matching users, one page', ref('ListResponse')), ...COMMON_ERRORS, ...BODY_ERRORS },
  },
});

const discovery = (path: string, operationId: string, summary: string, extra: object = {}) => ({
  [path]: {
    get: { operationId, tags: ['scim discovery'], summary, description: 'Read-only: other methods answer 405 with Allow: GET, HEAD.', ...extra, responses: { 200: ok(summary, ref('Discovery')), ...COMMON_ERRORS, ...('parameters' in extra ? NOT_FOUND : {}) } },
  },
});

/** The SCIM document; `baseUrl` is the public base URL of the API. */
export function scimOpenApiDocument(baseUrl: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'tenure SCIM 2.0',
      version: '0.1.0',
      description: 'SCIM 2.0 (RFC 7643/7644) user provisioning for identity providers. Authenticate with the SCIM token (SCIM_BEARER_TOKEN) or an Administrator API token.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: `${baseUrl.replace(/\/$/, '')}/scim/v2`, description: 'This server' }],
    security: [{ scimBearer: [] }],
    tags: [{ name: 'scim', description: 'Users' }, { name: 'scim discovery', description: 'What this service provider supports (read-only)' }],
    paths: {
      '/Users': {
        get: {
          operationId: 'scimListUsers',
          tags: ['scim'],
          summary: 'List or filter users',
          parameters: listParams,
          responses: { 200: ok('The matching users, one page', ref('ListResponse')), ...COMMON_ERRORS },
        },
        post: {
          operationId: 'scimCreateUser',
          tags: ['scim'],
          summary: 'Create (provision) a user; onboarding starts',
          parameters: attributeParams,
          requestBody: { required: true, content: body(ref('User')) },
          responses: {
            201: { ...ok('The user as created', ref('User')), headers: { Location: { schema: { type: 'string' }, description: "The user's URL" } } },
            409: error('A user with this userName exists (scimType uniqueness)'),
            ...COMMON_ERRORS,
            ...BODY_ERRORS,
          },
        },
      },
      '/Users/{id}': {
        parameters: [idParam],
        get: { operationId: 'scimGetUser', tags: ['scim'], summary: 'A user', parameters: attributeParams, responses: { 200: ok('The user', ref('User')), ...NOT_FOUND, ...COMMON_ERRORS } },
        put: {
          operationId: 'scimReplaceUser',
          tags: ['scim'],
          summary: 'Replace a user (active: false offboards them)',
          parameters: attributeParams,
          requestBody: { required: true, content: body(ref('User')) },
          responses: { 200: ok('The user as replaced', ref('User')), 409: error('The change conflicts with the current state'), ...NOT_FOUND, ...COMMON_ERRORS, ...BODY_ERRORS },
        },
        patch: {
          operationId: 'scimPatchUser',
          tags: ['scim'],
          summary: 'Change attributes of a user (PatchOp)',
          parameters: attributeParams,
          requestBody: { required: true, content: body(ref('PatchOp')) },
          responses: { 200: ok('The user as changed', ref('User')), 409: error('The change conflicts with the current state'), ...NOT_FOUND, ...COMMON_ERRORS, ...BODY_ERRORS },
        },
        delete: {
          operationId: 'scimDeleteUser',
          tags: ['scim'],
          summary: 'Deprovision a user (offboarding)',
          responses: { 204: { description: 'Deprovisioned' }, ...NOT_FOUND, ...COMMON_ERRORS },
        },
      },
      '/Users/.search': search('scimSearchUsers'),
      '/.search': search('scimSearch'),
      ...discovery('/ServiceProviderConfig', 'scimServiceProviderConfig', 'What this service provider supports'),
      ...discovery('/ResourceTypes', 'scimListResourceTypes', 'The resource types (User)'),
      ...discovery('/ResourceTypes/User', 'scimGetUserResourceType', 'The User resource type'),
      ...discovery('/Schemas', 'scimListSchemas', 'The schemas (User, Enterprise User)'),
      ...discovery('/Schemas/{id}', 'scimGetSchema', 'One schema by its URN', { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'The schema URN' }] }),
    },
    components: { securitySchemes: { scimBearer: { type: 'http', scheme: 'bearer', description: 'The SCIM token, or an Administrator API token' } }, schemas },
  };
}

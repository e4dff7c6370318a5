import type { App } from '../../src/http/app';

export const SCIM_TOKEN = 'scim-test-token-0123456789abcdef';
export const SCIM_CONTENT = 'application/scim+json';

/** A SCIM request as an identity provider sends it (Bearer token, application/scim+json). */
export function scimRequest(app: App, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, token = SCIM_TOKEN) {
  return app.inject({
    method,
    url: `/scim/v2${url}`,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': SCIM_CONTENT } : {}), accept: SCIM_CONTENT },
    ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
}

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** SCIM discovery documents (RFC 7644 §4, RFC 7643 §5-7): what this service provider supports. */
import { MAX_PAGE_SIZE } from './scim-users';
import { ENTERPRISE_USER_SCHEMA, LIST_RESPONSE_SCHEMA, RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA, SERVICE_PROVIDER_CONFIG_SCHEMA, USER_SCHEMA } from './schema-names';

export function serviceProviderConfig(baseUrl: string) {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
    documentationUri: `${baseUrl}/ServiceProviderConfig`,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [{ type: 'oauthbearertoken', name: 'Bearer token', description: 'The SCIM token configured on the server (SCIM_BEARER_TOKEN) or an Administrator API token.', primary: true }],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

export function userResourceType(baseUrl: string) {
  return {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'A tenure user account',
    schema: USER_SCHEMA,
    schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` },
  };
}

const attr = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  type: 'string',
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...extra,
});

export function userSchema(baseUrl: string) {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: USER_SCHEMA,
    name: 'User',
    description: 'User account',
    attributes: [
      attr('userName', { required: true, uniqueness: 'server', description: 'The sign-in email address.' }),
      attr('name', {
        type: 'complex',
        subAttributes: [attr('givenName'), attr('familyName')],
      }),
      attr('displayName', { mutability: 'readOnly' }),
      attr('title'),
      attr('active', { type: 'boolean', description: 'false starts an offboarding; true a reactivation.' }),
      attr('emails', {
        type: 'complex',
        multiValued: true,
        description: 'One work address, the same as userName.',
        subAttributes: [attr('value'), attr('type', { canonicalValues: ['work'] }), attr('primary', { type: 'boolean' })],
      }),
    ],
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${USER_SCHEMA}` },
  };
}

export function enterpriseUserSchema(baseUrl: string) {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: ENTERPRISE_USER_SCHEMA,
    name: 'EnterpriseUser',
    description: 'Enterprise user (read-only here: set from the HR system)',
    attributes: [
      attr('employeeNumber', { mutability: 'readOnly' }),
      attr('manager', { type: 'complex', mutability: 'readOnly', subAttributes: [attr('value', { mutability: 'readOnly' })] }),
    ],
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${ENTERPRISE_USER_SCHEMA}` },
  };
}

export function listResponse<T>(resources: T[], total: number, startIndex = 1) {
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: total, startIndex, itemsPerPage: resources.length, Resources: resources };
}

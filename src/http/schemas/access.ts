/** Schemas of tokens, token activity, sessions, resources and groups. */
import { z } from 'zod';
import { RESOURCE_KINDS } from '../../db/models/resource';
import { booleanQuery, freeText, idOrEmailParams, objectIdString, pageMeta, pagingQuery } from './common';

const TOKEN_ID = z.string().regex(/^[A-Za-z0-9]{16}$/, 'must be a token id (16 letters or digits)');

const apiTokenSchema = z.object({
  tokenId: z.string(),
  name: z.string(),
  scope: z.array(z.string()),
  createdAt: z.string(),
  lastUsedAt: z.string().optional(),
  expiresAt: z.string().optional(),
  revokedAt: z.string().optional(),
  revokedReason: z.string().optional(),
  active: z.boolean(),
});

export const tokenListSchema = z.object({ userId: z.string(), tokens: z.array(apiTokenSchema) });

const tokenUsageSchema = z.object({
  tokenId: z.string(),
  at: z.string(),
  method: z.string().optional(),
  path: z.string().optional(),
  ip: z.string().optional(),
  status: z.number().optional(),
});

export const tokenActivityQuery = z.strictObject({
  tokenId: TOKEN_ID.optional(),
  ...pagingQuery,
});

export const tokenActivitySchema = pageMeta.extend({ userId: z.string(), tokens: z.array(apiTokenSchema), usage: z.array(tokenUsageSchema) });

const SCOPE = z.string().regex(/^[a-z][a-z0-9:_-]{0,39}$/, 'must be a scope such as api or users:read');

export const issueTokenBody = z.strictObject({
  name: freeText(100).optional(),
  scope: z.array(SCOPE).min(1).max(20).optional(),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});

export const issuedTokenSchema = apiTokenSchema.extend({
  userId: z.string(),
  token: z.string().describe('The whole token: shown once, never stored; keep it now'),
});

/** The body is optional: fastify hands a missing body over as null. */
export const createSessionBody = z.strictObject({ userAgent: freeText(512).optional() }).nullish();

export const createdSessionSchema = z.object({
  sessionId: z.string(),
  userId: z.string(),
  session: z.string().describe('The session secret: shown once'),
  endedPrevious: z.number().int(),
});

export const tokenParams = idOrEmailParams.extend({ tokenId: TOKEN_ID.describe('The token id: the 16 characters after "tnr_"') });

export const revokedTokenSchema = z.object({
  message: z.string(),
  userId: z.string(),
  alreadyRevoked: z.boolean().describe('true when the token was already revoked: nothing changed'),
  token: apiTokenSchema,
});

const apiSessionSchema = z.object({
  sessionId: z.string(),
  createdAt: z.string(),
  lastSeenAt: z.string().optional(),
  endedAt: z.string().optional(),
  endedReason: z.string().optional(),
  ip: z.string().optional(),
  userAgent: z.string().optional(),
  active: z.boolean(),
});

export const sessionListQuery = z.strictObject({ ...pagingQuery });
export const sessionListSchema = pageMeta.extend({ userId: z.string(), sessions: z.array(apiSessionSchema) });

export const sessionParams = idOrEmailParams.extend({ sessionId: objectIdString.describe('The session id') });

export const endedSessionSchema = z.object({
  message: z.string(),
  userId: z.string(),
  alreadyEnded: z.boolean().describe('true when the session had already ended: nothing changed'),
  session: apiSessionSchema,
});

export const introspectBody = z.strictObject({ session: z.string().min(1).max(200) });

export const introspectionSchema = z.object({
  active: z.boolean(),
  sessionId: z.string().optional(),
  userId: z.string().optional(),
  email: z.string().optional(),
  siteRole: z.string().optional(),
  createdAt: z.string().optional(),
  endedAt: z.string().optional(),
  endedReason: z.string().optional(),
});

export const apiResourceSchema = z.object({
  _id: z.string(),
  kind: z.enum(RESOURCE_KINDS),
  name: z.string(),
  description: z.string().optional(),
  externalId: z.string().optional().describe('The id the registering service knows it by'),
  ownerId: z.string(),
  ownerName: z.string(),
  createdBy: z.string().nullable(),
  creatorName: z.string().describe('"Deleted User" when the creator was permanently deleted'),
  createdByService: z.string().nullable().optional().describe('The name of the service credential that registered it, when a service did'),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  transfers: z.array(
    z.object({
      fromUserId: z.string(),
      toUserId: z.string(),
      at: z.string(),
      byUserId: z.string().optional(),
      processId: z.string().optional(),
      reason: z.string().optional(),
    }),
  ),
});

export const resourceListQuery = z.strictObject({
  ownerId: objectIdString.optional(),
  createdBy: objectIdString.optional(),
  kind: z.enum(RESOURCE_KINDS).optional(),
  ...pagingQuery,
});

export const resourceListSchema = pageMeta.extend({ resources: z.array(apiResourceSchema) });

export const transferBody = z.strictObject({
  newOwnerId: objectIdString,
  reason: freeText(500).optional(),
});

/** `POST /v1/resources`. */
export const createResourceBody = z.strictObject({
  kind: z.enum(RESOURCE_KINDS),
  name: freeText(200),
  ownerId: objectIdString.describe('An active user'),
  description: freeText(2000).optional(),
  externalId: freeText(200).optional().describe("The registering service's own id for it"),
  createdBy: objectIdString
    .optional()
    .describe('Service credentials only: the user the service registers it for (shown as creator). With an API token the holder is the creator.'),
});

/** `PATCH /v1/resources/{id}`: what to change (null clears); the owner changes only by a transfer. */
export const updateResourceBody = z.strictObject({
  name: freeText(200).optional(),
  description: freeText(2000).nullable().optional(),
  externalId: freeText(200).nullable().optional(),
});

/** The optional `Idempotency-Key` header (other headers pass through). */
export const idempotencyHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .optional()
    .describe('1-255 visible ASCII characters (a UUID, say): a retry with the same key and request answers the first result (header Idempotent-Replayed: true); the same key with another request is 422 idempotency_key_reused. Keys are per caller and remembered for the server setting IDEMPOTENCY_KEY_TTL (24 hours by default) from their first use; a request with an older key is a new request'),
});

export const deletedResourceSchema = z.object({ message: z.string(), resource: apiResourceSchema });

export const serviceCredentialSchema = z.object({
  id: z.string().describe('Public id; also the credential\'s visible prefix'),
  name: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

export const issuedServiceCredentialSchema = serviceCredentialSchema.extend({
  credential: z.string().describe('The secret, shown this once: send it as "Authorization: Bearer <credential>"'),
});

export const serviceCredentialBody = z.strictObject({ name: freeText(100).describe('What the service is (e.g. "CI")') });

export const serviceCredentialListQuery = z.strictObject({
  includeRevoked: booleanQuery.default(false).describe('Also list revoked credentials'),
});

export const serviceCredentialParams = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'must be a service credential id (letters and digits)') });

export const revokedServiceCredentialSchema = serviceCredentialSchema.extend({ alreadyRevoked: z.boolean() });

export const transferResultSchema = z.object({ message: z.string(), resource: apiResourceSchema });

export const apiGroupSchema = z.object({
  _id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  memberCount: z.number().int(),
  createdAt: z.string().optional(),
});

export const groupListQuery = z.strictObject({ ...pagingQuery });
export const groupListSchema = pageMeta.extend({ groups: z.array(apiGroupSchema) });

export const createGroupBody = z.strictObject({
  name: freeText(100).refine((name) => !name.includes('$'), 'may not contain "$"'),
  description: freeText(500).optional(),
});

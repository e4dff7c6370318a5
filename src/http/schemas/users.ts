/** Request and response schemas of the user routes. */
import { z } from 'zod';
import { MAX_PATTERN_LENGTH } from '../../domain/email';
import { csvEnumQuery, csvIdsQuery, errorDetailSchema, freeText, intQuery, objectIdString, pageMeta, pagingQuery, siteRoleSchema, SITE_ROLES, userStatusSchema, USER_STATUSES } from './common';

export const apiUserSchema = z.object({
  _id: z.string(),
  email: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  preferredName: z.string().optional(),
  title: z.string().optional(),
  site: z.string().optional(),
  division: z.string().optional(),
  organization: z.string().optional(),
  domain: z.string().optional(),
  sso: z.string().optional(),
  groups: z.array(z.string()),
  applications: z.array(z.string()),
  tools: z.array(z.string()),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  active: z.boolean(),
  siteRole: siteRoleSchema,
  status: userStatusSchema,
  managerId: z.string().optional(),
  hrEmployeeId: z.string().optional(),
  hrStatus: z.enum(['employed', 'terminated']).optional().describe('What the HR system last said of this person'),
  lastLoginAt: z.string().optional(),
  deactivatedAt: z.string().optional(),
  lockout: z
    .object({ at: z.string(), processId: z.string() })
    .optional()
    .describe('Present while an offboarding has locked the account out: no new sessions, API tokens or invitations'),
  invitation: z
    .object({ sentAt: z.string(), expiresAt: z.string().optional(), sendCount: z.number(), state: z.enum(['accepted', 'revoked', 'expired', 'sent']) })
    .optional(),
});

/** The `email=` pattern: `*` is the only wildcard; the service refuses hostile patterns. */
const emailPatternParam = z
  .string()
  .min(1)
  .max(MAX_PATTERN_LENGTH)
  .describe('Exact email or a pattern with * wildcards: *@example.com, john*, *engineer*@example.com');

export const searchQuery = z.strictObject({ email: emailPatternParam });

export const activeQuery = z
  .strictObject({
    email: emailPatternParam.optional(),
    id: csvIdsQuery(100).optional().describe('Comma-separated user ids (at most 100)'),
    limit: intQuery(1, 1000, 200).describe('Page size (1-1000, default 200)'),
    offset: pagingQuery.offset,
    count: pagingQuery.count,
  })
  .refine((q) => q.email !== undefined || q.id !== undefined, { message: 'give email=PATTERN or id=ID,ID', path: ['email'] });

const SORTS = ['createdAt', '-createdAt', 'email', '-email', 'lastLoginAt', '-lastLoginAt'] as const;

export const listQuery = z.strictObject({
  status: csvEnumQuery(USER_STATUSES).optional().describe('Comma-separated statuses: pending, active, deactivated'),
  siteRole: csvEnumQuery(SITE_ROLES).optional().describe('Comma-separated site roles'),
  q: freeText(100).optional().describe('Words matched as prefixes of first name, last name, preferred name and email'),
  email: emailPatternParam.optional(),
  sort: z.enum(SORTS).default('-createdAt'),
  ...pagingQuery,
});

export const exportQuery = z.strictObject({
  status: csvEnumQuery(USER_STATUSES).optional(),
  siteRole: csvEnumQuery(SITE_ROLES).optional(),
  q: freeText(100).optional(),
});

export const userListSchema = pageMeta.extend({ users: z.array(apiUserSchema) });

export const siteRoleBody = z.strictObject({ siteRole: siteRoleSchema });

const MAX_BULK_IDS = 100;

export const bulkSiteRoleBody = z.strictObject({
  ids: z.array(objectIdString).min(1).max(MAX_BULK_IDS).describe(`User ids (1-${MAX_BULK_IDS})`),
  siteRole: siteRoleSchema,
});

export const bulkSiteRoleResult = z.object({
  siteRole: siteRoleSchema,
  changed: z.number().int(),
  unchanged: z.number().int(),
  failed: z.number().int(),
  results: z.array(
    z.object({
      id: z.string(),
      result: z.enum(['changed', 'unchanged', 'not_found', 'refused']),
      from: siteRoleSchema.optional(),
      error: errorDetailSchema.optional(),
    }),
  ),
});

export const userMessageSchema = z.object({ message: z.string(), user: apiUserSchema });

export const activityQuery = z.strictObject({
  action: z.string().regex(/^[a-z_.]{1,64}$/, 'must be an action name such as user.deactivated').optional(),
  ...pagingQuery,
});

const auditEventSchema = z.object({
  _id: z.string(),
  at: z.string(),
  action: z.string(),
  actorType: z.string(),
  actorId: z.string().optional(),
  actorEmail: z.string().optional(),
  targetUserId: z.string().optional(),
  targetEmail: z.string().optional(),
  processId: z.string().optional(),
  ip: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export const activityListSchema = pageMeta.extend({ events: z.array(auditEventSchema) });

export const deletedSchema = z.object({ message: z.string(), deleted: z.object({ _id: z.string(), email: z.string() }) });

/**
 * What the offboarding routes answer. The shapes come from the workflows' queries
 * (workflows/messages); objects are open (`looseObject`) so a field a newer workflow adds still
 * reaches the caller, and the document names the fields a client can rely on.
 */
import { z } from 'zod';
import type { BulkOffboardingProgress, OffboardingProgress } from '../../../workflows/offboarding-messages';
import type { PlanView } from '../../services/offboarding-requests';

/** An open object schema typed as the workflow's own type: the schema documents, the workflow's type rules. */
function typedAs<T>(schema: z.ZodType): z.ZodType<T> {
  return schema as z.ZodType<T>;
}

const isoTime = z.string().describe('ISO 8601 date-time');

export const processAccepted = z.object({
  processId: z.string().describe('The workflow id of the process'),
  started: z.boolean().describe('false when the process was already running (the request joined it)'),
});

export const bulkAccepted = processAccepted.extend({ users: z.number().int().describe('Number of users the bulk run offboards') });

const planShape = z.looseObject({
  userId: z.string(),
  email: z.string(),
  status: z.string().describe("The leaver's account status"),
  hrStatus: z.enum(['employed', 'terminated']).nullable().optional(),
  managerId: z.string().nullable(),
  newOwner: z.looseObject({ id: z.string(), email: z.string(), source: z.string() }).nullable().describe('Default new owner of every resource and where that proposal came from'),
  notes: z.array(z.string()),
  resources: z.array(z.looseObject({ id: z.string(), kind: z.string(), name: z.string(), newOwnerId: z.string().nullable() })),
  resourcesTotal: z.number().int(),
  sessions: z.looseObject({ active: z.number().int() }),
  tokens: z.array(z.looseObject({ tokenId: z.string(), name: z.string() })),
  groups: z.array(z.string()),
  builtAt: isoTime,
  systems: z
    .array(z.looseObject({ system: z.string(), label: z.string(), account: z.string().nullable(), actions: z.array(z.looseObject({ key: z.string(), action: z.string(), summary: z.string() })), error: z.string().optional() }))
    .optional()
    .describe('What will be done in each connected system (identity provider, code host)'),
  version: z.string().describe('The plan version an approval names (planVersion)'),
  assignments: z.record(z.string(), z.string()).describe('Resource id → chosen new owner id, where changed from the default'),
});
export const offboardingPlanSchema = typedAs<PlanView>(planShape);

export const offboardingProgressSchema = typedAs<OffboardingProgress>(
  z.looseObject({
    workflowId: z.string(),
    userId: z.string(),
    status: z.string().describe('starting, locking_out, planning, waiting_effective_date, awaiting_approval, executing, verifying, completed, completed_with_access_left_behind, rejected, cancelled, undone, reactivated, deleted or failed'),
    effectiveDate: z.string().optional(),
    steps: z.array(z.looseObject({ name: z.string(), state: z.enum(['pending', 'running', 'done', 'skipped', 'failed']), startedAt: isoTime.optional(), finishedAt: isoTime.optional(), detail: z.string().optional() })),
    resources: z.looseObject({ done: z.number().int(), total: z.number().int(), failed: z.array(z.string()) }),
    plan: planShape.nullable(),
    awaiting: z.string().optional().describe('Why the process waits for a person'),
    decision: z.looseObject({ action: z.enum(['approved', 'rejected', 'cancelled', 'undone']), by: z.string(), at: isoTime, reason: z.string().optional() }).optional(),
    systems: z
      .array(
        z.looseObject({
          system: z.string(),
          label: z.string(),
          state: z.enum(['pending', 'running', 'done', 'failed', 'undone']),
          planned: z.number().int(),
          outcomes: z.array(z.looseObject({ key: z.string(), action: z.string(), summary: z.string(), state: z.enum(['done', 'already_done', 'failed']), detail: z.string().optional() })),
          error: z.string().optional(),
          verification: z.looseObject({ clean: z.boolean(), remaining: z.array(z.string()), error: z.string().optional() }).optional(),
        }),
      )
      .optional()
      .describe('Each connected system: what was done there and what verification found'),
    undoUntil: isoTime.optional(),
    deleteAt: isoTime.optional(),
    error: z.string().optional(),
  }),
);

export const offboardingActionResult = z.looseObject({
  processId: z.string(),
  status: z.string().describe('The offboarding status after the action'),
  planVersion: z.string().optional(),
});

export const bulkProgressSchema = typedAs<BulkOffboardingProgress>(
  z.looseObject({
    workflowId: z.string(),
    total: z.number().int(),
    started: z.number().int(),
    settled: z.number().int(),
    byStatus: z.record(z.string(), z.number().int()),
    items: z.array(z.looseObject({ userId: z.string(), workflowId: z.string(), status: z.string() })),
    done: z.boolean(),
  }),
);

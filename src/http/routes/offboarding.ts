/**
 * Offboarding, reactivation and bulk offboarding over HTTP. Starting and reading are for
 * Administrators and the leaver's manager; approvals and other actions go to the running
 * workflow, whose update validators decide who may act (refusals come back as 403).
 * Every action lands in the audit log with the process id.
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isOffboardingRefusal, offboardingAuthority, type OffboardingPermission } from '../../domain/authority';
import { AppError, ConflictError, ForbiddenError, UnprocessableError, ValidationError } from '../../errors';
import { recordAudit } from '../../services/audit';
import { newOwnerProblem } from '../../services/offboarding-plan';
import { getBulkOffboardingProgress, startBulkOffboarding } from '../../processes/bulk-offboarding';
import { getOffboardingProgress, offboardingWorkflowId, type OffboardingAction } from '../../processes/offboarding';
import { actOnOffboardingAs, requestOffboarding, viewOffboardingPlan, type ActingUser } from '../../services/offboarding-requests';
import { reactivate } from '../../services/user-admin';
import { getUserByIdOrEmail, type StoredUser } from '../../services/users';
import type { AppDeps } from '../deps';
import { actorOf, principalOf } from '../auth';
import { decodeUtf8 } from '../body-encoding';
import { booleanQuery, errorResponses, freeText, idOrEmailParams } from '../schemas/common';
import { bulkAccepted, bulkProgressSchema, offboardingActionResult, offboardingPlanSchema, offboardingProgressSchema, processAccepted } from '../schemas/offboarding';
import { createGuard } from './guards';

/** Bulk requests are bounded: at most this many leavers, CSV bodies at most this many bytes. */
const BULK_MAX_USERS = 1000;
const BULK_CSV_MAX_BYTES = 256 * 1024;

const reasonText = freeText(1000);
const userIdText = z.string().regex(/^[0-9a-fA-F]{24}$/, 'must be a user id (24 hexadecimal characters)');
const dateText = z
  .string()
  .max(40)
  .refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO date (YYYY-MM-DD) or date-time');

const startBody = z.strictObject({
  reason: reasonText,
  effectiveDate: dateText.optional(),
  newOwnerId: userIdText.optional(),
  immediateLockout: z.boolean().optional(),
});

const bulkBody = z.strictObject({
  users: z
    .array(z.union([z.string().min(1).max(254), z.strictObject({ user: z.string().min(1).max(254), reason: reasonText.optional() })]))
    .min(1)
    .max(BULK_MAX_USERS),
  reason: reasonText,
  newOwnerId: userIdText.optional(),
  immediateLockout: z.boolean().optional(),
  concurrency: z.number().int().min(1).max(100).optional(),
});

/** Options of a CSV bulk request, which has no JSON body to carry them. */
const bulkCsvQuery = z.strictObject({
  reason: reasonText.optional(),
  immediateLockout: booleanQuery.optional(),
  newOwnerId: userIdText.optional(),
});

const BULK_PATH = '/v1/offboardings/bulk';

/** A small RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw new ValidationError('The CSV body has an unterminated quoted field.', undefined, 'invalid_csv');
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ''));
}

/** CSV with an `email` column (and an optional `reason` column) → the bulk request's users. */
function bulkUsersFromCsv(text: string): Array<{ user: string; reason?: string }> {
  const [header, ...rows] = parseCsv(text);
  if (!header) throw new ValidationError('The CSV body is empty; send a header line with an "email" column.', undefined, 'invalid_csv');
  const columns = header.map((h) => h.trim().toLowerCase());
  const emailAt = columns.indexOf('email');
  const reasonAt = columns.indexOf('reason');
  if (emailAt < 0) throw new ValidationError('The CSV header has no "email" column.', undefined, 'invalid_csv');
  if (rows.length > BULK_MAX_USERS) throw new ValidationError(`A bulk offboarding takes at most ${BULK_MAX_USERS} users; the CSV has ${rows.length}.`, undefined, 'too_many_users');
  return rows.map((r, i) => {
    const email = r[emailAt]?.trim();
    if (!email) throw new ValidationError(`CSV line ${i + 2} has no email.`, undefined, 'invalid_csv');
    const reason = reasonAt >= 0 ? r[reasonAt]?.trim() : undefined;
    return { user: email, reason: reason || undefined };
  });
}

export function offboardingRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { models, temporal, config } = deps;
  const taskQueue = config.TEMPORAL_TASK_QUEUE;

  /** Administrators (by the role matrix) or the leaver's manager, never the leaver. */
  function assertAdminOrManager(request: FastifyRequest, leaver: StoredUser, permission: OffboardingPermission): void {
    const { user } = principalOf(request);
    const authority = offboardingAuthority({
      actor: { id: String(user._id), siteRole: user.siteRole },
      leaver: { id: String(leaver._id), managerId: leaver.managerId ? String(leaver.managerId) : null },
      permission,
    });
    if (authority === 'own_offboarding') throw new ForbiddenError(`${leaver.email} cannot act on their own offboarding; ask their manager or another Administrator.`, 'forbidden');
    if (isOffboardingRefusal(authority)) throw new ForbiddenError(`Only an Administrator or ${leaver.email}'s manager may do this.`, 'forbidden');
  }

  async function assertNewOwner(newOwnerId: string | undefined, leaver: StoredUser): Promise<void> {
    if (!newOwnerId) return;
    const problem = await newOwnerProblem(models, newOwnerId.toLowerCase(), String(leaver._id));
    if (problem) throw new UnprocessableError(`The new owner cannot receive the resources: ${problem}.`, 'invalid_new_owner');
  }

  /** The authenticated caller as the offboarding requests see them. */
  function actingUser(request: FastifyRequest): ActingUser {
    const { user } = principalOf(request);
    return { user, actor: actorOf(request), source: 'api' };
  }

  const guard = createGuard(deps);

  return async (app) => {
    app.addContentTypeParser('text/csv', { parseAs: 'buffer', bodyLimit: BULK_CSV_MAX_BYTES }, (request, body, done) => {
      try {
        // Only the bulk route reads CSV; on any other route of this plugin it is refused unread.
        if (request.routeOptions.url !== BULK_PATH) throw new AppError(415, 'unsupported_media_type', `text/csv is accepted only by POST ${BULK_PATH}; send application/json.`);
        const query = (request.query ?? {}) as Record<string, string | undefined>;
        done(null, {
          users: bulkUsersFromCsv(decodeUtf8(body as Buffer)),
          reason: query.reason?.trim() || 'bulk offboarding (CSV)',
          ...(query.immediateLockout ? { immediateLockout: query.immediateLockout === 'true' } : {}),
          ...(query.newOwnerId ? { newOwnerId: query.newOwnerId } : {}),
        });
      } catch (err) {
        done(err as Error, undefined);
      }
    });

    app.post(
      '/v1/users/:idOrEmail/offboarding',
      { schema: { tags: ['offboarding'], summary: 'Start (or join) the offboarding of a user', params: idOrEmailParams, body: startBody, response: { 202: processAccepted, ...errorResponses(404, 409, 422) } } },
      async (request, reply) => {
        const leaver = await getUserByIdOrEmail(models, request.params.idOrEmail);
        assertAdminOrManager(request, leaver, 'processes:start');
        if (leaver.status === 'deactivated') throw new ConflictError(`${leaver.email} is already deactivated.`, 'invalid_state');
        await assertNewOwner(request.body.newOwnerId, leaver);
        const started = await requestOffboarding({ models, temporal, taskQueue }, leaver, actingUser(request), {
          reason: request.body.reason,
          effectiveDate: request.body.effectiveDate,
          newOwnerId: request.body.newOwnerId?.toLowerCase(),
          immediateLockout: request.body.immediateLockout,
        });
        return reply.status(202).send({ processId: started.workflowId, started: started.started });
      },
    );

    app.get(
      '/v1/users/:idOrEmail/offboarding',
      { schema: { tags: ['offboarding'], summary: 'Progress of the offboarding of a user', params: idOrEmailParams, response: { 200: offboardingProgressSchema, ...errorResponses(404, 409) } } },
      async (request) => {
        const leaver = await getUserByIdOrEmail(models, request.params.idOrEmail);
        assertAdminOrManager(request, leaver, 'processes:read');
        return getOffboardingProgress(temporal, String(leaver._id));
      },
    );

    app.get(
      '/v1/users/:idOrEmail/offboarding-plan',
      { schema: { tags: ['offboarding'], summary: "The running offboarding's plan (owners as chosen, version to approve), else a dry run that changes nothing", params: idOrEmailParams, querystring: z.strictObject({ newOwnerId: userIdText.optional() }), response: { 200: offboardingPlanSchema, ...errorResponses(404, 409, 422) } } },
      async (request) => {
        const leaver = await getUserByIdOrEmail(models, request.params.idOrEmail);
        assertAdminOrManager(request, leaver, 'processes:read');
        return viewOffboardingPlan(models, temporal, String(leaver._id), request.query.newOwnerId?.toLowerCase());
      },
    );

    // approve needs its body (the plan version); the others take an optional one, `{}` by default.
    const actions: Array<{ path: string; body: z.ZodType; toCommand: (body: never) => OffboardingAction }> = [
      { path: 'approve', body: z.strictObject({ planVersion: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be the version of a plan').describe('The version of the plan approved (GET …/offboarding-plan)') }), toCommand: (b: { planVersion: string }) => ({ action: 'approve', planVersion: b.planVersion }) },
      { path: 'reject', body: z.strictObject({ reason: reasonText.optional() }).default({}), toCommand: (b: { reason?: string }) => ({ action: 'reject', reason: b.reason }) },
      {
        path: 'change-owner',
        body: z.strictObject({ newOwnerId: userIdText, resourceId: userIdText.optional() }),
        toCommand: (b: { newOwnerId: string; resourceId?: string }) => ({ action: 'change-owner', newOwnerId: b.newOwnerId.toLowerCase(), resourceId: b.resourceId?.toLowerCase() }),
      },
      { path: 'cancel', body: z.strictObject({ reason: reasonText.optional() }).default({}), toCommand: (b: { reason?: string }) => ({ action: 'cancel', reason: b.reason }) },
      { path: 'undo', body: z.strictObject({ reason: reasonText.optional() }).default({}), toCommand: (b: { reason?: string }) => ({ action: 'undo', reason: b.reason }) },
      // After access was left behind in a connected system: act and verify there again now (answers when done).
      { path: 'retry-systems', body: z.strictObject({}).default({}), toCommand: () => ({ action: 'retry-systems' }) },
    ];
    for (const action of actions) {
      app.post(
        `/v1/users/:idOrEmail/offboarding/${action.path}`,
        { schema: { tags: ['offboarding'], summary: `${action.path} the running offboarding (manager or Administrator; never the leaver)`, params: idOrEmailParams, body: action.body, response: { 200: offboardingActionResult, ...errorResponses(404, 409, 422) } } },
        async (request) => {
          const leaver = await getUserByIdOrEmail(models, request.params.idOrEmail);
          const command = action.toCommand(request.body as never);
          const result = await actOnOffboardingAs({ models, temporal }, leaver, actingUser(request), command);
          return { processId: offboardingWorkflowId(String(leaver._id)), ...result };
        },
      );
    }

    app.post(
      '/v1/users/:idOrEmail/reactivation',
      { onRequest: guard('users:reactivate'), schema: { tags: ['offboarding'], summary: 'Reactivate a deactivated user through the reactivation process (202 at once; the same path as …/reactivate)', params: idOrEmailParams, body: z.strictObject({ reason: reasonText.optional() }).default({}), response: { 202: processAccepted, ...errorResponses(404, 409, 422) } } },
      async (request, reply) => {
        const user = await getUserByIdOrEmail(models, request.params.idOrEmail);
        const outcome = await reactivate({ models, temporal, taskQueue }, user._id, actorOf(request), { reason: request.body.reason });
        return reply.status(202).send({ processId: outcome.processId, started: outcome.started });
      },
    );

    app.post(
      BULK_PATH,
      {
        onRequest: guard('processes:start'),
        schema: {
          tags: ['offboarding'],
          summary: 'Offboard many users (JSON, or text/csv with an email column; reason, immediateLockout and newOwnerId then go in the query)',
          querystring: bulkCsvQuery,
          body: bulkBody,
          response: { 202: bulkAccepted, ...errorResponses(422) },
        },
        config: { csvBody: `CSV (RFC 4180, UTF-8) with a header line naming an "email" column and optionally a "reason" column; at most ${BULK_MAX_USERS} rows and ${BULK_CSV_MAX_BYTES} bytes. The options go in the query string (reason, immediateLockout, newOwnerId).` },
      },
      async (request, reply) => {
        const body = request.body;
        if (!/^text\/csv\b/i.test(request.headers['content-type'] ?? '') && Object.keys(request.query).length) {
          throw new ValidationError('Query parameters are for a CSV body only; put them in the JSON body.');
        }
        const entries = body.users.map((u) => (typeof u === 'string' ? { user: u } : u));
        const problems: Array<{ user: string; problem: string }> = [];
        const users: Array<{ userId: string; reason?: string }> = [];
        const seen = new Set<string>();
        for (const entry of entries) {
          try {
            const user = await getUserByIdOrEmail(models, entry.user);
            if (user.status === 'deactivated') problems.push({ user: entry.user, problem: 'already deactivated' });
            else if (!seen.has(String(user._id))) {
              seen.add(String(user._id));
              users.push({ userId: String(user._id), reason: entry.reason });
            }
          } catch (err) {
            if (err instanceof AppError && err.status < 500) problems.push({ user: entry.user, problem: err.message });
            else throw err;
          }
        }
        if (problems.length) throw new UnprocessableError(`${problems.length} of the ${entries.length} users cannot be offboarded; nothing was started.`, 'invalid_users', { problems: problems.slice(0, 100) });
        if (body.newOwnerId && seen.has(body.newOwnerId.toLowerCase())) throw new UnprocessableError('The new owner is one of the leavers.', 'invalid_new_owner');
        if (body.newOwnerId) {
          const problem = await newOwnerProblem(models, body.newOwnerId.toLowerCase(), '');
          if (problem) throw new UnprocessableError(`The new owner cannot receive the resources: ${problem}.`, 'invalid_new_owner');
        }
        const actor = actorOf(request);
        const started = await startBulkOffboarding(temporal, taskQueue, {
          users,
          reason: body.reason,
          requestedBy: { type: 'user', id: String(actor.id), email: actor.email },
          source: 'api',
          newOwnerId: body.newOwnerId?.toLowerCase(),
          immediateLockout: body.immediateLockout,
          concurrency: body.concurrency ?? config.BULK_OFFBOARDING_CONCURRENCY,
        });
        await recordAudit(models, { action: 'offboarding.bulk_requested', actor, processId: started.workflowId, details: { users: users.length, reason: body.reason } });
        return reply.status(202).send({ processId: started.workflowId, started: started.started, users: users.length });
      },
    );

    app.get(
      '/v1/offboardings/bulk/:id',
      { onRequest: guard('processes:read'), schema: { tags: ['offboarding'], summary: 'Progress of a bulk offboarding', params: z.strictObject({ id: z.string().min(1).max(80).regex(/^[A-Za-z0-9:-]+$/) }), response: { 200: bulkProgressSchema, ...errorResponses(404, 409) } } },
      async (request) => getBulkOffboardingProgress(temporal, request.params.id),
    );
  };
}

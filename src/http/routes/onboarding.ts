/**
 * Onboarding over HTTP: create a user (which starts the `onboarding:<email>` workflow), accept an
 * invitation, and the admin actions on a pending user. Actions on a running onboarding go through
 * the workflow's updates, whose validators refuse a non-administrator or a finished process.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Models } from '../../db/models';
import { emailAddress, normalizeEmail } from '../../domain/email';
import { ConflictError } from '../../errors';
import {
  cancelOnboarding,
  completeRegistration as completeRegistrationInProcess,
  getOnboardingProgress,
  issueInvitationLink,
  onboardingRunning,
  onboardingWorkflowId,
  resendInvitation,
  startOnboarding,
  tellInvitationAccepted,
  type OnboardingRequest,
} from '../../processes/onboarding';
import { offboardingRunning } from '../../processes/offboarding';
import { assertMayGainAccess } from '../../services/access';
import { acceptInvitation, cancelInvitation, completeRegistration, invitationLink, newInvitationToken } from '../../services/invitations';
import { toApiUser } from '../../services/user-view';
import { inviteUser } from '../../services/invite-user';
import type { Logger } from '../../logger';
import { getUserByIdOrEmail, type StoredUser } from '../../services/users';
import type { Caller } from '../../../workflows/onboarding-messages';
import type { AppDeps } from '../deps';
import { actorOf, principalOf } from '../auth';
import { AUTH_ERRORS, errorBodySchema, errorResponses, freeText, idOrEmailParams, objectIdString, siteRoleSchema } from '../schemas/common';
import { apiUserSchema } from '../schemas/users';
import { createGuard } from './guards';

const TAGS = ['onboarding'];
const text = freeText;

const createUserBody = z.strictObject({
  email: emailAddress,
  firstName: text(100).optional(),
  lastName: text(100).optional(),
  preferredName: text(100).optional(),
  title: text(200).optional(),
  site: text(200).optional(),
  division: text(200).optional(),
  siteRole: siteRoleSchema.optional(),
  groups: z.array(objectIdString).max(100).optional(),
  managerId: objectIdString.optional(),
  confirmDomainMismatch: z.boolean().optional().describe('Required to invite someone outside the organization domain'),
});

const processSchema = z.object({ workflowId: z.string(), started: z.boolean() });
const invitationIssuedSchema = z.object({ sendNumber: z.number().int(), expiresAt: z.string() });
const progressSchema = z.object({
  workflowId: z.string(),
  email: z.string(),
  userId: z.string().optional(),
  state: z.string(),
  sends: z.number().int(),
  maxSends: z.number().int(),
  expiresAt: z.string().optional(),
  requestedBy: z.object({ type: z.string(), id: z.string().optional(), email: z.string().optional() }),
  source: z.string(),
  refusal: z.object({ code: z.string(), message: z.string() }).optional(),
  history: z.array(z.object({ at: z.string(), step: z.string(), detail: z.string().optional() })),
});
const tokenParams = z.strictObject({ token: z.string().regex(/^[A-Za-z0-9_-]{20,128}$/, 'is not an invitation token') });

const ACTION_ERRORS = errorResponses(...AUTH_ERRORS, 404, 409, 422);

export function onboardingRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { models, temporal } = deps;
  const taskQueue = deps.config.TEMPORAL_TASK_QUEUE;
  const guard = createGuard(deps);

  return async (app) => {
    app.post(
      '/v1/users',
      {
        onRequest: guard('users:create'),
        schema: {
          tags: TAGS,
          summary: 'Create (invite) a user: the pending user is created at once and the onboarding process emails the invitation',
          body: createUserBody,
          response: { 201: z.object({ user: apiUserSchema, process: processSchema }), ...errorResponses(...AUTH_ERRORS, 409, 422) },
        },
      },
      async (request, reply) => {
        const { user, process: started } = await inviteUser({ models, temporal, taskQueue, logger: request.log as unknown as Logger }, request.body, actorOf(request), {
          requestedBy: requesterOf(request),
          source: 'api',
        });
        return reply.status(201).send({ user: toApiUser(user), process: { workflowId: started.workflowId, started: started.started } });
      },
    );

    app.post(
      '/v1/invitations/:token/accept',
      {
        schema: {
          tags: TAGS,
          summary: 'Accept an invitation (no authentication: the token in the link is the credential); 410 once access to the account has ended',
          security: [],
          params: tokenParams,
          response: { 200: z.object({ message: z.string(), user: apiUserSchema }), ...errorResponses(400, 404), 410: errorBodySchema },
        },
      },
      async (request) => {
        const accepted = await acceptInvitation(models, request.params.token, { ip: request.ip }, new Date(), { offboardingUnderWay: (userId) => offboardingRunning(temporal, String(userId)) });
        if (accepted.workflowId) {
          // The account is already active; the signal lets the process tell the requester.
          await tellInvitationAccepted(temporal, accepted.workflowId, { userId: String(accepted.user._id), at: new Date().toISOString() }).catch((err) => request.log.warn({ err, workflowId: accepted.workflowId }, 'could not signal the onboarding process'));
        }
        return { message: 'Invitation accepted: your account is active.', user: toApiUser(accepted.user) };
      },
    );

    app.post(
      '/v1/users/:idOrEmail/invitation/resend',
      {
        onRequest: guard('processes:act'),
        schema: {
          tags: TAGS,
          summary: 'Email a fresh invitation link now; the previous link stops working at once',
          params: idOrEmailParams,
          response: { 200: z.object({ message: z.string(), invitation: invitationIssuedSchema.optional(), process: processSchema }), ...ACTION_ERRORS },
        },
      },
      async (request) => {
        const user = await pendingUser(models, request.params.idOrEmail);
        await assertMayGainAccess(deps, user, 'an invitation');
        if (await onboardingRunning(temporal, user.email)) {
          const invitation = await resendInvitation(temporal, user.email, callerOf(request));
          return { message: `Invitation #${invitation.sendNumber} sent to ${user.email}.`, invitation, process: { workflowId: onboardingWorkflowId(user.email), started: false } };
        }
        // No process covers this user any more (its invitation expired): a new one sends the link.
        const started = await startOnboarding(temporal, taskQueue, { email: user.email, requestedBy: requesterOf(request), source: 'api' });
        return { message: `A new invitation is being sent to ${user.email}.`, process: { workflowId: started.workflowId, started: started.started } };
      },
    );

    app.post(
      '/v1/users/:idOrEmail/invitation/link',
      {
        onRequest: guard('processes:act'),
        schema: {
          tags: TAGS,
          summary: 'Copy invitation link: returns a fresh link (no email); the previous link stops working at once',
          params: idOrEmailParams,
          response: { 200: z.object({ link: z.string(), invitation: invitationIssuedSchema, process: processSchema }), ...ACTION_ERRORS },
        },
      },
      async (request) => {
        const user = await pendingUser(models, request.params.idOrEmail);
        await assertMayGainAccess(deps, user, 'an invitation');
        const { token, hash } = newInvitationToken();
        // One call whether an onboarding runs or not: a new one takes this link as its first invitation.
        const { invitation, process } = await issueInvitationLink(temporal, taskQueue, { email: user.email, caller: callerOf(request), tokenHash: hash, requestedBy: requesterOf(request), source: 'api' });
        return { link: invitationLink(deps.config.PUBLIC_BASE_URL, token), invitation, process: { workflowId: process.workflowId, started: process.started } };
      },
    );

    app.post(
      '/v1/users/:idOrEmail/registration',
      {
        onRequest: guard('processes:act'),
        schema: {
          tags: TAGS,
          summary: "Complete a pending user's registration: they become active with this site role and groups",
          params: idOrEmailParams,
          body: z.strictObject({ siteRole: siteRoleSchema, groups: z.array(objectIdString).max(100).optional() }),
          response: { 200: z.object({ message: z.string(), user: apiUserSchema }), ...ACTION_ERRORS },
        },
      },
      async (request) => {
        const user = await pendingUser(models, request.params.idOrEmail);
        await assertMayGainAccess(deps, user, 'a completed registration');
        if (await onboardingRunning(temporal, user.email)) {
          await completeRegistrationInProcess(temporal, user.email, { caller: callerOf(request), ...request.body });
        } else {
          await completeRegistration(models, user._id, request.body, actorOf(request));
        }
        const updated = await getUserByIdOrEmail(models, String(user._id));
        return { message: `Registration of ${user.email} completed: the account is active.`, user: toApiUser(updated) };
      },
    );

    app.post(
      '/v1/users/:idOrEmail/invitation/cancel',
      {
        onRequest: guard('processes:act'),
        schema: {
          tags: TAGS,
          summary: 'Cancel a pending invitation: the link stops working and the pending account is deactivated',
          params: idOrEmailParams,
          // A POST without a body arrives as null.
          body: z.strictObject({ reason: text(500).optional() }).nullish(),
          response: { 200: z.object({ message: z.string(), user: apiUserSchema }), ...ACTION_ERRORS },
        },
      },
      async (request) => {
        const user = await pendingUser(models, request.params.idOrEmail);
        const reason = request.body?.reason;
        if (await onboardingRunning(temporal, user.email)) {
          await cancelOnboarding(temporal, user.email, callerOf(request), reason);
        } else {
          await cancelInvitation(models, user._id, actorOf(request), { reason });
        }
        const updated = await getUserByIdOrEmail(models, String(user._id));
        return { message: `The invitation of ${user.email} was cancelled.`, user: toApiUser(updated) };
      },
    );

    app.get(
      '/v1/users/:idOrEmail/onboarding',
      {
        onRequest: guard('processes:read'),
        schema: {
          tags: TAGS,
          summary: "The progress of the user's latest onboarding process",
          params: idOrEmailParams,
          response: { 200: z.object({ status: z.string(), progress: progressSchema }), ...errorResponses(...AUTH_ERRORS, 404) },
        },
      },
      async (request) => {
        const email = request.params.idOrEmail.includes('@') ? normalizeEmail(request.params.idOrEmail) : (await getUserByIdOrEmail(models, request.params.idOrEmail)).email;
        return getOnboardingProgress(temporal, email);
      },
    );
  };
}

function callerOf(request: Parameters<typeof principalOf>[0]): Caller {
  const { user } = principalOf(request);
  return { id: String(user._id), role: user.siteRole, email: user.email };
}

function requesterOf(request: Parameters<typeof principalOf>[0]): OnboardingRequest['requestedBy'] {
  const { user } = principalOf(request);
  return { type: 'user', id: String(user._id), email: user.email };
}

async function pendingUser(models: Models, idOrEmail: string): Promise<StoredUser> {
  const user = await getUserByIdOrEmail(models, idOrEmail);
  if (user.status === 'active') throw new ConflictError(`${user.email} is already active; there is no invitation to act on.`, 'already_active');
  if (user.status !== 'pending') throw new ConflictError(`${user.email} is ${user.status}; invite them again with POST /v1/users.`, 'not_pending', { status: user.status });
  return user;
}

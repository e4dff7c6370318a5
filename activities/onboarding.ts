import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { AppError, ConflictError, NotFoundError } from '../src/errors';
import { invitationMail } from '../src/mail/templates/invitation';
import { onboardingOutcomeMail, type OnboardingOutcome } from '../src/mail/templates/onboarding-outcome';
import { recordAudit, type Actor } from '../src/services/audit';
import { cancelInvitation, completeRegistration, installInvitation, invitationLink, invitationPolicy, maxSends, newInvitationToken } from '../src/services/invitations';
import type { SiteRole } from '../src/domain/roles';
import { displayName } from '../src/services/user-view';
import { assertSeatAvailable, createPendingUser, getUserById, parseObjectId, transition, type StoredUser } from '../src/services/users';
import { normalizeEmail } from '../src/domain/email';
import type { Caller, OnboardingInput, Requester } from '../workflows/onboarding-messages';
import { ErrorType } from '../workflows/errors';
import type { ActivityDeps } from './deps';

/** Identifies one run of one onboarding: the workflow id and the run that started its chain. */
export interface ProcessRef {
  workflowId: string;
  /** `<workflowId>/<firstExecutionRunId>`: unique even when the same email is onboarded again later. */
  processId: string;
}

export interface EnsuredUser {
  userId: string;
  email: string;
  /** Invitations already sent for this account (a sweep-started run continues the count). */
  sendCount: number;
  maxSends: number;
}

export interface IssuedInvitation {
  /** false when the user is no longer pending (accepted or changed meanwhile): nothing was sent. */
  issued: boolean;
  status: string;
  sendNumber: number;
  expiresAt?: string;
}

const FAILURE_TYPES: Record<number, string> = { 400: ErrorType.InvalidInput, 403: ErrorType.Unauthorized, 404: ErrorType.NotFound, 409: ErrorType.Conflict, 410: ErrorType.Conflict, 422: ErrorType.InvalidInput };

/** Input errors are permanent: the workflow sees them as non-retryable failures carrying the API code. */
async function permanent<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError && FAILURE_TYPES[err.status]) {
      throw ApplicationFailure.create({ type: FAILURE_TYPES[err.status], message: err.message, nonRetryable: true, details: [{ code: err.code, status: err.status }] });
    }
    throw err;
  }
}

function actorOf(requester: Requester | Caller): Actor {
  if ('role' in requester) return { type: 'user', id: requester.id, email: requester.email };
  return { type: requester.type, id: requester.id, email: requester.email };
}

function requesterObjectId(requester: Requester): Types.ObjectId | undefined {
  return requester.type === 'user' && requester.id && Types.ObjectId.isValid(requester.id) ? new Types.ObjectId(requester.id) : undefined;
}

/** A Message-ID that is the same on every retry of the same send, so a duplicate is recognisable. */
function stableMessageId(...parts: Array<string | number>): string {
  return `<${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 32)}@tenure>`;
}

async function alreadyRecorded(deps: ActivityDeps, eventKey: string): Promise<boolean> {
  return !!(await deps.models.AuditEvent.exists({ eventKey }));
}

export function onboardingActivities(deps: ActivityDeps) {
  const { models } = deps;

  async function organizationName(): Promise<string> {
    const settings = await models.OrgSettings.findById('org', { name: 1 }).lean();
    return settings?.name ?? 'tenure';
  }

  return {
    /**
     * Creates the pending user, adopts the one the API already created, or re-invites a
     * deactivated one (deactivated → pending). Safe to repeat: a retry finds the pending user.
     */
    async ensureOnboardingUser(input: { request: OnboardingInput } & ProcessRef): Promise<EnsuredUser> {
      return permanent(async () => {
        const email = normalizeEmail(input.request.email);
        const actor = actorOf(input.request.requestedBy);
        const policy = await invitationPolicy(models);
        let user = await models.User.findOne({ email }).lean<StoredUser>();
        if (!user) {
          const { requestedBy: _r, source: _s, firstTokenHash: _t, ...fields } = input.request;
          try {
            user = await createPendingUser(models, fields, actor, input.processId);
          } catch (err) {
            // A concurrent creator (the API, a retry) won the race: adopt what it created.
            if (!(err instanceof ConflictError && err.code === 'email_taken')) throw err;
            user = await models.User.findOne({ email }).lean<StoredUser>();
            if (!user) throw err;
          }
        }
        if (user.status === 'deactivated') {
          await assertSeatAvailable(models);
          user = await transition(models, user._id, 'reinvite', { invitation: { sendCount: 0, workflowId: input.workflowId, invitedBy: requesterObjectId(input.request.requestedBy) } });
          await recordAudit(models, { action: 'user.reinvited', actor, target: { id: user._id, email }, processId: input.processId, eventKey: `${input.processId}:user.reinvited` });
        }
        if (user.status === 'active') throw new ConflictError(`${email} is already an active user; there is nobody to invite.`, 'already_active');
        return { userId: String(user._id), email, sendCount: user.invitation?.sendCount ?? 0, maxSends: maxSends(policy) };
      });
    },

    /**
     * Emails invitation number `sendNumber` with a fresh token (the previous link dies). One email
     * per (process, sendNumber): a retry after the email went out finds its audit event and sends
     * nothing; the Message-ID is stable in the narrow window where the record could not be written.
     */
    async sendInvitation(input: ProcessRef & { userId: string; sendNumber: number; requestedBy: Requester }): Promise<IssuedInvitation> {
      return permanent(async () => {
        const eventKey = `${input.processId}:invitation.sent:${input.sendNumber}`;
        const userId = parseObjectId(input.userId, 'user id');
        const current = await getUserById(models, userId);
        if (await alreadyRecorded(deps, eventKey)) {
          return { issued: true, status: current.status, sendNumber: input.sendNumber, expiresAt: current.invitation?.expiresAt?.toISOString() };
        }
        if (current.status !== 'pending' || current.invitation?.acceptedAt) return { issued: false, status: current.status, sendNumber: input.sendNumber };
        const policy = await invitationPolicy(models);
        const { token, hash } = newInvitationToken();
        const user = await installInvitation(models, {
          userId,
          tokenHash: hash,
          sendNumber: input.sendNumber,
          workflowId: input.workflowId,
          invitedBy: requesterObjectId(input.requestedBy),
          lifetimeMs: policy.lifetimeMs,
        });
        if (!user) {
          const now = await getUserById(models, userId);
          return { issued: false, status: now.status, sendNumber: input.sendNumber };
        }
        const inviter = input.requestedBy.id && Types.ObjectId.isValid(input.requestedBy.id) ? await models.User.findById(input.requestedBy.id).lean<StoredUser>() : null;
        const mail = invitationMail({
          inviteeName: displayName(user),
          inviterName: inviter ? displayName(inviter) : undefined,
          organization: await organizationName(),
          link: invitationLink(deps.publicBaseUrl, token),
          expiresAt: user.invitation!.expiresAt!,
          sendNumber: input.sendNumber,
        });
        await deps.mailer.send({ to: user.email, ...mail, messageId: stableMessageId(input.processId, 'invitation', input.sendNumber) });
        await recordAudit(models, {
          action: 'invitation.sent',
          actor: actorOf(input.requestedBy),
          target: { id: userId, email: user.email },
          processId: input.processId,
          eventKey,
          details: { sendNumber: input.sendNumber, expiresAt: user.invitation!.expiresAt },
        });
        return { issued: true, status: 'pending', sendNumber: input.sendNumber, expiresAt: user.invitation!.expiresAt!.toISOString() };
      });
    },

    /** Installs a link the API generated and handed to an admin ("copy invitation link"); no email. */
    async installInvitationLink(input: ProcessRef & { userId: string; sendNumber: number; tokenHash: string; caller: Caller }): Promise<IssuedInvitation> {
      return permanent(async () => {
        const userId = parseObjectId(input.userId, 'user id');
        const policy = await invitationPolicy(models);
        const user = await installInvitation(models, { userId, tokenHash: input.tokenHash, sendNumber: input.sendNumber, workflowId: input.workflowId, lifetimeMs: policy.lifetimeMs });
        if (!user) {
          const now = await getUserById(models, userId);
          if (now.invitation?.tokenHash === input.tokenHash) return { issued: true, status: now.status, sendNumber: input.sendNumber, expiresAt: now.invitation.expiresAt?.toISOString() };
          return { issued: false, status: now.status, sendNumber: input.sendNumber };
        }
        await recordAudit(models, {
          action: 'invitation.link_issued',
          actor: actorOf(input.caller),
          target: { id: userId, email: user.email },
          processId: input.processId,
          eventKey: `${input.processId}:invitation.link_issued:${input.sendNumber}`,
          details: { sendNumber: input.sendNumber },
        });
        return { issued: true, status: 'pending', sendNumber: input.sendNumber, expiresAt: user.invitation!.expiresAt!.toISOString() };
      });
    },

    /** Confirms the accept endpoint's activation (the user may also have been activated before the signal). */
    async confirmAcceptance(input: ProcessRef & { userId: string }): Promise<{ active: boolean }> {
      return permanent(async () => {
        const user = await getUserById(models, parseObjectId(input.userId, 'user id'));
        return { active: user.status === 'active' };
      });
    },

    /** Admin-completed registration: pending → active with the chosen role and groups. */
    async completeRegistration(input: ProcessRef & { userId: string; caller: Caller; siteRole: SiteRole; groups?: string[] }): Promise<{ completed: boolean }> {
      return permanent(async () => {
        await completeRegistration(models, parseObjectId(input.userId, 'user id'), { siteRole: input.siteRole, groups: input.groups }, actorOf(input.caller), {
          processId: input.processId,
          eventKey: `${input.processId}:registration.completed`,
        });
        return { completed: true };
      });
    },

    /** Cancels the invitation: the link dies and the pending account is deactivated (it frees its seat). */
    async cancelInvitation(input: ProcessRef & { userId: string; caller: Caller; reason?: string }): Promise<{ cancelled: boolean; status: string }> {
      return permanent(async () => {
        const userId = parseObjectId(input.userId, 'user id');
        const done = await cancelInvitation(models, userId, actorOf(input.caller), { processId: input.processId, eventKey: `${input.processId}:invitation.cancelled`, reason: input.reason });
        if (done) return { cancelled: true, status: done.status };
        return { cancelled: false, status: (await getUserById(models, userId)).status };
      });
    },

    /** Every send expired unanswered: the invitation is marked expired (the user stays pending). */
    async markInvitationExpired(input: ProcessRef & { userId: string; sends: number }): Promise<{ expired: boolean; status: string }> {
      return permanent(async () => {
        const userId = parseObjectId(input.userId, 'user id');
        const updated = await models.User.findOneAndUpdate(
          { _id: userId, status: 'pending', 'invitation.acceptedAt': { $exists: false } },
          { $set: { 'invitation.expiredAt': new Date() } },
          { returnDocument: 'after' },
        ).lean<StoredUser>();
        if (!updated) {
          const user = await models.User.findById(userId, { status: 1 }).lean();
          if (!user) throw new NotFoundError(`No user with id ${input.userId}.`, 'user_not_found');
          return { expired: false, status: user.status };
        }
        await recordAudit(models, {
          action: 'invitation.expired',
          actor: { type: 'system' },
          target: { id: userId, email: updated.email },
          processId: input.processId,
          eventKey: `${input.processId}:invitation.expired`,
          details: { sends: input.sends },
        });
        return { expired: true, status: 'pending' };
      });
    },

    /** Tells the requester how the onboarding ended; once per process and outcome. */
    async notifyRequester(input: ProcessRef & { userId: string; requestedBy: Requester; outcome: OnboardingOutcome; sends: number }): Promise<{ notified: boolean }> {
      const eventKey = `${input.processId}:requester.notified:${input.outcome}`;
      if (await alreadyRecorded(deps, eventKey)) return { notified: true };
      let to = input.requestedBy.email;
      if (!to && input.requestedBy.id && Types.ObjectId.isValid(input.requestedBy.id)) {
        to = (await models.User.findById(input.requestedBy.id, { email: 1 }).lean())?.email;
      }
      if (!to) return { notified: false };
      const invitee = await models.User.findById(input.userId).lean<StoredUser>();
      if (!invitee) return { notified: false };
      const mail = onboardingOutcomeMail({ outcome: input.outcome, inviteeEmail: invitee.email, inviteeName: displayName(invitee), sends: input.sends });
      await deps.mailer.send({ to, ...mail, messageId: stableMessageId(input.processId, 'outcome', input.outcome) });
      await recordAudit(models, {
        action: 'onboarding.requester_notified',
        actor: { type: 'system' },
        target: { id: invitee._id, email: invitee.email },
        processId: input.processId,
        eventKey,
        details: { outcome: input.outcome, to },
      });
      return { notified: true };
    },
  };
}

/**
 * Inviting someone, from any way in that can answer at once (API, Slack): the pending user is
 * created (or a deactivated one re-invited) synchronously so that plan, domain, group and
 * uniqueness errors come back to the caller, then `onboarding:<email>` is started. If the process
 * cannot be started the account change is undone: nothing is left half-done (a user created for
 * the invitation is deleted and audited `user.deleted`, after its `user.created`).
 */
import type { Client } from '@temporalio/client';
import type { Models } from '../db/models';
import { normalizeEmail } from '../domain/email';
import { ServiceUnavailableError } from '../errors';
import type { Logger } from '../logger';
import { recordAudit, type Actor } from './audit';
import { onboardingWorkflowId, startOnboarding, type OnboardingRequest } from '../processes/onboarding';
import type { StartedProcess } from '../processes/process';
import { assertSeatAvailable, createPendingUser, transition, type CreateUserInput, type StoredUser } from './users';

export interface InviteDeps {
  models: Models;
  temporal: Client;
  taskQueue: string;
  logger: Logger;
}

export async function inviteUser(
  deps: InviteDeps,
  input: CreateUserInput,
  actor: Actor,
  origin: Pick<OnboardingRequest, 'requestedBy' | 'source'>,
): Promise<{ user: StoredUser; process: StartedProcess }> {
  const { models } = deps;
  const email = normalizeEmail(input.email);
  const existing = await models.User.findOne({ email }).lean<StoredUser>();
  let user: StoredUser;
  let undo: () => Promise<unknown>;
  if (existing?.status === 'deactivated') {
    // Re-inviting a deactivated user restores their access once they accept.
    await assertSeatAvailable(models);
    user = await transition(models, existing._id, 'reinvite', {
      invitation: { sendCount: 0, workflowId: onboardingWorkflowId(email), invitedBy: actor.id },
      ...(input.siteRole ? { siteRole: input.siteRole } : {}),
    });
    await recordAudit(models, { action: 'user.reinvited', actor, target: { id: user._id, email } });
    undo = () => transition(models, user._id, 'deactivate', { deactivatedAt: existing.deactivatedAt ?? new Date() });
  } else {
    user = await createPendingUser(models, input, actor, onboardingWorkflowId(email));
    // Its `user.created` is in the audit log (and so went to webhook subscribers): its removal is a
    // `user.deleted` like any other, so no subscriber is left holding a user that does not exist.
    undo = async () => {
      const removed = await models.User.deleteOne({ _id: user._id, status: 'pending', 'invitation.sentAt': { $exists: false } });
      if (removed.deletedCount !== 1) return;
      await recordAudit(models, {
        action: 'user.deleted',
        actor,
        target: { id: user._id, email },
        processId: onboardingWorkflowId(email),
        details: { reason: 'onboarding_not_started', groupsLeft: (user.groups ?? []).map(String) },
      });
    };
  }
  try {
    const { confirmDomainMismatch: _confirmed, ...fields } = input;
    const process = await startOnboarding(deps.temporal, deps.taskQueue, { ...fields, confirmDomainMismatch: input.confirmDomainMismatch, email, ...origin });
    return { user, process };
  } catch (err) {
    await undo().catch((undoErr) => deps.logger.error({ err: undoErr }, 'could not undo the user creation'));
    deps.logger.error({ err }, 'could not start the onboarding process');
    throw new ServiceUnavailableError('The onboarding process could not be started; nothing was created. Try again shortly.', 'process_unavailable');
  }
}

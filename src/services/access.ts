/**
 * Where access ends, and the rule that keeps it ended. Every way access ends (an offboarding's
 * immediate lockout or its revocation step, a deactivation, a permanent delete, a cancelled
 * invitation) goes through endAccess, which ends every open session, revokes every live API token,
 * withdraws the outstanding invitation and tells the running onboarding to stop.
 *
 * A lockout also marks the account (`lockout`): until the offboarding is cancelled or the account
 * is reactivated, no session, token or invitation is created and no invitation is accepted. The
 * mark is written before the sweep of sessions and tokens, and every creation re-checks the
 * account after writing its credential (see sessions.ts, user-admin.ts), so a credential created
 * while the lockout lands is either ended by the sweep or ends itself: none survives.
 */
import type { Client } from '@temporalio/client';
import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import { ConflictError } from '../errors';
import { offboardingRunning, offboardingWorkflowId } from '../processes/offboarding';
import { tellAccessEnded } from '../processes/onboarding';
import { revokeUserTokens } from '../security/access-tokens';

type AccessEndReason = 'lockout' | 'offboarding' | 'deactivated' | 'deleted' | 'invitation_cancelled';

export interface EndAccessOptions {
  reason: AccessEndReason;
  /** Mark the account locked out (an offboarding's immediate lockout). */
  lock?: { processId: string; runId?: string };
  /** Recorded on each revoked token; a lockout's names its run so a cancel restores exactly those. */
  tokenReason?: string;
  at?: Date;
  /** Used to tell the running onboarding; without it the onboarding stops at its next step instead. */
  temporal?: Client;
}

export interface AccessEnded {
  sessionsEnded: number;
  tokensRevoked: number;
  invitationRevoked: boolean;
  onboardingTold: boolean;
}

type SessionEndReason = 'lockout' | 'offboarding' | 'deactivated' | 'admin' | 'logout';

const SESSION_REASONS: Record<AccessEndReason, SessionEndReason> = {
  lockout: 'lockout',
  offboarding: 'offboarding',
  deactivated: 'deactivated',
  deleted: 'admin',
  invitation_cancelled: 'deactivated',
};

/** Ends every open session of a user. Idempotent. */
async function endSessions(models: Models, userId: Types.ObjectId, reason: SessionEndReason, at = new Date()): Promise<number> {
  const result = await models.Session.updateMany({ userId, endedAt: null }, { $set: { endedAt: at, endedReason: reason } });
  await models.User.updateOne({ _id: userId }, { $unset: { activeSessionId: '' } });
  return result.modifiedCount;
}

/** The one "access ends" step. Idempotent: a repeat finds nothing left to end. */
export async function endAccess(models: Models, userId: Types.ObjectId, options: EndAccessOptions): Promise<AccessEnded> {
  const at = options.at ?? new Date();
  // 1. The mark first: from here on nothing new is created for this account.
  if (options.lock) {
    await models.User.updateOne({ _id: userId, lockout: null }, { $set: { lockout: { at, processId: options.lock.processId, runId: options.lock.runId } } });
  }
  // 2. The outstanding invitation dies (one conditional write; acceptance filters on the same hash).
  const before = await models.User.findOneAndUpdate(
    { _id: userId, 'invitation.tokenHash': { $exists: true }, 'invitation.acceptedAt': { $exists: false } },
    { $unset: { 'invitation.tokenHash': '' }, $set: { 'invitation.revokedAt': at } },
    { returnDocument: 'before', projection: { email: 1, status: 1 } },
  ).lean();
  const invitationRevoked = !!before;
  const user = before ?? (await models.User.findById(userId, { email: 1, status: 1 }).lean());
  // 3. Sessions and tokens.
  const sessionsEnded = await endSessions(models, userId, SESSION_REASONS[options.reason], at);
  const tokensRevoked = await revokeUserTokens(models, userId, options.tokenReason ?? options.reason, at);
  // 4. The onboarding of a pending invitee ends now rather than at its next resend.
  let onboardingTold = false;
  if (user && options.temporal && (invitationRevoked || user.status === 'pending')) {
    onboardingTold = await tellAccessEnded(options.temporal, user.email, options.reason);
  }
  return { sessionsEnded, tokensRevoked, invitationRevoked, onboardingTold };
}

/** Lifts the lockout mark a run of an offboarding set (its cancel or rejection). */
export async function liftLockout(models: Models, userId: Types.ObjectId, processId: string, runId?: string): Promise<boolean> {
  const filter: Record<string, unknown> = { _id: userId, 'lockout.processId': processId };
  if (runId) filter['lockout.runId'] = runId;
  const result = await models.User.updateOne(filter, { $unset: { lockout: '' } });
  return result.modifiedCount === 1;
}

export function lockedOutError(user: { email: string; lockout?: { processId?: string | null } | null }): ConflictError {
  const by = user.lockout?.processId ? ` by ${user.lockout.processId}` : '';
  return new ConflictError(
    `${user.email} is locked out${by}: no new sessions, API tokens or invitations until the offboarding is cancelled or the account is reactivated.`,
    'user_locked_out',
  );
}

/**
 * Refuses (409) to give a user new access (a session, an API token, an invitation, a completed
 * registration) while they are locked out or being offboarded. The store re-checks the lockout
 * atomically where the credential is written; this adds the running offboarding, which lives in
 * Temporal.
 */
export async function assertMayGainAccess(
  deps: { temporal: Client },
  user: { _id: Types.ObjectId; email: string; status: string; lockout?: { processId?: string | null } | null },
  what: string,
): Promise<void> {
  // A deactivated account is refused by the operation itself, which says so.
  if (user.status === 'deactivated') return;
  if (user.lockout) throw lockedOutError(user);
  if (await offboardingRunning(deps.temporal, String(user._id))) {
    throw new ConflictError(`${user.email} is being offboarded (${offboardingWorkflowId(String(user._id))}); ${what} cannot be created until the offboarding is cancelled.`, 'user_being_offboarded');
  }
}

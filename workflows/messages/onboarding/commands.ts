/**
 * What callers, the accept endpoint and the access rules ask of a running onboarding: updates
 * (admin actions, refused by their validators) and signals. Names are the wire names of recorded
 * histories; keep them. No Node imports: part of the bundle.
 */
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Caller } from '../caller';
import type { OnboardingProgress } from './queries';
import type { InvitationIssued, OnboardingInput } from './values';

/** What an admin action that ends or completes the invitation returns. */
export type OnboardingResult = Pick<OnboardingProgress, 'state' | 'userId' | 'sends' | 'refusal'>;

/** The workflow clients start by its type name, `onboardingWorkflow`. */
export type OnboardingWorkflow = (input: OnboardingInput) => Promise<OnboardingResult>;

export interface InvitationAccepted {
  userId: string;
  at: string;
}

export interface ResendArgs {
  caller: Caller;
}

export interface IssueLinkArgs {
  caller: Caller;
  /** Hash of the token the API generated and returns to the admin; only the hash is sent here. */
  tokenHash: string;
}

export interface CompleteRegistrationArgs {
  caller: Caller;
  siteRole: NonNullable<OnboardingInput['siteRole']>;
  groups?: string[];
}

export interface CancelArgs {
  caller: Caller;
  reason?: string;
}

/** Sent by the accept endpoint after it activated the user (the token is single-use there). */
export const invitationAcceptedSignal = defineSignal<[InvitationAccepted]>('invitationAccepted');
/** Admin: email a fresh link now; the previous one stops working at once. */
export const resendInvitationUpdate = defineUpdate<InvitationIssued, [ResendArgs]>('resendInvitation');
/** Admin: install a fresh link the API hands back ("copy invitation link"); no email. */
export const issueInvitationLinkUpdate = defineUpdate<InvitationIssued, [IssueLinkArgs]>('issueInvitationLink');
/** Admin completes the registration: the user becomes active with this role and groups. */
export const completeRegistrationUpdate = defineUpdate<OnboardingResult, [CompleteRegistrationArgs]>('completeRegistration');
/** Admin cancels the invitation: the link dies and the pending account is deactivated. */
export const cancelOnboardingUpdate = defineUpdate<OnboardingResult, [CancelArgs]>('cancelOnboarding');
/**
 * Sent where the account's access ended (lockout, deactivation, delete; src/services/access.ts):
 * the invitation is already withdrawn in the store, so the process ends without another send.
 */
export const accessEndedSignal = defineSignal<[{ reason: string }]>('accessEnded');

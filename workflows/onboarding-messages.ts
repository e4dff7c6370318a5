/**
 * The onboarding workflow's messages and types, defined once and imported by the workflow, the
 * HTTP API, the sweep, the Slack bot and tests. No Node imports: this module is in the bundle.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export type OnboardingSource = 'slack' | 'hr' | 'api' | 'scim' | 'sweep';

export interface Requester {
  type: 'user' | 'system' | 'hr' | 'scim' | 'slack';
  id?: string;
  email?: string;
}

export interface OnboardingInput {
  email: string;
  firstName?: string;
  lastName?: string;
  preferredName?: string;
  title?: string;
  site?: string;
  division?: string;
  siteRole?: 'Administrators' | 'PowerUsers' | 'Users' | 'Auditors' | 'SecurityManagers';
  groups?: string[];
  managerId?: string;
  hrEmployeeId?: string;
  confirmDomainMismatch?: boolean;
  requestedBy: Requester;
  source: OnboardingSource;
  /**
   * SHA-256 of an invitation token the caller already handed out ("copy invitation link"):
   * the first invitation installs it instead of emailing a new one. The token itself never
   * enters the workflow's history.
   */
  firstTokenHash?: string;
}

/** Who is acting; the API passes its authenticated principal, validators check the role. */
export interface Caller {
  id: string;
  role: string;
  email?: string;
}

export type OnboardingState =
  | 'creating-user'
  | 'invited'
  | 'accepted'
  | 'completed'
  | 'expired'
  | 'cancelled'
  | 'refused';

export const FINISHED_STATES: readonly OnboardingState[] = ['accepted', 'completed', 'expired', 'cancelled', 'refused'];

export interface OnboardingStep {
  at: string;
  step: string;
  detail?: string;
}

export interface OnboardingProgress {
  workflowId: string;
  email: string;
  userId?: string;
  state: OnboardingState;
  /** Invitations sent (or links issued) so far, the first one included. */
  sends: number;
  /** Sends allowed before the invitation is marked expired: 1 + the automatic resends. */
  maxSends: number;
  expiresAt?: string;
  requestedBy: Requester;
  source: OnboardingSource;
  /** Why a refused process stopped (plan limit, domain, already active…). */
  refusal?: { code: string; message: string };
  history: OnboardingStep[];
}

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

export interface InvitationIssued {
  sendNumber: number;
  expiresAt: string;
}

/** Sent by the accept endpoint after it activated the user (the token is single-use there). */
export const invitationAcceptedSignal = defineSignal<[InvitationAccepted]>('invitationAccepted');
/** Admin: email a fresh link now; the previous one stops working at once. */
export const resendInvitationUpdate = defineUpdate<InvitationIssued, [ResendArgs]>('resendInvitation');
/** Admin: install a fresh link the API hands back ("copy invitation link"); no email. */
export const issueInvitationLinkUpdate = defineUpdate<InvitationIssued, [IssueLinkArgs]>('issueInvitationLink');
/** Admin completes the registration (seed 000): the user becomes active with this role and groups. */
export const completeRegistrationUpdate = defineUpdate<OnboardingResult, [CompleteRegistrationArgs]>('completeRegistration');
/** Admin cancels the invitation: the link dies and the pending account is deactivated. */
export const cancelOnboardingUpdate = defineUpdate<OnboardingResult, [CancelArgs]>('cancelOnboarding');
export const onboardingProgressQuery = defineQuery<OnboardingProgress>('progress');
/**
 * Sent where the account's access ended (lockout, deactivation, delete; src/services/access.ts):
 * the invitation is already withdrawn in the store, so the process ends without another send.
 */
export const accessEndedSignal = defineSignal<[{ reason: string }]>('accessEnded');

/** Failure types of onboarding's update validators and handlers (mapped to HTTP by the API). */
export const OnboardingFailure = {
  NotAdministrator: 'NotAdministrator',
  ProcessFinished: 'ProcessFinished',
  AlreadyActive: 'AlreadyActive',
} as const;

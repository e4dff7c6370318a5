/**
 * The onboarding's values: its input, states and what an invitation send returns.
 * No Node imports: part of the workflow bundle.
 */
import type { Requester } from '../caller';

export type OnboardingSource = 'slack' | 'hr' | 'api' | 'scim' | 'sweep';

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

export type OnboardingState =
  | 'creating-user'
  | 'invited'
  | 'accepted'
  | 'completed'
  | 'expired'
  | 'cancelled'
  | 'refused';

export const FINISHED_STATES: readonly OnboardingState[] = ['accepted', 'completed', 'expired', 'cancelled', 'refused'];

export interface InvitationIssued {
  sendNumber: number;
  expiresAt: string;
}

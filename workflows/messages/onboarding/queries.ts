/**
 * What the onboarding answers without changing anything. No Node imports: part of the bundle.
 */
import { defineQuery } from '@temporalio/workflow';
import type { Requester } from '../caller';
import type { OnboardingSource, OnboardingState } from './values';

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

export const onboardingProgressQuery = defineQuery<OnboardingProgress>('progress');

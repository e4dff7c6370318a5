/**
 * What the offboarding answers without changing anything. No Node imports: part of the bundle.
 */
import { defineQuery } from '@temporalio/workflow';
import type { Requester } from '../caller';
import type { OffboardingPlan, OffboardingSource, OffboardingStatus, StepProgress, SystemProgress, VerificationResult } from './values';

export interface OffboardingProgress {
  workflowId: string;
  userId: string;
  /** Where the offboarding came from, who asked, and the effective date it waits for (from its start). */
  source?: OffboardingSource;
  requestedBy?: Requester;
  effectiveDate?: string;
  status: OffboardingStatus;
  steps: StepProgress[];
  resources: { done: number; total: number; failed: string[] };
  plan: (OffboardingPlan & { version: string; assignments: Record<string, string> }) | null;
  /** Why the process waits for a person (owner to choose, approval...). */
  awaiting?: string;
  decision?: { action: 'approved' | 'rejected' | 'cancelled' | 'undone'; by: string; at: string; reason?: string };
  /** Set when the reminder timer of the current wait for an approver fired. */
  remindedAt?: string;
  /** Set when that wait was escalated to the Administrators (Slack then asks them too). */
  escalatedAt?: string;
  verification?: VerificationResult;
  /** Each connected system: what was planned, what was done, what verification found. */
  systems?: SystemProgress[];
  undoUntil?: string;
  deleteAt?: string;
  error?: string;
}

export const progressQuery = defineQuery<OffboardingProgress>('progress');

/**
 * The offboarding process's messages and shapes, defined once and imported by the workflow,
 * the API, Slack and tests. No Node imports: this module is part of the workflow bundle.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export type OffboardingSource = 'slack' | 'hr' | 'api' | 'scim';

/** Who acts on a process. Id and role come from our authenticated API or Slack mapping. */
export interface Caller {
  userId: string;
  role: string;
  email?: string;
}

export interface OffboardingInput {
  userId: string;
  reason: string;
  requestedBy: { type: 'user' | 'system' | 'hr' | 'scim' | 'slack'; id?: string; email?: string };
  source: OffboardingSource;
  /** ISO date or date-time; the process waits for it with a durable timer. */
  effectiveDate?: string;
  newOwnerId?: string;
  immediateLockout?: boolean;
  /** Overrides of the configured timings (tests and benchmarks run in seconds). */
  timings?: Partial<OffboardingPolicy>;
}

/** What the organization's policy and the worker's configuration decide for one process. */
export interface OffboardingPolicy {
  approvalRequired: boolean;
  approvalReminderMs: number;
  approvalEscalationMs: number;
  /** 0: no undo window. */
  undoGraceMs: number;
  /** Time from deactivation to permanent delete; null: keep forever. */
  retentionMs: number | null;
}

export type OwnerSource = 'given' | 'manager' | 'org_default' | 'approver';

export interface PlannedResource {
  id: string;
  kind: string;
  name: string;
  /** Proposed new owner; null when the approver has to choose. */
  newOwnerId: string | null;
}

/** What an offboarding will do, built from the store without changing anything. */
export interface OffboardingPlan {
  userId: string;
  email: string;
  status: string;
  /** What the HR system last said of the leaver (`terminated` after an HR termination). */
  hrStatus?: 'employed' | 'terminated' | null;
  managerId: string | null;
  /** Default new owner of every resource, and where that proposal came from. */
  newOwner: { id: string; email: string; source: OwnerSource } | null;
  /** Why a candidate owner was passed over (inactive manager, the leaver...). */
  notes: string[];
  resources: PlannedResource[];
  resourcesTotal: number;
  sessions: { active: number };
  tokens: Array<{ tokenId: string; name: string }>;
  groups: string[];
  builtAt: string;
}

export type StepName = 'lockout' | 'plan' | 'effective_date' | 'approval' | 'transfer' | 'revoke_access' | 'deactivate' | 'notify' | 'verify' | 'undo_window' | 'retention';
export type StepState = 'pending' | 'running' | 'done' | 'skipped' | 'failed';

export interface StepProgress {
  name: StepName;
  state: StepState;
  startedAt?: string;
  finishedAt?: string;
  detail?: string;
}

export type OffboardingStatus =
  | 'starting'
  | 'locking_out'
  | 'planning'
  | 'waiting_effective_date'
  | 'awaiting_approval'
  | 'executing'
  | 'verifying'
  | 'completed'
  | 'completed_with_access_left_behind'
  | 'rejected'
  | 'cancelled'
  | 'undone'
  | 'reactivated'
  | 'deleted'
  | 'failed';

/** States in which nothing more will happen except the undo window and retention. */
export const SETTLED_STATUSES: readonly OffboardingStatus[] = ['completed', 'completed_with_access_left_behind', 'rejected', 'cancelled', 'undone', 'reactivated', 'deleted', 'failed'];

export interface VerificationResult {
  clean: boolean;
  status: string | null;
  activeSessions: number;
  liveTokens: number;
  owned: number;
  groups: number;
}

export interface OffboardingProgress {
  workflowId: string;
  userId: string;
  /** Where the offboarding came from, who asked, and the effective date it waits for (from its start). */
  source?: OffboardingSource;
  requestedBy?: OffboardingInput['requestedBy'];
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
  undoUntil?: string;
  deleteAt?: string;
  error?: string;
  /** Activities this run has executed (the benchmark's baseline runs as many). */
  activityCount: number;
}

export interface ApproveArgs {
  caller: Caller;
  /** The plan version the approver saw; an approval of a stale plan is refused. */
  planVersion: string;
}
export interface RejectArgs {
  caller: Caller;
  reason?: string;
}
export interface ChangeOwnerArgs {
  caller: Caller;
  newOwnerId: string;
  /** One resource only; all resources when omitted. */
  resourceId?: string;
}
export interface CancelArgs {
  caller: Caller;
  reason?: string;
}
export interface UndoArgs {
  caller: Caller;
  reason?: string;
}
export interface ActionResult {
  status: OffboardingStatus;
  planVersion?: string;
}

export const approveUpdate = defineUpdate<ActionResult, [ApproveArgs]>('approve');
export const rejectUpdate = defineUpdate<ActionResult, [RejectArgs]>('reject');
export const changeOwnerUpdate = defineUpdate<ActionResult, [ChangeOwnerArgs]>('changeOwner');
export const cancelUpdate = defineUpdate<ActionResult, [CancelArgs]>('cancel');
export const undoUpdate = defineUpdate<ActionResult, [UndoArgs]>('undo');
export const progressQuery = defineQuery<OffboardingProgress>('progress');
/** Sent by the reactivation workflow: the account is active again, so never delete it. */
export const reactivatedSignal = defineSignal<[{ by?: string }]>('reactivated');

/** Sent by an offboarding to its bulk parent when it has settled. */
export const childSettledSignal = defineSignal<[{ userId: string; status: OffboardingStatus }]>('childSettled');

export interface BulkOffboardingInput {
  users: Array<{ userId: string; reason?: string }>;
  reason: string;
  requestedBy: OffboardingInput['requestedBy'];
  source: OffboardingSource;
  newOwnerId?: string;
  immediateLockout?: boolean;
  concurrency: number;
  timings?: Partial<OffboardingPolicy>;
}

export interface BulkOffboardingProgress {
  workflowId: string;
  total: number;
  started: number;
  settled: number;
  byStatus: Record<string, number>;
  items: Array<{ userId: string; workflowId: string; status: OffboardingStatus | 'queued' | 'running' | 'already_running' }>;
  done: boolean;
}
export const bulkProgressQuery = defineQuery<BulkOffboardingProgress>('progress');

export interface ReactivationInput {
  userId: string;
  requestedBy: OffboardingInput['requestedBy'];
  reason?: string;
}

/**
 * A short, stable fingerprint of the ownership assignments an approver sees. Any change of
 * proposed owner changes it, so an approval of an older plan is recognisably stale. FNV-1a.
 */
export function planVersion(defaultOwnerId: string | null, assignments: Record<string, string>): string {
  const text = `${defaultOwnerId ?? '-'}|${Object.keys(assignments)
    .sort()
    .map((k) => `${k}=${assignments[k]}`)
    .join(',')}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

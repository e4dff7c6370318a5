/**
 * The offboarding's values: its input, policy, plan, steps and statuses, and what a command
 * returns. No Node imports: this module is part of the workflow bundle.
 */
import type { Requester } from '../caller';

export type OffboardingSource = 'slack' | 'hr' | 'api' | 'scim';

export interface OffboardingInput {
  userId: string;
  reason: string;
  requestedBy: Requester;
  source: OffboardingSource;
  /** ISO date or date-time; the process waits for it with a durable timer. */
  effectiveDate?: string;
  newOwnerId?: string;
  immediateLockout?: boolean;
  /** An HR-sourced offboarding: when the HR termination event was received (ISO date-time). */
  hrReceivedAt?: string;
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
  /** After access was left behind in a connected system: how long between automatic retries (absent: no automatic retry). */
  systemRetryMs?: number;
}

export type OwnerSource = 'given' | 'manager' | 'org_default' | 'approver';

interface PlannedResource {
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
  /** What will be done in each connected system (absent in plans made before connectors existed). */
  systems?: SystemPlan[];
}

/** One planned action in a connected system, as approvers read it. */
interface SystemActionView {
  key: string;
  action: string;
  summary: string;
}

/** What the offboarding will do in one connected system (an identity provider, a code host). */
export interface SystemPlan {
  system: string;
  label: string;
  /** The leaver's account there; null when the system has none (nothing to do) or could not be read. */
  account: string | null;
  actions: SystemActionView[];
  /** Why the system could not be read when the plan was made (it is read again when the plan is carried out). */
  error?: string;
}

/** What one action in a connected system came to. */
export interface SystemActionOutcome {
  key: string;
  action: string;
  summary: string;
  state: 'done' | 'already_done' | 'failed';
  detail?: string;
  /** What undo needs to reverse it; plain JSON. */
  undo?: Record<string, string>;
  /** A lockout-class action (sign-in, sessions, tokens). */
  lockout?: true;
}

/** The result of carrying out the plan in one connected system. */
export interface SystemActResult {
  system: string;
  label: string;
  outcomes: SystemActionOutcome[];
  /** The system stayed unreachable or refused: nothing (more) could be done there. */
  error?: string;
}

/** What verification found in one connected system. */
export interface SystemCheck {
  system: string;
  label: string;
  clean: boolean;
  /** What is still there, as a person reads it ("session 3f2…", "repository alice/api"). */
  remaining: string[];
  /** The system could not be read: not clean. */
  error?: string;
}

/** A connected system's line in the progress view. */
export interface SystemProgress {
  system: string;
  label: string;
  state: 'pending' | 'running' | 'done' | 'failed' | 'undone';
  planned: number;
  outcomes: SystemActionOutcome[];
  error?: string;
  verification?: SystemCheck;
}

export type StepName = 'lockout' | 'plan' | 'effective_date' | 'approval' | 'transfer' | 'connected_systems' | 'revoke_access' | 'deactivate' | 'notify' | 'verify' | 'undo_window' | 'retention';
type StepState = 'pending' | 'running' | 'done' | 'skipped' | 'failed';

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
  /** Each connected system's verification; any unclean one makes the whole result unclean. */
  systems?: SystemCheck[];
}

export interface ActionResult {
  status: OffboardingStatus;
  planVersion?: string;
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

/** The reactivation process's input (it then tells a running offboarding with `reactivatedSignal`). */
export interface ReactivationInput {
  userId: string;
  requestedBy: Requester;
  reason?: string;
}

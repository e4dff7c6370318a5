/**
 * Starting and driving offboarding processes from any way in (API, Slack, HR intake, SCIM).
 * Contract shared by those callers; the workflow lives in workflows/offboarding.ts.
 */
import type { Client } from '@temporalio/client';

export type ProcessSource = 'slack' | 'hr' | 'api' | 'scim';

export interface OffboardingRequest {
  userId: string;
  reason: string;
  /** Who asked: a tenure user id when there is one. */
  requestedBy: { type: 'user' | 'system' | 'hr' | 'scim' | 'slack'; id?: string; email?: string };
  source: ProcessSource;
  /** ISO date (YYYY-MM-DD) or date-time; the process waits for it durably. */
  effectiveDate?: string;
  newOwnerId?: string;
  immediateLockout?: boolean;
}

export interface StartedProcess {
  workflowId: string;
  runId?: string;
  /** false when a running process with the same business key was joined instead. */
  started: boolean;
}

export function offboardingWorkflowId(userId: string): string {
  return `offboarding:${userId}`;
}

/** Starts `offboarding:<userId>`, or joins the running one. */
export async function startOffboarding(_client: Client, _taskQueue: string, _request: OffboardingRequest): Promise<StartedProcess> {
  throw new Error('startOffboarding is not implemented yet');
}

/** The workflow id of each process kind: one running process per subject. */
import { randomUUID } from 'node:crypto';

export function offboardingWorkflowId(userId: string): string {
  return `offboarding:${userId}`;
}

export function reactivationWorkflowId(userId: string): string {
  return `reactivation:${userId}`;
}

export function bulkOffboardingWorkflowId(id: string = randomUUID()): string {
  return id.startsWith('bulk-offboarding:') ? id : `bulk-offboarding:${id}`;
}

export function onboardingWorkflowId(email: string): string {
  return `onboarding:${email.trim().toLowerCase()}`;
}

const PROCESS_KINDS = ['offboarding', 'reactivation', 'bulk-offboarding', 'onboarding'] as const;
type ProcessKind = (typeof PROCESS_KINDS)[number];

/** The kind of process a workflow id names, by the prefix the functions above give it. */
export function processKindOf(workflowId: string): ProcessKind | undefined {
  const prefix = workflowId.slice(0, workflowId.indexOf(':'));
  return PROCESS_KINDS.find((kind) => kind === prefix);
}

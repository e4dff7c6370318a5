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

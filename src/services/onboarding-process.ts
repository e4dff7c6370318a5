/**
 * Starting onboarding processes from any way in (API, Slack, HR intake, SCIM).
 * Contract shared by those callers; the workflow lives in workflows/onboarding.ts.
 */
import type { Client } from '@temporalio/client';
import type { SiteRole } from '../domain/roles';
import type { StartedProcess } from './offboarding-process';

export interface OnboardingRequest {
  email: string;
  firstName?: string;
  lastName?: string;
  siteRole?: SiteRole;
  groups?: string[];
  managerId?: string;
  hrEmployeeId?: string;
  confirmDomainMismatch?: boolean;
  requestedBy: { type: 'user' | 'system' | 'hr' | 'scim' | 'slack'; id?: string; email?: string };
  source: 'slack' | 'hr' | 'api' | 'scim';
}

export function onboardingWorkflowId(email: string): string {
  return `onboarding:${email.trim().toLowerCase()}`;
}

/** Starts `onboarding:<email>`, or joins the running one. */
export async function startOnboarding(_client: Client, _taskQueue: string, _request: OnboardingRequest): Promise<StartedProcess> {
  throw new Error('startOnboarding is not implemented yet');
}

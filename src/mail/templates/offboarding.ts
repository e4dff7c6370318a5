/** The emails an offboarding sends: approval request, reminder, escalation, outcome, alert. */

export type OffboardingMailKind = 'approval_request' | 'approval_reminder' | 'approval_escalation' | 'owner_needed' | 'completed' | 'access_left_behind' | 'undone';

export interface OffboardingMailInput {
  kind: OffboardingMailKind;
  leaverEmail: string;
  processId: string;
  reason?: string;
  /** Free text appended to the body (the verification summary, the inactive owner...). */
  detail?: string;
  /** Where the approver acts (the API's process URL). */
  link?: string;
}

const SUBJECTS: Record<OffboardingMailKind, (leaver: string) => string> = {
  approval_request: (l) => `Approval needed: offboarding of ${l}`,
  approval_reminder: (l) => `Reminder: offboarding of ${l} is waiting for your approval`,
  approval_escalation: (l) => `Escalation: offboarding of ${l} has had no answer`,
  owner_needed: (l) => `A new owner is needed for the resources of ${l}`,
  completed: (l) => `Offboarding of ${l} is complete`,
  access_left_behind: (l) => `ALERT: offboarding of ${l} left access behind`,
  undone: (l) => `Offboarding of ${l} was undone`,
};

const LEADS: Record<OffboardingMailKind, string> = {
  approval_request: 'An offboarding is waiting for your approval. Review the plan and approve, reject or change the new owner.',
  approval_reminder: 'This offboarding is still waiting for an approval.',
  approval_escalation: 'Nobody has answered this offboarding approval; it is escalated to the Administrators.',
  owner_needed: 'The offboarding cannot go on until someone is chosen to receive the resources (see below why). Choose a new owner, then approve.',
  completed: 'The offboarding finished: resources transferred, sessions ended, tokens revoked, account deactivated.',
  access_left_behind: 'The offboarding finished but verification found access left behind. Someone must act now.',
  undone: 'The offboarding was undone: the account is active again and its resources were handed back. Its tokens stay revoked.',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function renderOffboardingMail(input: OffboardingMailInput): { subject: string; text: string; html: string } {
  const lines = [
    LEADS[input.kind],
    '',
    `Leaver: ${input.leaverEmail}`,
    `Process: ${input.processId}`,
    ...(input.reason ? [`Reason: ${input.reason}`] : []),
    ...(input.detail ? ['', input.detail] : []),
    ...(input.link ? ['', `Open: ${input.link}`] : []),
  ];
  return {
    subject: SUBJECTS[input.kind](input.leaverEmail),
    text: lines.join('\n'),
    html: `<p>${lines.map(escapeHtml).join('<br>')}</p>`,
  };
}

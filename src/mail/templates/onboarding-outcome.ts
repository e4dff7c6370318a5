import { escapeHtml } from './escape';

export type OnboardingOutcome = 'accepted' | 'completed' | 'expired';

/** Tells whoever asked for an onboarding how it ended. */
export function onboardingOutcomeMail(input: { outcome: OnboardingOutcome; inviteeEmail: string; inviteeName: string; sends: number }): { subject: string; text: string; html: string } {
  const who = input.inviteeName === input.inviteeEmail ? input.inviteeEmail : `${input.inviteeName} (${input.inviteeEmail})`;
  const { subject, sentence } = {
    accepted: { subject: `${input.inviteeEmail} accepted the invitation`, sentence: `${who} accepted the invitation; the account is now active.` },
    completed: { subject: `Registration of ${input.inviteeEmail} completed`, sentence: `The registration of ${who} was completed by an administrator; the account is now active.` },
    expired: {
      subject: `The invitation of ${input.inviteeEmail} expired`,
      sentence: `${who} did not accept the invitation after ${input.sends} email${input.sends === 1 ? '' : 's'}; it has expired. An administrator can resend it from the user's page.`,
    },
  }[input.outcome];
  return { subject, text: `${sentence}\n`, html: `<p>${escapeHtml(sentence)}</p>` };
}

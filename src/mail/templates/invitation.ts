import { escapeHtml } from './escape';

export interface InvitationMailInput {
  inviteeName: string;
  inviterName?: string;
  organization: string;
  link: string;
  expiresAt: Date;
  /** 1 for the first invitation; more for a resend. */
  sendNumber: number;
}

/** The invitation email: who invites the invitee to which organization, an Accept Invitation button and when the link expires. */
export function invitationMail(input: InvitationMailInput): { subject: string; text: string; html: string } {
  const by = input.inviterName ? `${input.inviterName} invited you` : 'You have been invited';
  const again = input.sendNumber > 1 ? ' This link replaces any earlier invitation, which no longer works.' : '';
  const until = input.expiresAt.toUTCString();
  const subject = `You've been invited to ${input.organization}${input.sendNumber > 1 ? ' (new link)' : ''}`;
  const text = [
    `Hello ${input.inviteeName},`,
    '',
    `${by} to join ${input.organization}.${again}`,
    '',
    `Accept the invitation: ${input.link}`,
    '',
    `The link works once and expires on ${until}.`,
  ].join('\n');
  const html = [
    `<p>Hello ${escapeHtml(input.inviteeName)},</p>`,
    `<p>${escapeHtml(by)} to join ${escapeHtml(input.organization)}.${escapeHtml(again)}</p>`,
    `<p><a href="${escapeHtml(input.link)}">Accept Invitation</a></p>`,
    `<p>The link works once and expires on ${escapeHtml(until)}.</p>`,
  ].join('\n');
  return { subject, text, html };
}

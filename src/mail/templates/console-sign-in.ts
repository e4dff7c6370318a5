import { escapeHtml } from './escape';

/** The console sign-in email: one link that works once, until a given time. */
export function consoleSignInMail(input: { name: string; organization: string; link: string; expiresAt: Date }): { subject: string; text: string; html: string } {
  const until = input.expiresAt.toUTCString();
  const subject = `Sign in to the ${input.organization} admin console`;
  const text = [
    `Hello ${input.name},`,
    '',
    `Sign in to the ${input.organization} admin console: ${input.link}`,
    '',
    `The link works once, until ${until}. Signing in ends any other session of your account.`,
    'If you did not ask for it, ignore this email.',
  ].join('\n');
  const html = [
    `<p>Hello ${escapeHtml(input.name)},</p>`,
    `<p><a href="${escapeHtml(input.link)}">Sign in to the ${escapeHtml(input.organization)} admin console</a></p>`,
    `<p>The link works once, until ${escapeHtml(until)}. Signing in ends any other session of your account.</p>`,
    '<p>If you did not ask for it, ignore this email.</p>',
  ].join('\n');
  return { subject, text, html };
}

/** Shared set-up of the onboarding tests: org settings with short lifetimes and mail parsing. */
import type { Models } from '../../src/db/models';
import type { CapturedMail } from '../helpers/smtp';

export async function setInvitationPolicy(models: Models, policy: { lifetimeMs: number; resends: number; domain?: string; plan?: 'Starter' | 'Professional' | 'Enterprise' }): Promise<void> {
  await models.OrgSettings.updateOne(
    { _id: 'org' },
    { $set: { invitationLifetimeMs: policy.lifetimeMs, invitationResends: policy.resends, domain: policy.domain ?? 'example.com', plan: policy.plan ?? 'Enterprise', name: 'Example Inc.' } },
    { upsert: true },
  );
}

/** The invitation token in a captured email (the accept link's path segment). */
export function tokenIn(mail: CapturedMail): string {
  const match = /\/invitations\/([A-Za-z0-9_-]{20,})\/accept/.exec(mail.body);
  if (!match) throw new Error(`no accept link in mail "${mail.subject}"`);
  return match[1]!;
}

export function invitationsTo(mails: CapturedMail[]): CapturedMail[] {
  return mails.filter((m) => /invited/i.test(m.subject));
}

import type { WebClient } from '@slack/web-api';
import type { Models } from '../db/models';
import type { StoredUser } from '../services/users';

export type Resolved = { ok: true; user: StoredUser; slackUserId?: string } | { ok: false; reason: string };

/** The Slack user's email, from users.info. */
async function slackEmail(client: WebClient, slackUserId: string): Promise<string | undefined> {
  try {
    const info = await client.users.info({ user: slackUserId });
    return info.user?.profile?.email?.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Matches a Slack user to a tenure user by email. The role is read fresh on every command, so a
 * role change counts from the next one.
 */
export async function tenureUserOf(client: WebClient, models: Models, slackUserId: string): Promise<Resolved> {
  const email = await slackEmail(client, slackUserId);
  if (!email) return { ok: false, reason: 'tenure could not read your email address from Slack (the bot needs the users:read.email scope).' };
  const user = await models.User.findOne({ email }).lean<StoredUser>();
  if (!user) return { ok: false, reason: `No tenure account has your email address (${email}).` };
  if (user.status !== 'active') return { ok: false, reason: `Your tenure account (${email}) is ${user.status}.` };
  return { ok: true, user, slackUserId };
}

/** Finds the tenure user a command names, by mention (through Slack) or by email. */
export async function resolvePerson(client: WebClient, models: Models, person: { slackUserId: string } | { email: string }): Promise<Resolved> {
  let email: string | undefined;
  let slackUserId: string | undefined;
  if ('slackUserId' in person) {
    slackUserId = person.slackUserId;
    email = await slackEmail(client, person.slackUserId);
    if (!email) return { ok: false, reason: `Slack did not tell tenure the email address of <@${person.slackUserId}>.` };
  } else {
    email = person.email;
  }
  const user = await models.User.findOne({ email }).lean<StoredUser>();
  if (!user) return { ok: false, reason: `No tenure account has the email address ${email}.` };
  return { ok: true, user, slackUserId };
}

/** The Slack id of a tenure user, for direct messages. */
export async function slackIdOf(client: WebClient, email: string): Promise<string | undefined> {
  try {
    const found = await client.users.lookupByEmail({ email });
    return found.user?.id;
  } catch {
    return undefined;
  }
}

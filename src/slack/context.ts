import type { Client } from '@temporalio/client';
import type { Config } from '../config/env';
import type { Models } from '../db/models';
import type { Logger } from '../logger';
import { recordAudit } from '../services/audit';
import type { ActingUser } from '../services/offboarding-requests';
import type { StoredUser } from '../services/users';
import { ChannelThrottle } from './throttle';

export interface SlackDeps {
  config: Config;
  models: Models;
  temporal: Client;
  logger: Logger;
}

/** What every listener receives. */
export interface SlackContext extends SlackDeps {
  throttle: ChannelThrottle;
}

/** Refusals are audited: who tried what, on whom, and why it was refused. */
export async function auditRefusal(ctx: SlackContext, input: { slackUserId: string; actor?: StoredUser; action: string; target?: StoredUser; reason: string }): Promise<void> {
  await recordAudit(ctx.models, {
    action: 'slack.refused',
    actor: { type: 'slack', id: input.actor?._id, email: input.actor?.email },
    target: input.target ? { id: input.target._id, email: input.target.email } : undefined,
    details: { slackUserId: input.slackUserId, attempted: input.action, reason: input.reason },
  }).catch((err) => ctx.logger.warn({ err }, 'could not audit a Slack refusal'));
}

/** A Slack user acting as their tenure account: that account is the actor, `slack` the way in. */
export function actingInSlack(user: StoredUser, slackUserId: string): ActingUser {
  return { user, actor: { type: 'slack', id: user._id, email: user.email }, source: 'slack', context: { slackUserId } };
}

import type { AllMiddlewareArgs, RespondFn, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { can, type Permission } from '../../../domain/roles';
import type { StoredUser } from '../../../services/users';
import type { CommandName, Parsed } from '../../commands';
import { auditRefusal, type SlackContext } from '../../context';
import { tenureUserOf } from '../../identity';
import { ephemeral, respondWithError } from './respond';

export interface CommandRun<T> {
  value: T;
  actor: StoredUser;
  command: SlackCommandMiddlewareArgs['command'];
  respond: RespondFn;
  client: WebClient;
  /** Answers with a refusal, written to the audit log. */
  refuse(reason: string, target?: StoredUser): Promise<void>;
}

/**
 * The shape every slash command shares: usage errors answered in the acknowledgement itself;
 * otherwise ack at once, match the Slack user to an active tenure user, check the role, then
 * one call into the domain. Refusals are ephemeral and audited; failures become a sentence.
 */
export function slashCommand<T>(
  ctx: SlackContext,
  spec: {
    name: CommandName;
    parse: (text: string) => Parsed<T>;
    /** A refusal sentence when the caller's role may not use the command at all. */
    allow?: (actor: StoredUser) => string | undefined;
    run: (args: CommandRun<T>) => Promise<void>;
  },
) {
  return async ({ command, ack, respond, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    const parsed = spec.parse(command.text);
    if (!parsed.ok) {
      await ack({ response_type: 'ephemeral', text: parsed.error });
      return;
    }
    await ack();
    try {
      const actor = await tenureUserOf(client, ctx.models, command.user_id);
      const refuse = async (reason: string, target?: StoredUser) => {
        await auditRefusal(ctx, { slackUserId: command.user_id, actor: actor.ok ? actor.user : undefined, action: spec.name, target, reason });
        await ephemeral(respond, `:no_entry: ${reason}`);
      };
      if (!actor.ok) return refuse(actor.reason);
      const refusal = spec.allow?.(actor.user);
      if (refusal) return refuse(refusal);
      await spec.run({ value: parsed.value, actor: actor.user, command, respond, client, refuse });
    } catch (err) {
      await respondWithError(ctx, respond, err, spec.name);
    }
  };
}

/** The role matrix's check, as the API's route guards make it (only Administrators hold these permissions today). */
export const permitted = (permission: Permission, what: string) => (actor: StoredUser) => (can(actor.siteRole, permission) ? undefined : `Only administrators may ${what}.`);

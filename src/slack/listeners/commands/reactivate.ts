import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { reactivateUser } from '../../../services/users';
import { parseSingleEmail } from '../../commands';
import { auditRefusal, type SlackContext } from '../../context';
import { resolvePerson, tenureUserOf } from '../../identity';
import { ephemeral, respondWithError } from './respond';

/** `/reactivate email`: Administrators only; deactivated → active at once. */
export function reactivateCallback(ctx: SlackContext) {
  return async ({ command, ack, respond, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    const parsed = parseSingleEmail('reactivate', command.text);
    if (!parsed.ok) {
      await ack({ response_type: 'ephemeral', text: parsed.error });
      return;
    }
    await ack();
    try {
      const actor = await tenureUserOf(client, ctx.models, command.user_id);
      const refusal = !actor.ok ? actor.reason : actor.user.siteRole !== 'Administrators' ? 'Only administrators may reactivate users.' : undefined;
      if (refusal || !actor.ok) {
        await auditRefusal(ctx, { slackUserId: command.user_id, actor: actor.ok ? actor.user : undefined, action: 'reactivate', reason: refusal ?? '' });
        return ephemeral(respond, `:no_entry: ${refusal}`);
      }
      const target = await resolvePerson(client, ctx.models, { email: parsed.value.email });
      if (!target.ok) return ephemeral(respond, `:warning: ${target.reason}`);
      const user = await reactivateUser(ctx.models, target.user._id, { type: 'slack', id: actor.user._id, email: actor.user.email });
      await ephemeral(respond, `:white_check_mark: ${user.email} is active again.`);
    } catch (err) {
      await respondWithError(ctx, respond, err, 'reactivate');
    }
  };
}

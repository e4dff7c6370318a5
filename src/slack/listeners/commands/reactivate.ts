import { reactivateUser } from '../../../services/users';
import { parseSingleEmail } from '../../commands';
import type { SlackContext } from '../../context';
import { resolvePerson } from '../../identity';
import { administratorsOnly, slashCommand } from './command';
import { ephemeral } from './respond';

/** `/reactivate email`: Administrators only; deactivated → active at once. */
export function reactivateCallback(ctx: SlackContext) {
  return slashCommand(ctx, {
    name: 'reactivate',
    parse: (text) => parseSingleEmail('reactivate', text),
    allow: administratorsOnly('reactivate users'),
    async run({ value, actor, respond, client }) {
      const target = await resolvePerson(client, ctx.models, { email: value.email });
      if (!target.ok) return ephemeral(respond, `:warning: ${target.reason}`);
      const user = await reactivateUser(ctx.models, target.user._id, { type: 'slack', id: actor._id, email: actor.email });
      await ephemeral(respond, `:white_check_mark: ${user.email} is active again.`);
    },
  });
}

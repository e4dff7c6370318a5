import { reactivate, REACTIVATION_WAIT_MS } from '../../../services/user-admin';
import { parseSingleEmail } from '../../commands';
import type { SlackContext } from '../../context';
import { resolvePerson } from '../../identity';
import { permitted, slashCommand } from './command';
import { ephemeral } from './respond';

/**
 * `/reactivate email`: Administrators only; deactivated → active through the reactivation
 * process, the same path as the API, so a running offboarding of the user hears of it.
 */
export function reactivateCallback(ctx: SlackContext) {
  return slashCommand(ctx, {
    name: 'reactivate',
    parse: (text) => parseSingleEmail('reactivate', text),
    allow: permitted('users:reactivate', 'reactivate users'),
    async run({ value, actor, respond, client }) {
      const target = await resolvePerson(client, ctx.models, { email: value.email });
      if (!target.ok) return ephemeral(respond, `:warning: ${target.reason}`);
      const deps = { models: ctx.models, temporal: ctx.temporal, taskQueue: ctx.config.TEMPORAL_TASK_QUEUE };
      const outcome = await reactivate(deps, target.user._id, { type: 'slack', id: actor._id, email: actor.email }, { waitMs: REACTIVATION_WAIT_MS });
      await ephemeral(
        respond,
        outcome.finished
          ? `:white_check_mark: ${outcome.user.email} is active again.`
          : `:hourglass_flowing_sand: The reactivation of ${outcome.user.email} has started (\`${outcome.processId}\`); it will be active shortly.`,
      );
    },
  });
}

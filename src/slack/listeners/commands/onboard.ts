import { UnprocessableError } from '../../../errors';
import { inviteUser } from '../../../services/invite-user';
import { OUTSIDE_DOMAIN_FLAG, parseOnboard } from '../../commands';
import type { SlackContext } from '../../context';
import { postProgressMessage } from '../../progress';
import { permitted, slashCommand } from './command';
import { ephemeral } from './respond';

/** `/onboard email [role] [group…] [--outside-domain]`: Administrators only. Groups are named. */
export function onboardCallback(ctx: SlackContext) {
  return slashCommand(ctx, {
    name: 'onboard',
    parse: parseOnboard,
    allow: permitted('users:create', 'invite users'),
    async run({ value, actor, command, respond, client }) {
      const groups = await ctx.models.Group.find({ name: { $in: value.groups } }, { name: 1 }).lean();
      const unknown = value.groups.filter((g) => !groups.some((found) => found.name === g));
      if (unknown.length) return ephemeral(respond, `:warning: Unknown group${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}.`);
      let started;
      try {
        ({ process: started } = await inviteUser(
          { models: ctx.models, temporal: ctx.temporal, taskQueue: ctx.config.TEMPORAL_TASK_QUEUE, logger: ctx.logger },
          { email: value.email, siteRole: value.siteRole, groups: groups.map((g) => String(g._id)), confirmDomainMismatch: value.confirmDomainMismatch },
          { type: 'slack', id: actor._id, email: actor.email },
          { requestedBy: { type: 'user', id: String(actor._id), email: actor.email }, source: 'slack' },
        ));
      } catch (err) {
        if (err instanceof UnprocessableError && err.code === 'domain_mismatch') {
          return ephemeral(respond, `:warning: ${value.email} is outside the organization's email domain. Add \`${OUTSIDE_DOMAIN_FLAG}\` to invite them anyway.`);
        }
        throw err;
      }
      await ephemeral(
        respond,
        started.started
          ? `:email: Invitation to ${value.email} is on its way${value.siteRole ? ` (role ${value.siteRole})` : ''}.`
          : `:information_source: ${value.email} already has an onboarding running; you joined it.`,
      );
      await postProgressMessage(ctx, client, { channel: command.channel_id, workflowId: started.workflowId, title: `Onboarding of ${value.email}`, requesterSlackId: command.user_id });
    },
  });
}

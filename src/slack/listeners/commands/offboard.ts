import { isOffboardingRefusal, offboardingAuthority } from '../../../domain/authority';
import { requestOffboarding } from '../../../services/offboarding-requests';
import { displayName } from '../../../services/user-view';
import { parseOffboard } from '../../commands';
import { actingInSlack, type SlackContext } from '../../context';
import { resolvePerson } from '../../identity';
import { postProgressMessage } from '../../progress';
import { slashCommand } from './command';
import { ephemeral } from './respond';

/** `/offboard @user|email [on YYYY-MM-DD] [reason]`: Administrators or the leaver's manager. */
export function offboardCallback(ctx: SlackContext) {
  return slashCommand(ctx, {
    name: 'offboard',
    parse: (text) => parseOffboard(text, new Date()),
    async run({ value, actor, command, respond, client, refuse }) {
      const target = await resolvePerson(client, ctx.models, value.person);
      if (!target.ok) return ephemeral(respond, `:warning: ${target.reason}`);
      const leaver = target.user;
      const authority = offboardingAuthority({
        actor: { id: String(actor._id), siteRole: actor.siteRole },
        leaver: { id: String(leaver._id), managerId: leaver.managerId ? String(leaver.managerId) : null },
        permission: 'processes:start',
      });
      if (authority === 'own_offboarding') return refuse('You cannot start your own offboarding; ask your manager or an administrator.', leaver);
      if (isOffboardingRefusal(authority)) return refuse(`Only administrators or ${displayName(leaver)}'s manager may start their offboarding.`, leaver);
      if (leaver.status === 'deactivated') return refuse(`${leaver.email} is already deactivated.`, leaver);
      // The same request (and audit entry) as the API's start, with this Slack user as actor.
      const started = await requestOffboarding({ models: ctx.models, temporal: ctx.temporal, taskQueue: ctx.config.TEMPORAL_TASK_QUEUE }, leaver, actingInSlack(actor, command.user_id), {
        reason: value.reason,
        effectiveDate: value.effectiveDate,
      });
      await ephemeral(
        respond,
        started.started
          ? `:white_check_mark: Offboarding of ${displayName(leaver)} (${leaver.email}) started${value.effectiveDate ? `, effective ${value.effectiveDate}` : ''}. I will keep a progress message up to date.`
          : `:information_source: An offboarding of ${leaver.email} is already running; you joined it.`,
      );
      await postProgressMessage(ctx, client, { channel: command.channel_id, workflowId: started.workflowId, title: `Offboarding of ${displayName(leaver)}`, requesterSlackId: command.user_id });
    },
  });
}

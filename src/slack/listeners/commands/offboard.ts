import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { startOffboarding } from '../../../services/offboarding-process';
import { displayName } from '../../../services/user-view';
import { parseOffboard } from '../../commands';
import { auditRefusal, type SlackContext } from '../../context';
import { resolvePerson, tenureUserOf } from '../../identity';
import { postProgressMessage } from '../../progress';
import { ephemeral, respondWithError } from './respond';

/** `/offboard @user|email [on YYYY-MM-DD] [reason]`: Administrators or the leaver's manager. */
export function offboardCallback(ctx: SlackContext) {
  return async ({ command, ack, respond, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    const parsed = parseOffboard(command.text, new Date());
    if (!parsed.ok) {
      await ack({ response_type: 'ephemeral', text: parsed.error });
      return;
    }
    await ack();
    try {
      const actor = await tenureUserOf(client, ctx.models, command.user_id);
      if (!actor.ok) {
        await auditRefusal(ctx, { slackUserId: command.user_id, action: 'offboard', reason: actor.reason });
        return ephemeral(respond, `:no_entry: ${actor.reason}`);
      }
      const target = await resolvePerson(client, ctx.models, parsed.value.person);
      if (!target.ok) return ephemeral(respond, `:warning: ${target.reason}`);
      const leaver = target.user;
      const isAdmin = actor.user.siteRole === 'Administrators';
      const isManager = !!leaver.managerId && leaver.managerId.equals(actor.user._id);
      let refusal: string | undefined;
      if (leaver._id.equals(actor.user._id)) refusal = 'You cannot start your own offboarding; ask your manager or an administrator.';
      else if (!isAdmin && !isManager) refusal = `Only administrators or ${displayName(leaver)}'s manager may start their offboarding.`;
      else if (leaver.status === 'deactivated') refusal = `${leaver.email} is already deactivated.`;
      if (refusal) {
        await auditRefusal(ctx, { slackUserId: command.user_id, actor: actor.user, action: 'offboard', target: leaver, reason: refusal });
        return ephemeral(respond, `:no_entry: ${refusal}`);
      }
      const started = await startOffboarding(ctx.temporal, ctx.config.TEMPORAL_TASK_QUEUE, {
        userId: String(leaver._id),
        reason: parsed.value.reason,
        requestedBy: { type: 'user', id: String(actor.user._id), email: actor.user.email },
        source: 'slack',
        effectiveDate: parsed.value.effectiveDate,
      });
      await ephemeral(
        respond,
        started.started
          ? `:white_check_mark: Offboarding of ${displayName(leaver)} (${leaver.email}) started${parsed.value.effectiveDate ? `, effective ${parsed.value.effectiveDate}` : ''}. I will keep a progress message up to date.`
          : `:information_source: An offboarding of ${leaver.email} is already running; you joined it.`,
      );
      await postProgressMessage(ctx, client, { channel: command.channel_id, workflowId: started.workflowId, title: `Offboarding of ${displayName(leaver)}`, requesterSlackId: command.user_id });
    } catch (err) {
      await respondWithError(ctx, respond, err, 'offboard');
    }
  };
}

import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { inviteUser } from '../../../services/invite-user';
import { UnprocessableError } from '../../../errors';
import { OUTSIDE_DOMAIN_FLAG, parseOnboard } from '../../commands';
import { auditRefusal, type SlackContext } from '../../context';
import { tenureUserOf } from '../../identity';
import { postProgressMessage } from '../../progress';
import { ephemeral, respondWithError } from './respond';

/** `/onboard email [role] [group…]`: Administrators only. Groups are named. */
export function onboardCallback(ctx: SlackContext) {
  return async ({ command, ack, respond, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    const parsed = parseOnboard(command.text);
    if (!parsed.ok) {
      await ack({ response_type: 'ephemeral', text: parsed.error });
      return;
    }
    await ack();
    try {
      const actor = await tenureUserOf(client, ctx.models, command.user_id);
      const refusal = !actor.ok ? actor.reason : actor.user.siteRole !== 'Administrators' ? 'Only administrators may invite users.' : undefined;
      if (refusal) {
        await auditRefusal(ctx, { slackUserId: command.user_id, actor: actor.ok ? actor.user : undefined, action: 'onboard', reason: refusal });
        return ephemeral(respond, `:no_entry: ${refusal}`);
      }
      if (!actor.ok) return;
      const groups = await ctx.models.Group.find({ name: { $in: parsed.value.groups } }, { name: 1 }).lean();
      const unknown = parsed.value.groups.filter((g) => !groups.some((found) => found.name === g));
      if (unknown.length) return ephemeral(respond, `:warning: Unknown group${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}.`);
      const actorRef = { type: 'slack' as const, id: actor.user._id, email: actor.user.email };
      let started;
      try {
        ({ process: started } = await inviteUser(
          { models: ctx.models, temporal: ctx.temporal, taskQueue: ctx.config.TEMPORAL_TASK_QUEUE, logger: ctx.logger },
          { email: parsed.value.email, siteRole: parsed.value.siteRole, groups: groups.map((g) => String(g._id)), confirmDomainMismatch: parsed.value.confirmDomainMismatch },
          actorRef,
          { requestedBy: { type: 'user', id: String(actor.user._id), email: actor.user.email }, source: 'slack' },
        ));
      } catch (err) {
        if (err instanceof UnprocessableError && err.code === 'domain_mismatch') {
          return ephemeral(respond, `:warning: ${parsed.value.email} is outside the organization's email domain. Add \`${OUTSIDE_DOMAIN_FLAG}\` to invite them anyway.`);
        }
        throw err;
      }
      await ephemeral(
        respond,
        started.started
          ? `:email: Invitation to ${parsed.value.email} is on its way${parsed.value.siteRole ? ` (role ${parsed.value.siteRole})` : ''}.`
          : `:information_source: ${parsed.value.email} already has an onboarding running; you joined it.`,
      );
      await postProgressMessage(ctx, client, { channel: command.channel_id, workflowId: started.workflowId, title: `Onboarding of ${parsed.value.email}`, requesterSlackId: command.user_id });
    } catch (err) {
      await respondWithError(ctx, respond, err, 'onboard');
    }
  };
}

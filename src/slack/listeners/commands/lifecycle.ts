import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { can } from '../../../domain/roles';
import { onboardingWorkflowId } from '../../../services/onboarding-process';
import { offboardingWorkflowId } from '../../../services/offboarding-process';
import { displayName } from '../../../services/user-view';
import { parseSingleEmail } from '../../commands';
import { auditRefusal, type SlackContext } from '../../context';
import { resolvePerson, tenureUserOf } from '../../identity';
import { renderProgress, type ProgressView } from '../../progress';
import { ephemeral, respondWithError } from './respond';

/** `/lifecycle email`: the account's state and its processes. Readers of the role matrix, or the manager. */
export function lifecycleCallback(ctx: SlackContext) {
  return async ({ command, ack, respond, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    const parsed = parseSingleEmail('lifecycle', command.text);
    if (!parsed.ok) {
      await ack({ response_type: 'ephemeral', text: parsed.error });
      return;
    }
    await ack();
    try {
      const actor = await tenureUserOf(client, ctx.models, command.user_id);
      if (!actor.ok) {
        await auditRefusal(ctx, { slackUserId: command.user_id, action: 'lifecycle', reason: actor.reason });
        return ephemeral(respond, `:no_entry: ${actor.reason}`);
      }
      const target = await resolvePerson(client, ctx.models, { email: parsed.value.email });
      if (!target.ok) return ephemeral(respond, `:warning: ${target.reason}`);
      const user = target.user;
      const readable =
        (user.status === 'deactivated' ? can(actor.user.siteRole, 'users:read-deactivated') : can(actor.user.siteRole, user.status === 'active' ? 'users:read-active' : 'users:read-pending')) ||
        (!!user.managerId && user.managerId.equals(actor.user._id));
      if (!readable) {
        const reason = `Your role (${actor.user.siteRole}) may not see ${user.email}.`;
        await auditRefusal(ctx, { slackUserId: command.user_id, actor: actor.user, action: 'lifecycle', target: user, reason });
        return ephemeral(respond, `:no_entry: ${reason}`);
      }
      const lines = [`*${displayName(user)}* (${user.email}) is *${user.status}*, role ${user.siteRole}.`];
      for (const [label, workflowId] of [
        ['Onboarding', onboardingWorkflowId(user.email)],
        ['Offboarding', offboardingWorkflowId(String(user._id))],
        ['Reactivation', `reactivation:${String(user._id)}`],
      ] as const) {
        const summary = await describeProcess(ctx, workflowId);
        if (summary) lines.push(`• ${label}: ${summary}`);
      }
      if (lines.length === 1) lines.push('No process has run for this account.');
      await ephemeral(respond, lines.join('\n'));
    } catch (err) {
      await respondWithError(ctx, respond, err, 'lifecycle');
    }
  };
}

async function describeProcess(ctx: SlackContext, workflowId: string): Promise<string | undefined> {
  const handle = ctx.temporal.workflow.getHandle(workflowId);
  let description;
  try {
    description = await handle.describe();
  } catch {
    return undefined;
  }
  const status = description.status.name;
  if (status !== 'RUNNING') return `${status.toLowerCase()} (${workflowId})`;
  const progress = await handle.query<ProgressView>('progress').catch(() => undefined);
  return renderProgress('', workflowId, progress).text.replace(/^: /, '') + ` (${workflowId})`;
}

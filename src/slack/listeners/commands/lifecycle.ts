import { can } from '../../../domain/roles';
import { offboardingSummary, offboardingWorkflowId } from '../../../processes/offboarding';
import { onboardingSummary, onboardingWorkflowId } from '../../../processes/onboarding';
import { reactivationSummary, reactivationWorkflowId } from '../../../processes/reactivation';
import { displayName } from '../../../services/user-view';
import { parseSingleEmail } from '../../commands';
import type { SlackContext } from '../../context';
import { resolvePerson } from '../../identity';
import { renderProgress, type ProgressView } from '../../progress';
import { slashCommand } from './command';
import { ephemeral } from './respond';

/** `/lifecycle email`: the account's state and its processes. Readers of the role matrix, or the manager. */
export function lifecycleCallback(ctx: SlackContext) {
  return slashCommand(ctx, {
    name: 'lifecycle',
    parse: (text) => parseSingleEmail('lifecycle', text),
    async run({ value, actor, respond, client, refuse }) {
      const target = await resolvePerson(client, ctx.models, { email: value.email });
      if (!target.ok) return ephemeral(respond, `:warning: ${target.reason}`);
      const user = target.user;
      const readable =
        (user.status === 'deactivated' ? can(actor.siteRole, 'users:read-deactivated') : can(actor.siteRole, user.status === 'active' ? 'users:read-active' : 'users:read-pending')) ||
        (!!user.managerId && user.managerId.equals(actor._id));
      if (!readable) return refuse(`Your role (${actor.siteRole}) may not see ${user.email}.`, user);
      const lines = [`*${displayName(user)}* (${user.email}) is *${user.status}*, role ${user.siteRole}.`];
      const userId = String(user._id);
      for (const [label, workflowId, summary] of [
        ['Onboarding', onboardingWorkflowId(user.email), await onboardingSummary(ctx.temporal, user.email)],
        ['Offboarding', offboardingWorkflowId(userId), await offboardingSummary(ctx.temporal, userId)],
        ['Reactivation', reactivationWorkflowId(userId), await reactivationSummary(ctx.temporal, userId)],
      ] as const) {
        if (summary) lines.push(`• ${label}: ${describeProcess(workflowId, summary)}`);
      }
      if (lines.length === 1) lines.push('No process has run for this account.');
      await ephemeral(respond, lines.join('\n'));
    },
  });
}

function describeProcess(workflowId: string, summary: { status: string; progress?: unknown }): string {
  if (summary.status !== 'RUNNING') return `${summary.status.toLowerCase()} (${workflowId})`;
  return renderProgress('', workflowId, summary.progress as ProgressView | undefined).text.replace(/^: /, '') + ` (${workflowId})`;
}

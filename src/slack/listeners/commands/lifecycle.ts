import { can } from '../../../domain/roles';
import { onboardingWorkflowId } from '../../../services/onboarding-process';
import { offboardingWorkflowId, reactivationWorkflowId } from '../../../services/offboarding-process';
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
      for (const [label, workflowId] of [
        ['Onboarding', onboardingWorkflowId(user.email)],
        ['Offboarding', offboardingWorkflowId(String(user._id))],
        ['Reactivation', reactivationWorkflowId(String(user._id))],
      ] as const) {
        const summary = await describeProcess(ctx, workflowId);
        if (summary) lines.push(`• ${label}: ${summary}`);
      }
      if (lines.length === 1) lines.push('No process has run for this account.');
      await ephemeral(respond, lines.join('\n'));
    },
  });
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

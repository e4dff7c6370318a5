/** Block Kit for approval requests: the plan, then Approve / Reject / Change owner. */
import type { OffboardingProgress, SystemPlan } from '../../../workflows/offboarding-messages';

export const ACTIONS = {
  approve: 'offboarding_approve',
  reject: 'offboarding_reject',
  changeOwner: 'offboarding_change_owner',
} as const;
export const CHANGE_OWNER_VIEW = 'offboarding_change_owner_view';

/** What a button carries: which process and which plan the approver saw. */
export interface ApprovalRef {
  workflowId: string;
  planVersion: string;
}

export function approvalBlocks(input: { leaver: string; leaverEmail: string; progress: OffboardingProgress; ownerLabel: (id: string | null) => string; effectiveDate?: string }) {
  const plan = input.progress.plan!;
  const ref: ApprovalRef = { workflowId: input.progress.workflowId, planVersion: plan.version };
  const value = JSON.stringify(ref);
  const resources = plan.resources.slice(0, 20).map((r) => `• ${r.kind} *${escape(r.name)}* → ${input.ownerLabel(plan.assignments[r.id] ?? r.newOwnerId)}`);
  if (plan.resourcesTotal > resources.length) resources.push(`…and ${plan.resourcesTotal - resources.length} more`);
  const revoke = [`${plan.sessions.active} active session${plan.sessions.active === 1 ? '' : 's'}`, `${plan.tokens.length} API token${plan.tokens.length === 1 ? '' : 's'}`, `${plan.groups.length} group${plan.groups.length === 1 ? '' : 's'}`];
  const text = `Approve the offboarding of ${input.leaver} (${input.leaverEmail})?`;
  // The plan's newOwner follows a change of owner; per-resource assignments may still differ.
  const proposed = [...new Set(plan.resources.map((r) => plan.assignments[r.id] ?? r.newOwnerId))];
  const newOwner = plan.resources.length
    ? proposed.length === 1 ? input.ownerLabel(proposed[0] ?? null) : 'several, see below'
    : plan.newOwner || plan.resourcesTotal > 0
      ? input.ownerLabel(plan.newOwner?.id ?? null)
      : 'none needed (nothing owned)';
  return {
    text,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: `Offboarding approval: ${input.leaver}`.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: `*${escape(input.leaver)}* (${input.leaverEmail}) is leaving${input.effectiveDate ? `, effective *${input.effectiveDate}*` : ''}.\nNew owner: *${newOwner}*` } },
      { type: 'section', text: { type: 'mrkdwn', text: resources.length ? `*Owned resources (${plan.resourcesTotal})*\n${resources.join('\n')}` : '*Owned resources*: none' } },
      { type: 'section', text: { type: 'mrkdwn', text: `*Will be revoked*: ${revoke.join(', ')}` } },
      ...(plan.systems ?? []).map((sys) => ({ type: 'section', text: { type: 'mrkdwn', text: systemPlanText(sys).slice(0, 2900) } })),
      ...(input.progress.escalatedAt
        ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `:rotating_light: Escalated to the Administrators: nobody answered in time (escalated ${input.progress.escalatedAt}).` }] }]
        : []),
      ...(plan.notes.length ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: plan.notes.map(escape).join(' · ').slice(0, 2900) }] }] : []),
      {
        type: 'actions',
        block_id: 'approval',
        elements: [
          { type: 'button', action_id: ACTIONS.approve, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value },
          { type: 'button', action_id: ACTIONS.reject, style: 'danger', text: { type: 'plain_text', text: 'Reject' }, value },
          { type: 'button', action_id: ACTIONS.changeOwner, text: { type: 'plain_text', text: 'Change owner' }, value },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Process \`${ref.workflowId}\` · plan ${ref.planVersion}` }] },
    ],
  };
}

/** What the plan will do in one connected system. */
function systemPlanText(sys: SystemPlan): string {
  if (sys.error) return `*${escape(sys.label)}*: could not be read (${escape(sys.error)})`;
  if (!sys.account) return `*${escape(sys.label)}*: no account, nothing to do`;
  return `*${escape(sys.label)}* (account ${escape(sys.account)})\n${sys.actions.slice(0, 20).map((a) => `• ${escape(a.summary)}`).join('\n')}${sys.actions.length > 20 ? `\n…and ${sys.actions.length - 20} more` : ''}`;
}

/** The message after a decision: who decided and when; the buttons are gone. */
export function decidedBlocks(input: { leaver: string; outcome: string; by?: string; at?: string; workflowId: string }) {
  const when = input.at ? `<!date^${Math.floor(Date.parse(input.at) / 1000)}^{date_short_pretty} {time}|${input.at}>` : '';
  const text = `Offboarding of ${input.leaver}: ${input.outcome}${input.by ? ` by ${input.by}` : ''}${input.at ? ` at ${input.at}` : ''}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*Offboarding of ${escape(input.leaver)}*: ${input.outcome}${input.by ? ` by ${input.by}` : ''}${when ? ` ${when}` : ''}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Process \`${input.workflowId}\`` }] },
    ],
  };
}

export function changeOwnerModal(ref: ApprovalRef, leaver: string) {
  return {
    type: 'modal' as const,
    callback_id: CHANGE_OWNER_VIEW,
    private_metadata: JSON.stringify(ref),
    title: { type: 'plain_text' as const, text: 'Change new owner' },
    submit: { type: 'plain_text' as const, text: 'Change owner' },
    close: { type: 'plain_text' as const, text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `Who should own what ${escape(leaver)} owns?` } },
      { type: 'input', block_id: 'owner', label: { type: 'plain_text', text: 'New owner' }, element: { type: 'users_select', action_id: 'user', placeholder: { type: 'plain_text', text: 'Choose a person' } } },
    ],
  };
}

export function parseRef(value: string | undefined): ApprovalRef | undefined {
  try {
    const ref = JSON.parse(value ?? '') as ApprovalRef;
    return typeof ref.workflowId === 'string' && typeof ref.planVersion === 'string' && ref.workflowId.startsWith('offboarding:') ? ref : undefined;
  } catch {
    return undefined;
  }
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

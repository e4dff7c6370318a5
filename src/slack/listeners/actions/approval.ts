import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { approveUpdate, rejectUpdate, type ActionResult } from '../../../../workflows/offboarding-messages';
import { displayName } from '../../../services/user-view';
import { ACTIONS, changeOwnerModal, parseRef, type ApprovalRef } from '../../blocks/approval';
import { auditRefusal, type SlackContext } from '../../context';
import { tenureUserOf } from '../../identity';
import { finishApprovalMessage } from '../../sync';

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/**
 * Approve / Reject clicks become the workflow's updates. The workflow's validator decides who may
 * approve, so a click from the leaver or a stranger is refused there and the clicker is told why.
 */
function decisionCallback(ctx: SlackContext, decision: 'approve' | 'reject') {
  return async ({ ack, body, action, client, respond }: ButtonArgs) => {
    await ack();
    const ref = parseRef(action.value);
    if (!ref) return;
    const clicker = await tenureUserOf(client, ctx.models, body.user.id);
    if (!clicker.ok) {
      await auditRefusal(ctx, { slackUserId: body.user.id, action: decision, reason: clicker.reason });
      await respond({ response_type: 'ephemeral', replace_original: false, text: `:no_entry: ${clicker.reason}` });
      return;
    }
    const caller = { userId: String(clicker.user._id), role: clicker.user.siteRole, email: clicker.user.email };
    const handle = ctx.temporal.workflow.getHandle(ref.workflowId);
    let result: ActionResult;
    try {
      result =
        decision === 'approve'
          ? await handle.executeUpdate(approveUpdate, { args: [{ caller, planVersion: ref.planVersion }] })
          : await handle.executeUpdate(rejectUpdate, { args: [{ caller, reason: `Rejected in Slack by ${clicker.user.email}` }] });
    } catch (err) {
      const reason = refusalReason(err);
      await auditRefusal(ctx, { slackUserId: body.user.id, actor: clicker.user, action: decision, reason });
      await respond({ response_type: 'ephemeral', replace_original: false, text: `:no_entry: ${reason}` });
      return;
    }
    const message = await ctx.models.SlackMessage.findOne({ key: approvalKey(ref, body.user.id) }).lean();
    if (message) {
      await finishApprovalMessage(ctx, client, message, { outcome: decision === 'approve' ? 'approved' : 'rejected', by: displayName(clicker.user), at: new Date().toISOString() });
    }
    ctx.logger.info({ workflowId: ref.workflowId, decision, by: clicker.user.email, status: result.status }, 'approval decided in Slack');
  };
}

export function approveCallback(ctx: SlackContext) {
  return decisionCallback(ctx, 'approve');
}

export function rejectCallback(ctx: SlackContext) {
  return decisionCallback(ctx, 'reject');
}

/** Opens the Change owner modal; the workflow validates the choice when it is submitted. */
export function changeOwnerCallback(ctx: SlackContext) {
  return async ({ ack, body, action, client }: ButtonArgs) => {
    await ack();
    const ref = parseRef(action.value);
    if (!ref) return;
    const message = await ctx.models.SlackMessage.findOne({ key: approvalKey(ref, body.user.id) }).lean();
    await client.views.open({ trigger_id: body.trigger_id, view: changeOwnerModal(ref, message?.title ?? 'the leaver') });
  };
}

export function approvalKey(ref: ApprovalRef, slackUserId: string): string {
  return `approval:${ref.workflowId}:${ref.planVersion}:${slackUserId}`;
}

export function refusalReason(err: unknown): string {
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause as { message?: string } | undefined;
    return cause?.message ?? err.message;
  }
  const e = err as { name?: string; message?: string };
  if (e?.name === 'WorkflowNotFoundError') return 'This process has already finished.';
  return e?.message ?? 'The process refused this action.';
}

export { ACTIONS };

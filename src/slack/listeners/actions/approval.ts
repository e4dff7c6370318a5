import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { Types } from 'mongoose';
import type { ActionResult } from '../../../../workflows/offboarding-messages';
import { AppError } from '../../../errors';
import { offboardingWorkflowId } from '../../../processes/offboarding';
import { actOnOffboardingAs } from '../../../services/offboarding-requests';
import type { StoredUser } from '../../../services/users';
import { displayName } from '../../../services/user-view';
import { changeOwnerModal, parseRef, type ApprovalRef } from '../../blocks/approval';
import { actingInSlack, auditRefusal, type SlackContext } from '../../context';
import { tenureUserOf } from '../../identity';
import { finishApprovalMessage } from '../../sync';

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/** The leaver of the offboarding a button or modal names, from its process id. */
export async function leaverOf(ctx: SlackContext, ref: ApprovalRef): Promise<StoredUser | null> {
  const userId = ref.workflowId.slice('offboarding:'.length);
  return Types.ObjectId.isValid(userId) && offboardingWorkflowId(userId) === ref.workflowId ? ctx.models.User.findById(userId).lean<StoredUser>() : null;
}

/**
 * Approve / Reject clicks go through the same request as the API's approve / reject: the workflow's
 * validator decides who may (a click from the leaver or a stranger is refused there and the
 * clicker is told why), and the decision or the refusal is audited with the clicker as actor.
 */
function decisionCallback(ctx: SlackContext, decision: 'approve' | 'reject') {
  return async ({ ack, body, action, client, respond }: ButtonArgs) => {
    await ack();
    const ref = parseRef(action.value);
    if (!ref) return;
    const answer = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
    const clicker = await tenureUserOf(client, ctx.models, body.user.id);
    if (!clicker.ok) {
      await auditRefusal(ctx, { slackUserId: body.user.id, action: decision, reason: clicker.reason });
      await answer(`:no_entry: ${clicker.reason}`);
      return;
    }
    const leaver = await leaverOf(ctx, ref);
    if (!leaver) {
      await answer(':no_entry: This offboarding is no longer known; its account is gone.');
      return;
    }
    let result: ActionResult;
    try {
      result = await actOnOffboardingAs(
        ctx,
        leaver,
        actingInSlack(clicker.user, body.user.id),
        decision === 'approve' ? { action: 'approve', planVersion: ref.planVersion } : { action: 'reject', reason: `Rejected in Slack by ${clicker.user.email}` },
      );
    } catch (err) {
      if (!(err instanceof AppError)) ctx.logger.error({ err, workflowId: ref.workflowId, decision }, 'slack approval failed');
      await answer(err instanceof AppError && err.status < 500 ? `:no_entry: ${err.message}` : ':x: Something went wrong on our side; the error has been logged. Try again in a minute.');
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

function approvalKey(ref: ApprovalRef, slackUserId: string): string {
  return `approval:${ref.workflowId}:${ref.planVersion}:${slackUserId}`;
}


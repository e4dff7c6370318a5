import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { changeOwnerUpdate } from '../../../../workflows/offboarding-messages';
import { parseRef } from '../../blocks/approval';
import { auditRefusal, type SlackContext } from '../../context';
import { resolvePerson, tenureUserOf } from '../../identity';
import { refusalReason } from '../actions/approval';

/**
 * The Change owner modal's submission becomes the workflow's `changeOwner` update. Refusals come
 * back as an error on the field, so the approver can pick someone else without losing the modal.
 */
export function changeOwnerSubmitCallback(ctx: SlackContext) {
  return async ({ ack, body, view, client }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs) => {
    const ref = parseRef(view.private_metadata);
    const selected = view.state.values.owner?.user?.selected_user;
    if (!ref || !selected) {
      await ack({ response_action: 'errors', errors: { owner: 'Choose the new owner.' } });
      return;
    }
    const clicker = await tenureUserOf(client, ctx.models, body.user.id);
    if (!clicker.ok) {
      await ack({ response_action: 'errors', errors: { owner: clicker.reason } });
      return;
    }
    const owner = await resolvePerson(client, ctx.models, { slackUserId: selected });
    if (!owner.ok) {
      await ack({ response_action: 'errors', errors: { owner: owner.reason } });
      return;
    }
    try {
      await ctx.temporal.workflow.getHandle(ref.workflowId).executeUpdate(changeOwnerUpdate, {
        args: [{ caller: { userId: String(clicker.user._id), role: clicker.user.siteRole, email: clicker.user.email }, newOwnerId: String(owner.user._id) }],
      });
    } catch (err) {
      const reason = refusalReason(err);
      await auditRefusal(ctx, { slackUserId: body.user.id, actor: clicker.user, action: 'change-owner', reason });
      await ack({ response_action: 'errors', errors: { owner: reason.slice(0, 150) } });
      return;
    }
    // The new plan gets a fresh approval message from the sync; this one is superseded.
    await ack();
  };
}

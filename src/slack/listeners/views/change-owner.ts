import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { AppError } from '../../../errors';
import { actOnOffboardingAs } from '../../../services/offboarding-requests';
import { parseRef } from '../../blocks/approval';
import { actingInSlack, type SlackContext } from '../../context';
import { resolvePerson, tenureUserOf } from '../../identity';
import { leaverOf } from '../actions/approval';

/**
 * The Change owner modal's submission goes through the same request as the API's change-owner:
 * the workflow's `changeOwner` update decides, and the change or its refusal is audited with the
 * submitter as actor. Refusals come back as an error on the field, so the approver can pick
 * someone else without losing the modal.
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
    const [owner, leaver] = await Promise.all([resolvePerson(client, ctx.models, { slackUserId: selected }), leaverOf(ctx, ref)]);
    if (!owner.ok) {
      await ack({ response_action: 'errors', errors: { owner: owner.reason } });
      return;
    }
    if (!leaver) {
      await ack({ response_action: 'errors', errors: { owner: 'This offboarding is no longer known; its account is gone.' } });
      return;
    }
    try {
      await actOnOffboardingAs(ctx, leaver, actingInSlack(clicker.user, body.user.id), { action: 'change-owner', newOwnerId: String(owner.user._id) });
    } catch (err) {
      if (!(err instanceof AppError)) ctx.logger.error({ err, workflowId: ref.workflowId }, 'slack change of owner failed');
      const reason = err instanceof AppError && err.status < 500 ? err.message : 'Something went wrong on our side; the error has been logged. Try again in a minute.';
      await ack({ response_action: 'errors', errors: { owner: reason.slice(0, 150) } });
      return;
    }
    // The new plan gets a fresh approval message from the sync; this one is superseded.
    await ack();
  };
}

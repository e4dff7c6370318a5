import type { App } from '@slack/bolt';
import { ACTIONS, CHANGE_OWNER_VIEW } from '../blocks/approval';
import type { SlackContext } from '../context';
import { approveCallback, changeOwnerCallback, rejectCallback } from './actions/approval';
import { appHomeOpenedCallback } from './events/app-home';
import { changeOwnerSubmitCallback } from './views/change-owner';

/** Buttons, modals and events. */
export function register(app: App, ctx: SlackContext): void {
  app.action(ACTIONS.approve, approveCallback(ctx));
  app.action(ACTIONS.reject, rejectCallback(ctx));
  app.action(ACTIONS.changeOwner, changeOwnerCallback(ctx));
  app.view(CHANGE_OWNER_VIEW, changeOwnerSubmitCallback(ctx));
  app.event('app_home_opened', appHomeOpenedCallback(ctx));
}

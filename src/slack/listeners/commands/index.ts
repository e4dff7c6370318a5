import type { App } from '@slack/bolt';
import type { SlackContext } from '../../context';
import { lifecycleCallback } from './lifecycle';
import { offboardCallback } from './offboard';
import { onboardCallback } from './onboard';
import { reactivateCallback } from './reactivate';

export function register(app: App, ctx: SlackContext): void {
  app.command('/offboard', offboardCallback(ctx));
  app.command('/onboard', onboardCallback(ctx));
  app.command('/reactivate', reactivateCallback(ctx));
  app.command('/lifecycle', lifecycleCallback(ctx));
}

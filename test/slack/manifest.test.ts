import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SLACK_EVENTS_PATH } from '../../src/slack/bot';
import { USAGE } from '../../src/slack/commands';

const manifest = parse(readFileSync(new URL('../../slack-manifest.yml', import.meta.url), 'utf8'));

describe('slack-manifest.yml', () => {
  it('declares every command the bot answers, at the path it listens on', () => {
    const commands = manifest.features.slash_commands as Array<{ command: string; url: string }>;
    expect(commands.map((c) => c.command).sort()).toEqual(Object.keys(USAGE).map((c) => `/${c}`).sort());
    for (const c of commands) expect(new URL(c.url).pathname).toBe(SLACK_EVENTS_PATH);
    expect(new URL(manifest.settings.interactivity.request_url).pathname).toBe(SLACK_EVENTS_PATH);
    expect(new URL(manifest.settings.event_subscriptions.request_url).pathname).toBe(SLACK_EVENTS_PATH);
  });

  it('asks for the scopes the bot uses', () => {
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['commands', 'chat:write', 'im:write', 'users:read', 'users:read.email']));
    expect(manifest.settings.event_subscriptions.bot_events).toContain('app_home_opened');
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { webApi } from '@slack/bolt';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SLACK_EVENTS_PATH } from '../../src/slack/bot';
import { USAGE } from '../../src/slack/commands';

const manifest = parse(readFileSync(new URL('../../slack-manifest.yml', import.meta.url), 'utf8'));

/**
 * The bot-token scope each Web API method needs, from Slack's method reference
 * (api.slack.com/methods/<method>, "Required scopes"). `views.open` and `views.publish` need none.
 * `conversations.open` accepts one of several scopes by conversation type; the bot opens direct
 * messages only, which need `im:write`.
 */
const SCOPES_BY_METHOD: Record<string, string[]> = {
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'chat.delete': ['chat:write'],
  'conversations.open': ['im:write'],
  'users.info': ['users:read'],
  'users.lookupByEmail': ['users:read.email'],
  'views.open': [],
  'views.update': [],
  'views.publish': [],
};

const sourceDir = fileURLToPath(new URL('../../src', import.meta.url));

/** Every TypeScript file under a folder. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** A method the Slack Web API client has (so `client.workflow.start` of Temporal is not one). */
const slackClient = new webApi.WebClient() as unknown as Record<string, Record<string, unknown> | undefined>;
const isWebApiMethod = (family: string, name: string) => typeof slackClient[family]?.[name] === 'function';

/** The Web API methods the code calls through a Bolt or Web API client (`client.chat.postMessage(…)`). */
function webApiMethodsCalled(): Map<string, string[]> {
  const calls = new Map<string, string[]>();
  for (const file of sourceFiles(sourceDir)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bclient\s*\.\s*([a-z]+)\s*\.\s*([a-zA-Z]+)\s*\(/g)) {
      if (!isWebApiMethod(m[1]!, m[2]!)) continue;
      const method = `${m[1]}.${m[2]}`;
      calls.set(method, [...(calls.get(method) ?? []), file]);
    }
  }
  return calls;
}

describe('slack-manifest.yml', () => {
  it('declares every command the bot answers, at the path it listens on', () => {
    const commands = manifest.features.slash_commands as Array<{ command: string; url: string }>;
    expect(commands.map((c) => c.command).sort()).toEqual(Object.keys(USAGE).map((c) => `/${c}`).sort());
    for (const c of commands) expect(new URL(c.url).pathname).toBe(SLACK_EVENTS_PATH);
    expect(new URL(manifest.settings.interactivity.request_url).pathname).toBe(SLACK_EVENTS_PATH);
    expect(new URL(manifest.settings.event_subscriptions.request_url).pathname).toBe(SLACK_EVENTS_PATH);
  });

  it('asks for exactly the scopes the code\'s Web API calls and slash commands need', () => {
    const methods = webApiMethodsCalled();
    expect([...methods.keys()]).toContain('chat.postMessage');
    const needed = new Set<string>();
    for (const [method, files] of methods) {
      expect(SCOPES_BY_METHOD, `${method} (called in ${files.join(', ')}) has its scopes in the table`).toHaveProperty([method]);
      for (const scope of SCOPES_BY_METHOD[method]!) needed.add(scope);
    }
    // Slash commands need the `commands` scope.
    if ((manifest.features.slash_commands ?? []).length > 0) needed.add('commands');
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...needed].sort());
  });

  it('calls the Web API only through named methods, which the scope scan sees', () => {
    for (const file of sourceFiles(sourceDir)) {
      expect(readFileSync(file, 'utf8'), `${file} calls apiCall; call the method by name so the scan and the table cover it`).not.toMatch(/\bapiCall\s*\(/);
    }
  });

  it('subscribes to the App Home event and enables the Home tab it publishes', () => {
    expect(manifest.settings.event_subscriptions.bot_events).toContain('app_home_opened');
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
  });
});

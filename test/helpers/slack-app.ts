import type { Client } from '@temporalio/client';
import type { App } from '../../src/http/app';
import type { TestContext } from './context';
import { createTestApp } from './http';
import { signSlackRequest, startSlackApiRecorder, type SlackApiRecorder } from './slack-api';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';

export interface SlackHarness {
  app: App;
  url: string;
  recorder: SlackApiRecorder;
  /** Sends a signed slash command; returns the HTTP status and the ack body. */
  command(command: string, text: string, userId: string, channelId?: string): Promise<{ status: number; body: any }>;
  /** Sends a signed interaction payload (button click, view submission). */
  interaction(payload: Record<string, unknown>): Promise<{ status: number; body: any }>;
  /** Sends a signed Events API event. */
  event(event: Record<string, unknown>): Promise<{ status: number; body: any }>;
  post(body: string, headers: Record<string, string>, contentType?: string): Promise<{ status: number; body: any }>;
  /** Ephemeral answers sent through response_url since the last call. */
  responses(): string[];
  close(): Promise<void>;
}

/** The real API with the real Bolt app in HTTP mode, listening on loopback; Slack's Web API is a recorder. */
export async function startSlackHarness(ctx: TestContext, temporal: Client): Promise<SlackHarness> {
  const recorder = await startSlackApiRecorder();
  const app = await createTestApp(ctx, temporal, { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: recorder.apiUrl });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/slack/events`;
  let seen = 0;

  const post = async (body: string, headers: Record<string, string>, contentType = 'application/x-www-form-urlencoded') => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* plain text */
    }
    return { status: res.status, body: parsed };
  };
  const signedForm = (fields: Record<string, string>) => {
    const body = new URLSearchParams(fields).toString();
    return post(body, signSlackRequest(SIGNING_SECRET, body));
  };

  return {
    app,
    url,
    recorder,
    post,
    command: (command, text, userId, channelId = 'C0PROCESS') =>
      signedForm({ token: 'legacy', team_id: 'T1', api_app_id: 'A1', command, text, user_id: userId, user_name: userId, channel_id: channelId, response_url: recorder.responseUrl, trigger_id: `trigger-${Date.now()}` }),
    interaction: (payload) => signedForm({ payload: JSON.stringify({ team: { id: 'T1' }, api_app_id: 'A1', token: 'legacy', ...payload }) }),
    event: (event) => {
      const body = JSON.stringify({ token: 'legacy', team_id: 'T1', api_app_id: 'A1', type: 'event_callback', event_id: `Ev${Date.now()}`, event_time: Math.floor(Date.now() / 1000), event });
      return post(body, signSlackRequest(SIGNING_SECRET, body), 'application/json');
    },
    responses: () => {
      const fresh = recorder.callsTo('response_url').slice(seen);
      seen += fresh.length;
      return fresh.map((c) => String(c.args.text ?? ''));
    },
    async close() {
      await app.close();
      await recorder.close();
    },
  };
}

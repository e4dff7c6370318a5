import type { Client } from '@temporalio/client';
import type { App } from '../../src/http/app';
import type { SiteRole } from '../../src/domain/roles';
import { eventually, type TestContext } from './context';
import { createTestApp } from './http';
import { signSlackRequest, startSlackApiRecorder, type RecordedCall, type SlackApiRecorder } from './slack-api';
import { seedUser, type SeededUser } from './users';

export type SlackPerson = SeededUser & { slackId: string };

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
  /** Waits for the next ephemeral answer(s) and returns the first. */
  nextResponse(): Promise<string>;
  /** A tenure user `<name>@example.com` known to Slack as `U<NAME>`, kept in `people`. */
  person(name: string, siteRole: SiteRole, extra?: Parameters<typeof seedUser>[1]): Promise<SlackPerson>;
  people: Record<string, SlackPerson>;
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
  const people: Record<string, SlackPerson> = {};

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
  const responses = () => {
    const fresh = recorder.callsTo('response_url').slice(seen);
    seen += fresh.length;
    return fresh.map((c) => String(c.args.text ?? ''));
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
    responses,
    async nextResponse() {
      const [first] = await eventually('an ephemeral answer', async () => {
        const fresh = responses();
        return fresh.length ? fresh : undefined;
      });
      return first!;
    },
    people,
    async person(name, siteRole, extra = {}) {
      const seeded = await seedUser(ctx.models, { email: `${name}@example.com`, siteRole, firstName: name, ...extra });
      const slackId = `U${name.toUpperCase()}`;
      recorder.addUser({ id: slackId, email: seeded.user.email });
      people[name] = { ...seeded, slackId };
      return people[name]!;
    },
    async close() {
      await app.close();
      await recorder.close();
    },
  };
}

/** `who` clicks the button `actionId` of an approval request the recorder saw posted. */
export function clickApprovalButton(slack: SlackHarness, who: string, actionId: string, message: RecordedCall) {
  const button = (message.args.blocks as any[]).find((b) => b.type === 'actions').elements.find((e: any) => e.action_id === actionId);
  return slack.interaction({
    type: 'block_actions',
    user: { id: slack.people[who]!.slackId, username: who, team_id: 'T1' },
    trigger_id: `trigger-${who}-${Date.now()}`,
    response_url: slack.recorder.responseUrl,
    container: { type: 'message', message_ts: '1', channel_id: message.args.channel },
    channel: { id: message.args.channel },
    actions: [{ type: 'button', action_id: actionId, block_id: 'approval', value: button.value, action_ts: String(Date.now() / 1000) }],
  });
}

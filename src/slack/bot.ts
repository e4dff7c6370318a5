/**
 * The Slack bot (Bolt). HTTP mode (signing secret verified by Bolt's receiver, mounted on the
 * API at /slack/events) in production; Socket Mode when SLACK_APP_TOKEN is set, for local use.
 */
import type { RequestListener } from 'node:http';
import { App, HTTPReceiver, LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../logger';
import { ChannelThrottle } from './throttle';
import type { SlackContext, SlackDeps } from './context';
import { register as registerCommands } from './listeners/commands';
import { register as registerInteractive } from './listeners/interactive';

export const SLACK_EVENTS_PATH = '/slack/events';

export interface SlackBot {
  app: App;
  context: SlackContext;
  /** Present in HTTP mode: the handler the API mounts at /slack/events. */
  requestListener?: RequestListener;
  start(): Promise<void>;
  stop(): Promise<void>;
}

type ListenerRegistrar = (app: App, ctx: SlackContext) => void;

const registrars: ListenerRegistrar[] = [registerCommands, registerInteractive];

export function createSlackBot(deps: SlackDeps): SlackBot {
  const { config } = deps;
  if (!config.SLACK_BOT_TOKEN) throw new Error('createSlackBot needs SLACK_BOT_TOKEN');
  const logger = boltLogger(deps.logger.child({ component: 'slack' }));
  const socketMode = !!config.SLACK_APP_TOKEN;
  const receiver = socketMode
    ? undefined
    : new HTTPReceiver({ signingSecret: config.SLACK_SIGNING_SECRET!, endpoints: [SLACK_EVENTS_PATH], logger, processBeforeResponse: false });
  const app = new App({
    token: config.SLACK_BOT_TOKEN,
    ...(socketMode ? { socketMode: true, appToken: config.SLACK_APP_TOKEN } : { receiver }),
    logger,
    clientOptions: {
      slackApiUrl: config.SLACK_API_URL,
      // HTTP 429 is retried after Retry-After by the WebClient; these bound other retries.
      retryConfig: { retries: 4, factor: 2, minTimeout: 500, maxTimeout: 10_000 },
    },
  });
  const context: SlackContext = { ...deps, throttle: new ChannelThrottle(1_000) };
  for (const registrar of registrars) registrar(app, context);
  app.error(async (error) => {
    deps.logger.error({ err: error }, 'slack listener error');
  });
  return {
    app,
    context,
    requestListener: receiver?.requestListener,
    async start() {
      if (socketMode) await app.start();
    },
    async stop() {
      if (socketMode) await app.stop();
    },
  };
}

function boltLogger(log: Logger): BoltLogger {
  let level = LogLevel.INFO;
  return {
    debug: (...msg: unknown[]) => log.debug(msg.map(String).join(' ')),
    info: (...msg: unknown[]) => log.info(msg.map(String).join(' ')),
    warn: (...msg: unknown[]) => log.warn(msg.map(String).join(' ')),
    error: (...msg: unknown[]) => log.error(msg.map(String).join(' ')),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

/**
 * Stands in for Slack's Web API, which cannot be reached from a test machine: a local HTTP
 * server that records every call and answers like Slack does. Everything else stays real.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createHmac } from 'node:crypto';
import { freePort } from '../../src/devstack/ports';

export interface RecordedCall {
  method: string;
  /** Form or JSON arguments, with JSON-encoded fields (blocks, view) decoded. */
  args: Record<string, any>;
  at: number;
}

interface SlackDirectoryEntry {
  id: string;
  email: string;
  name?: string;
}

export interface SlackApiRecorder {
  /** Base URL for the WebClient's slackApiUrl (ends with /api/). */
  apiUrl: string;
  /** A response_url for slash commands; its posts are recorded as method "response_url". */
  responseUrl: string;
  calls: RecordedCall[];
  callsTo(method: string): RecordedCall[];
  addUser(entry: SlackDirectoryEntry): void;
  /** Answer the next `count` calls of `method` with HTTP 429 and Retry-After. */
  rateLimitNext(method: string, count: number, retryAfterSeconds?: number): void;
  close(): Promise<void>;
}

export async function startSlackApiRecorder(): Promise<SlackApiRecorder> {
  const calls: RecordedCall[] = [];
  const users = new Map<string, SlackDirectoryEntry>();
  const limits = new Map<string, { count: number; retryAfter: number }>();
  let ts = 1_700_000_000;

  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = (req.url ?? '').split('?')[0]!;
    const args = parseArgs(req, body);
    if (path.startsWith('/response/')) {
      calls.push({ method: 'response_url', args, at: Date.now() });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const method = path.replace(/^\/api\//, '');
    const limit = limits.get(method);
    calls.push({ method, args, at: Date.now() });
    if (limit && limit.count > 0) {
      limit.count -= 1;
      res.writeHead(429, { 'retry-after': String(limit.retryAfter), 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      return;
    }
    const answer = (payload: Record<string, unknown>) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, ...payload }));
    const fail = (error: string) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error }));
    switch (method) {
      case 'auth.test':
        return answer({ user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1', user: 'tenure' });
      case 'users.info': {
        const user = users.get(String(args.user));
        return user ? answer({ user: { id: user.id, name: user.name ?? user.email, profile: { email: user.email } } }) : fail('user_not_found');
      }
      case 'users.lookupByEmail': {
        const user = [...users.values()].find((u) => u.email.toLowerCase() === String(args.email).toLowerCase());
        return user ? answer({ user: { id: user.id, name: user.name ?? user.email, profile: { email: user.email } } }) : fail('users_not_found');
      }
      case 'conversations.open':
        return answer({ channel: { id: `D${String(args.users).split(',')[0]}` } });
      case 'chat.postMessage':
        ts += 1;
        return answer({ channel: args.channel, ts: `${ts}.000100`, message: { text: args.text } });
      case 'chat.update':
        return answer({ channel: args.channel, ts: args.ts });
      default:
        return answer({});
    }
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${port}`;
  return {
    apiUrl: `${base}/api/`,
    responseUrl: `${base}/response/hook`,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    addUser: (entry) => users.set(entry.id, entry),
    rateLimitNext: (method, count, retryAfterSeconds = 1) => limits.set(method, { count, retryAfter: retryAfterSeconds }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function parseArgs(req: IncomingMessage, body: string): Record<string, any> {
  let args: Record<string, any> = {};
  if ((req.headers['content-type'] ?? '').includes('application/json')) {
    args = body ? JSON.parse(body) : {};
  } else {
    args = Object.fromEntries(new URLSearchParams(body));
  }
  for (const key of ['blocks', 'view', 'attachments']) {
    if (typeof args[key] === 'string') {
      try {
        args[key] = JSON.parse(args[key]);
      } catch {
        /* leave as is */
      }
    }
  }
  return args;
}

/** Signs a request the way Slack does: v0 HMAC-SHA256 over `v0:<timestamp>:<raw body>`. */
export function signSlackRequest(signingSecret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signature = `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}

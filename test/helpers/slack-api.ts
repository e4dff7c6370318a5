/**
 * Stands in for Slack's Web API, which cannot be reached from a test machine: a local HTTP
 * server that records every call and answers like Slack does. Everything else stays real.
 *
 * For the Slack connector it also keeps a small workspace in memory, changed by the calls that
 * change it: people (active or deactivated, with a number of signed-in sessions), user groups and
 * their members, the admin methods on sessions, and SCIM 2.0's Users resource under /scim/v2/
 * (DELETE deactivates, PATCH active:true reactivates). `failNext` makes a method answer an error.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
  /** Deactivated (users.info answers deleted: true). */
  deleted?: boolean;
  /** Signed-in sessions (admin.users.session.list lists them; reset and deactivation end them). */
  sessions?: number;
}

interface SlackUserGroup {
  id: string;
  handle: string;
  users: string[];
}

/** What `failNext` answers: a Slack error (HTTP 200, ok: false) or an HTTP status. */
type FailureAnswer = { error: string } | { status: number };

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
  /** The person as the workspace holds them now (undefined: unknown). */
  user(id: string): SlackDirectoryEntry | undefined;
  addUserGroup(group: SlackUserGroup): void;
  userGroup(id: string): SlackUserGroup | undefined;
  /** auth.test names this Enterprise Grid organization (null: a workspace on its own, the default). */
  setEnterprise(enterpriseId: string | null): void;
  /**
   * Answer the next `count` calls of `method` with `answer` instead of doing them. SCIM calls are
   * named `scim.<HTTP method>`, e.g. `scim.DELETE`.
   */
  failNext(method: string, answer: FailureAnswer, count?: number): void;
  close(): Promise<void>;
}

export async function startSlackApiRecorder(): Promise<SlackApiRecorder> {
  const calls: RecordedCall[] = [];
  const users = new Map<string, SlackDirectoryEntry>();
  const limits = new Map<string, { count: number; retryAfter: number }>();
  const failures = new Map<string, { answer: FailureAnswer; count: number }>();
  const groups = new Map<string, SlackUserGroup>();
  let enterpriseId: string | null = null;
  let ts = 1_700_000_000;
  const userJson = (u: SlackDirectoryEntry) => ({
    id: u.id,
    team_id: 'T1',
    name: u.name ?? u.email,
    deleted: !!u.deleted,
    profile: { email: u.email },
    ...(enterpriseId ? { enterprise_user: { id: u.id, enterprise_id: enterpriseId, teams: ['T1'] } } : {}),
  });

  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = (req.url ?? '').split('?')[0]!;
    const args = parseArgs(req, body);
    if (path.startsWith('/response/')) {
      calls.push({ method: 'response_url', args, at: Date.now() });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const scim = /^\/scim\/v2\/Users\/([^/]+)$/.exec(path);
    const method = scim ? `scim.${req.method}` : path.replace(/^\/api\//, '');
    if (scim) Object.assign(args, { id: decodeURIComponent(scim[1]!) });
    const limit = limits.get(method);
    calls.push({ method, args, at: Date.now() });
    if (limit && limit.count > 0) {
      limit.count -= 1;
      res.writeHead(429, { 'retry-after': String(limit.retryAfter), 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      return;
    }
    const failure = failures.get(method);
    if (failure && failure.count > 0) {
      failure.count -= 1;
      if ('status' in failure.answer) res.writeHead(failure.answer.status, { 'content-type': 'text/plain' }).end('failure');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error: failure.answer.error }));
      return;
    }
    if (scim) return answerScim(req.method ?? 'GET', users.get(String(args.id)), args, res);
    const answer = (payload: Record<string, unknown>) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, ...payload }));
    const fail = (error: string) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error }));
    switch (method) {
      case 'auth.test':
        return answer({ user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1', user: 'tenure', ...(enterpriseId ? { enterprise_id: enterpriseId, is_enterprise_install: true } : {}) });
      case 'users.info': {
        const user = users.get(String(args.user));
        return user ? answer({ user: userJson(user) }) : fail('user_not_found');
      }
      case 'users.lookupByEmail': {
        const user = [...users.values()].find((u) => u.email.toLowerCase() === String(args.email).toLowerCase());
        return user ? answer({ user: userJson(user) }) : fail('users_not_found');
      }
      case 'admin.users.session.list': {
        if (!enterpriseId) return fail('feature_not_enabled');
        // Slack takes user_id only together with team_id.
        if (args.user_id && !args.team_id) return fail('invalid_arguments');
        const user = args.team_id === 'T1' ? users.get(String(args.user_id)) : undefined;
        const count = user && !user.deleted ? (user.sessions ?? 0) : 0;
        const active = Array.from({ length: count }, (_, i) => ({ user_id: user!.id, team_id: 'T1', session_id: 1000 + i, created: { device_hardware: 'Laptop', os: 'Linux', ip: `192.0.2.${i + 1}` } }));
        return answer({ active_sessions: active, response_metadata: { next_cursor: '' } });
      }
      case 'admin.users.session.reset': {
        if (!enterpriseId) return fail('feature_not_enabled');
        const user = users.get(String(args.user_id));
        if (!user) return fail('user_not_found');
        user.sessions = 0;
        return answer({});
      }
      case 'usergroups.list': {
        const withUsers = String(args.include_users) === 'true' || String(args.include_users) === '1';
        return answer({ usergroups: [...groups.values()].map((g) => ({ id: g.id, handle: g.handle, name: g.handle, ...(withUsers ? { users: [...g.users] } : {}) })) });
      }
      case 'usergroups.users.list': {
        const group = groups.get(String(args.usergroup));
        return group ? answer({ users: [...group.users] }) : fail('no_such_subteam');
      }
      case 'usergroups.users.update': {
        const group = groups.get(String(args.usergroup));
        if (!group) return fail('no_such_subteam');
        const ids = String(args.users ?? '').split(',').map((id) => id.trim()).filter(Boolean);
        if (ids.length === 0) return fail('no_users_provided');
        if (ids.some((id) => !users.get(id) || users.get(id)!.deleted)) return fail('invalid_users');
        group.users = [...new Set(ids)];
        return answer({ usergroup: { id: group.id, handle: group.handle, users: [...group.users] } });
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
    addUser: (entry) => users.set(entry.id, { ...entry }),
    rateLimitNext: (method, count, retryAfterSeconds = 1) => limits.set(method, { count, retryAfter: retryAfterSeconds }),
    user: (id) => users.get(id),
    addUserGroup: (group) => groups.set(group.id, { ...group, users: [...group.users] }),
    userGroup: (id) => groups.get(id),
    setEnterprise: (id) => {
      enterpriseId = id;
    },
    failNext: (method, answer, count = 1) => failures.set(method, { answer, count }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** SCIM 2.0 Users/{id}: GET reads, DELETE deactivates (ending every session), PATCH sets `active`. */
function answerScim(verb: string, user: SlackDirectoryEntry | undefined, args: Record<string, any>, res: ServerResponse): ServerResponse {
  const json = (status: number, body?: unknown) => res.writeHead(status, { 'content-type': 'application/scim+json' }).end(body === undefined ? '' : JSON.stringify(body));
  if (!user) return json(404, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], detail: 'User not found', status: '404' });
  const resource = () => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: user.id, userName: user.name ?? user.email, active: !user.deleted, emails: [{ value: user.email, primary: true }] });
  if (verb === 'GET') return json(200, resource());
  if (verb === 'DELETE') {
    user.deleted = true;
    user.sessions = 0;
    return json(204);
  }
  if (verb === 'PATCH') {
    const ops: Array<{ op?: string; path?: string; value?: unknown }> = Array.isArray(args.Operations) ? args.Operations : [];
    for (const op of ops) {
      if (String(op.op).toLowerCase() === 'replace' && op.path === 'active' && typeof op.value === 'boolean') user.deleted = !op.value;
      else return json(400, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], detail: 'Unsupported operation', status: '400' });
    }
    return json(200, resource());
  }
  return json(405, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], detail: 'Method not allowed', status: '405' });
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
  if (/application\/(scim\+)?json/.test(req.headers['content-type'] ?? '')) {
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

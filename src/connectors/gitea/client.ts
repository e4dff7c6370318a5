/**
 * Gitea's REST API (v1) as the connector uses it: plain fetch with the admin token, a timeout on
 * every call, pagination, and the contract's error mapping (unreachable, timeout or 5xx →
 * SystemUnavailableError; 401, or 403 for the token's own rights → ConnectorRefusedError).
 * A 4xx a caller expects comes back as a status to decide on; any other is a GiteaApiError.
 */
import { ConnectorRefusedError, SystemUnavailableError } from '../contract';

const SYSTEM = 'gitea';
/** Gitea's default MAX_RESPONSE_ITEMS. */
const PAGE_SIZE = 50;

export interface GiteaUser {
  id: number;
  login: string;
  login_name?: string;
  source_id?: number;
  email?: string;
  is_admin?: boolean;
  prohibit_login?: boolean;
}

interface GiteaEmail {
  email: string;
  verified: boolean;
  primary: boolean;
  user_id: number;
  username: string;
}

export interface GiteaRepository {
  id: number;
  name: string;
  full_name: string;
  owner: { id: number; login: string };
  repo_transfer?: { recipient?: { login: string } | null } | null;
}

export interface GiteaOrganization {
  id: number;
  name: string;
}

export interface GiteaTeam {
  id: number;
  name: string;
  permission: string;
}

/** Gitea answered a 4xx the caller did not expect (its message is kept). */
export class GiteaApiError extends Error {
  override readonly name = 'GiteaApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface GiteaClientOptions {
  url: string;
  token: string;
  timeoutMs: number;
}

type Query = Record<string, string | number | undefined>;

export class GiteaClient {
  private readonly base: string;

  constructor(private readonly options: GiteaClientOptions) {
    this.base = `${options.url.replace(/\/+$/, '')}/api/v1`;
  }

  /**
   * One call. `allow` lists the statuses besides 2xx the caller handles itself (e.g. 404 when
   * looking something up); their body comes back as `message`.
   */
  async call<T>(method: string, path: string, opts: { query?: Query; body?: unknown; allow?: number[] } = {}): Promise<{ status: number; body: T; message: string }> {
    const url = new URL(`${this.base}${path}`);
    for (const [key, value] of Object.entries(opts.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    let res: Response;
    let text: string;
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `token ${this.options.token}`,
          accept: 'application/json',
          ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        redirect: 'manual',
        signal,
      });
      text = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const why = signal.aborted ? `no answer within ${this.options.timeoutMs} ms` : (e.cause?.code ?? e.message);
      throw new SystemUnavailableError(SYSTEM, `Gitea at ${this.options.url} could not be reached (${why}).`);
    }
    const body = parse(text);
    const message = typeof (body as { message?: unknown })?.message === 'string' ? (body as { message: string }).message : text.slice(0, 200);
    const what = `${method} ${path}`;
    if (res.status >= 200 && res.status < 300) return { status: res.status, body: body as T, message };
    if (opts.allow?.includes(res.status)) return { status: res.status, body: body as T, message };
    if (res.status >= 500) throw new SystemUnavailableError(SYSTEM, `Gitea answered ${res.status} to ${what}: ${message}`);
    if (res.status === 401) throw new ConnectorRefusedError(SYSTEM, `Gitea refused the token (401 to ${what}): ${message}`);
    if (res.status === 403) throw new ConnectorRefusedError(SYSTEM, `Gitea refused ${what} (403): ${message}`);
    throw new GiteaApiError(res.status, `Gitea answered ${res.status} to ${what}: ${message}`);
  }

  async get<T>(path: string, query?: Query): Promise<T> {
    return (await this.call<T>('GET', path, { query })).body;
  }

  /** GET that answers undefined for 404. */
  async find<T>(path: string, query?: Query): Promise<T | undefined> {
    const res = await this.call<T>('GET', path, { query, allow: [404] });
    return res.status === 404 ? undefined : res.body;
  }

  /** Every page of a list endpoint. */
  async all<T>(path: string, query: Query = {}): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; ; page += 1) {
      const batch = await this.get<T[]>(path, { ...query, page, limit: PAGE_SIZE });
      if (!Array.isArray(batch)) throw new GiteaApiError(200, `Gitea answered GET ${path} with something other than a list`);
      out.push(...batch);
      if (batch.length < PAGE_SIZE) return out;
    }
  }

  /** The signed-in user of the token. */
  me(): Promise<GiteaUser> {
    return this.get<GiteaUser>('/user');
  }

  /**
   * The account that holds this email address (primary, or a verified secondary one); Gitea keeps
   * addresses unique across accounts. Needs a site administrator's token.
   */
  async userByEmail(email: string): Promise<GiteaUser | null> {
    const wanted = email.trim().toLowerCase();
    const matches = (await this.all<GiteaEmail>('/admin/emails/search', { q: wanted })).filter(
      (e) => e.email.toLowerCase() === wanted && (e.primary || e.verified),
    );
    for (const match of matches) {
      const user = await this.find<GiteaUser>(`/users/${encodeURIComponent(match.username)}`);
      if (user && user.id === match.user_id) return user;
    }
    return null;
  }

  user(name: string): Promise<GiteaUser | undefined> {
    return this.find<GiteaUser>(`/users/${encodeURIComponent(name)}`);
  }

  async isOrganization(name: string): Promise<boolean> {
    return (await this.find<GiteaOrganization>(`/orgs/${encodeURIComponent(name)}`)) !== undefined;
  }

  /** Repositories the user owns (private ones included for an administrator). */
  async ownedRepositories(user: GiteaUser): Promise<GiteaRepository[]> {
    const repos = await this.all<GiteaRepository>(`/users/${encodeURIComponent(user.login)}/repos`);
    return repos.filter((repo) => repo.owner.id === user.id);
  }

  repository(id: string): Promise<GiteaRepository | undefined> {
    return this.find<GiteaRepository>(`/repositories/${encodeURIComponent(id)}`);
  }

  organizationsOf(username: string): Promise<GiteaOrganization[]> {
    return this.all<GiteaOrganization>(`/admin/users/${encodeURIComponent(username)}/orgs`);
  }

  async isOrgMember(org: string, username: string): Promise<boolean> {
    const res = await this.call('GET', `/orgs/${encodeURIComponent(org)}/members/${encodeURIComponent(username)}`, { allow: [404] });
    return res.status === 204;
  }

  teams(org: string): Promise<GiteaTeam[]> {
    return this.all<GiteaTeam>(`/orgs/${encodeURIComponent(org)}/teams`);
  }

  teamMembers(teamId: number): Promise<GiteaUser[]> {
    return this.all<GiteaUser>(`/teams/${teamId}/members`);
  }

  async isTeamMember(teamId: number, username: string): Promise<boolean> {
    const res = await this.call('GET', `/teams/${teamId}/members/${encodeURIComponent(username)}`, { allow: [404] });
    return res.status === 200;
  }

  /** The teams of `org` that `username` is in. */
  async teamsOf(org: string, username: string): Promise<GiteaTeam[]> {
    const out: GiteaTeam[] = [];
    for (const team of await this.teams(org)) if (await this.isTeamMember(team.id, username)) out.push(team);
    return out;
  }
}

function parse(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

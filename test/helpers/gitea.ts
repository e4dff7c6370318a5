/**
 * A real Gitea for a test file: started in beforeAll with its own data dir (the build is cached,
 * a start takes about a second), seeded through the admin API, stopped and started again on the
 * same data, removed at the end.
 *
 *   const gitea = await startTestGitea();
 *   const alice = await gitea.createUser({ username: 'alice', email: 'alice@example.com' });
 *   await gitea.createRepo('alice', 'api');
 *   const token = await gitea.userToken(alice);   // the user's own token, to prove access
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitea, type RunningGitea } from '../../src/devstack/gitea';

export interface GiteaTestUser {
  id: number;
  username: string;
  email: string;
  password: string;
}

export interface TestGitea {
  readonly url: string;
  /** The site administrator's token (the connector's credentials). */
  readonly adminToken: string;
  createUser(user: { username: string; email: string }): Promise<GiteaTestUser>;
  /** A repository owned by a user (or an organization). */
  createRepo(owner: string, name: string, opts?: { private?: boolean }): Promise<{ id: number; fullName: string }>;
  /** An organization whose creator (a user) becomes its owner. */
  createOrg(owner: string, name: string): Promise<{ id: number; name: string }>;
  createTeam(org: string, name: string, permission?: 'read' | 'write' | 'admin'): Promise<{ id: number; name: string }>;
  addTeamMember(teamId: number, username: string): Promise<void>;
  /** A personal access token of the user, made with their password (as they would). */
  userToken(user: GiteaTestUser, scopes?: string[]): Promise<string>;
  /** Calls the API as `token` (the admin's by default); answers the status and parsed body. */
  api<T = unknown>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
  /** Stops the server, keeping its data (the connector then meets a server that is down). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  close(): Promise<void>;
}

export async function startTestGitea(): Promise<TestGitea> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-gitea-'));
  let running: RunningGitea | undefined = await startGitea({ dataDir });
  const { url, port, admin } = running;

  const api = async <T>(method: string, path: string, body?: unknown, token = admin.token): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: { authorization: `token ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const ok = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await api<T>(method, path, body);
    if (res.status >= 300) throw new Error(`Gitea answered ${res.status} to ${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };

  return {
    url,
    adminToken: admin.token,
    async createUser({ username, email }) {
      const password = `Pw-${username}-0123456789`;
      const user = await ok<{ id: number }>('POST', '/admin/users', { username, email, password, must_change_password: false });
      return { id: user.id, username, email, password };
    },
    async createRepo(owner, name, opts = {}) {
      const repo = await ok<{ id: number; full_name: string }>('POST', `/admin/users/${owner}/repos`, { name, private: opts.private ?? false, auto_init: false });
      return { id: repo.id, fullName: repo.full_name };
    },
    async createOrg(owner, name) {
      const org = await ok<{ id: number; name: string }>('POST', `/admin/users/${owner}/orgs`, { username: name });
      return { id: org.id, name: org.name };
    },
    async createTeam(org, name, permission = 'write') {
      const team = await ok<{ id: number; name: string }>('POST', `/orgs/${org}/teams`, { name, permission, units: ['repo.code', 'repo.issues', 'repo.pulls'] });
      return { id: team.id, name: team.name };
    },
    async addTeamMember(teamId, username) {
      await ok('PUT', `/teams/${teamId}/members/${username}`);
    },
    async userToken(user, scopes = ['read:user', 'read:repository']) {
      const res = await fetch(`${url}/api/v1/users/${user.username}/tokens`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `own-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, scopes }),
      });
      const body = (await res.json()) as { sha1?: string };
      if (res.status !== 201 || !body.sha1) throw new Error(`Gitea answered ${res.status} when ${user.username} asked for a token: ${JSON.stringify(body)}`);
      return body.sha1;
    },
    api,
    async stop() {
      await running?.stop();
      running = undefined;
    },
    async start() {
      running ??= await startGitea({ dataDir, port });
    },
    async close() {
      await running?.stop();
      running = undefined;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

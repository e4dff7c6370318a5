/**
 * `TENURE_LOCAL_CONNECTORS=gitea,keycloak npm start`, as someone trying tenure from outside runs
 * it: a local Keycloak and Gitea come up beside the rest, named in the summary and in stack.json,
 * each answering; the worker reaches both with the settings it was handed; a person who exists in
 * tenure, Keycloak and Gitea under one email gets an offboarding plan listing both systems; and a
 * SIGTERM stops everything, the two systems included.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/devstack/ports';
import { alive, cleanEnv, descendants, runCommand, runRefusedStart, startNpmStart } from '../helpers/npm-commands';
import type { StackFile } from '../../src/devstack/stack-file';

const dataDir = mkdtempSync(join(tmpdir(), 'tenure-local-connectors-'));

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, context: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs / 1000}s${context()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('npm start with local connected systems', () => {
  it('refuses a connected system it cannot run, with one sentence, and starts nothing', async () => {
    const { code, stderr } = await runRefusedStart(cleanEnv({ TENURE_LOCAL_CONNECTORS: 'gitea,jira', TENURE_DATA_DIR: join(dataDir, 'refused') }));
    expect(code).toBe(1);
    expect(stderr).toMatch(/TENURE_LOCAL_CONNECTORS names "jira", which npm start cannot run; it runs keycloak and gitea/);
    expect(stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('starts Keycloak and Gitea wired to the worker, an offboarding plan lists both, and SIGTERM stops them with the rest', async () => {
    const port = await freePort();
    const runDir = join(dataDir, 'run');
    const api = `http://127.0.0.1:${port}`;
    const run = startNpmStart(cleanEnv({ HTTP_PORT: String(port), TENURE_DATA_DIR: runDir, LOG_LEVEL: 'info', TENURE_LOCAL_CONNECTORS: 'gitea,keycloak' }));
    const { child, exited } = run;
    const tail = () => `:\n${run.stderr.slice(-3000)}\n${run.stdout.slice(-3000)}`;
    let ports: number[] = [];
    let pids: number[] = [];
    let failure: unknown;
    let stopped: number | null | 'still running' = null;
    try {
      await waitFor('start-up summary', () => (run.stdout.includes('tenure is running') ? true : child.exitCode !== null ? false : undefined), 300_000, tail);
      expect(run.stdout, tail()).toContain('tenure is running');

      const stack = JSON.parse(readFileSync(join(runDir, 'stack.json'), 'utf8')) as StackFile;
      const { keycloak, gitea } = stack.connectedSystems ?? {};
      expect(keycloak).toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), realm: 'tenure', admin: { username: expect.any(String), password: expect.any(String) } });
      expect(gitea).toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), admin: { username: 'tenure-admin', password: expect.any(String), token: expect.stringMatching(/^[0-9a-f]{40}$/) } });
      // The summary names both, with where their administrators sign in.
      expect(run.stdout).toContain(`Keycloak     ${keycloak!.url}`);
      expect(run.stdout).toContain(`admin console ${keycloak!.adminConsoleUrl}   user ${keycloak!.admin.username}, password ${keycloak!.admin.password}`);
      expect(run.stdout).toContain(`Gitea        ${gitea!.url}   site administrator tenure-admin, password ${gitea!.admin.password}`);
      // The data lives under the data directory.
      expect(readdirSync(join(runDir, 'keycloak'))).toContain('h2');
      expect(readdirSync(join(runDir, 'gitea'))).toContain('app.ini');

      // Each answers.
      const version = await fetch(`${gitea!.url}/api/v1/version`);
      expect(version.status).toBe(200);
      expect(await version.json()).toMatchObject({ version: expect.stringMatching(/^1\.26\./) });
      const oidc = await fetch(`${keycloak!.url}/realms/tenure/.well-known/openid-configuration`);
      expect(oidc.status).toBe(200);
      expect(await oidc.json()).toMatchObject({ issuer: `${keycloak!.url}/realms/tenure` });

      // The worker was handed both systems' settings and reached them.
      const reachable = (system: string) =>
        run.stdout.split('\n').some((line) => {
          try {
            const entry = JSON.parse(line) as { msg?: string; system?: string };
            return entry.msg === 'connected system reachable' && entry.system === system;
          } catch {
            return false;
          }
        });
      await waitFor('worker log of both systems reachable', () => (reachable('keycloak') && reachable('gitea') ? true : undefined), 60_000, tail);

      // A person in tenure, Keycloak and Gitea under one email: their offboarding plan lists both systems.
      const adminEmail = `admin-${Date.now()}@example.com`;
      const bootstrap = await runCommand(['run', 'bootstrap', '--', '--email', adminEmail], cleanEnv({ TENURE_DATA_DIR: runDir }));
      expect(bootstrap.code, bootstrap.stderr).toBe(0);
      const token = /API token[^\n]*\n(\S+)/.exec(bootstrap.stdout)?.[1] ?? '';
      const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const leaver = `ann-${Date.now()}@example.com`;
      expect((await fetch(`${api}/v1/users`, { method: 'POST', headers: auth, body: JSON.stringify({ email: leaver, firstName: 'Ann' }) })).status).toBe(201);
      const link = await waitFor('invitation link', () => new RegExp(`mail to ${leaver.replace(/[.]/g, '\\.')}: [^\\n]*\\n  (http\\S+/invitations/\\S+/accept)`).exec(run.stdout)?.[1], 30_000, tail);
      expect((await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'firstName=Ann&lastName=Leaver' })).status).toBe(200);

      const kcToken = await fetch(`${keycloak!.url}/realms/master/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: keycloak!.admin.username, password: keycloak!.admin.password }),
      });
      expect(kcToken.status).toBe(200);
      const kcAdmin = ((await kcToken.json()) as { access_token: string }).access_token;
      const kcUser = await fetch(`${keycloak!.url}/admin/realms/tenure/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${kcAdmin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'ann', email: leaver, emailVerified: true, enabled: true, firstName: 'Ann', lastName: 'Leaver' }),
      });
      expect(kcUser.status).toBe(201);
      const giteaAuth = { authorization: `token ${gitea!.admin.token}`, 'content-type': 'application/json' };
      const giteaUser = await fetch(`${gitea!.url}/api/v1/admin/users`, { method: 'POST', headers: giteaAuth, body: JSON.stringify({ username: 'ann', email: leaver, password: 'Ann-password-0123456789', must_change_password: false }) });
      expect(giteaUser.status).toBe(201);
      expect((await fetch(`${gitea!.url}/api/v1/admin/users/ann/repos`, { method: 'POST', headers: giteaAuth, body: JSON.stringify({ name: 'notes' }) })).status).toBe(201);

      expect((await fetch(`${api}/v1/users/${encodeURIComponent(leaver)}/offboarding`, { method: 'POST', headers: auth, body: JSON.stringify({ reason: 'leaving' }) })).status).toBe(202);
      type Planned = { system: string; account?: string; actions: Array<{ action: string }> };
      const systems = await waitFor(
        'offboarding plan with both systems',
        async () => {
          const progress = (await (await fetch(`${api}/v1/users/${encodeURIComponent(leaver)}/offboarding`, { headers: auth })).json()) as { plan?: { systems?: Planned[] } };
          const planned = progress.plan?.systems ?? [];
          return planned.length >= 2 ? planned : undefined;
        },
        60_000,
        tail,
      );
      const byName = Object.fromEntries(systems.map((s) => [s.system, s]));
      expect(byName.keycloak?.account).toBe('ann');
      expect(byName.keycloak?.actions.map((a) => a.action)).toEqual(expect.arrayContaining(['disable_account', 'end_sessions']));
      expect(byName.gitea?.account).toBe('ann');
      expect(byName.gitea?.actions.map((a) => a.action)).toEqual(expect.arrayContaining(['transfer', 'prohibit_login']));

      ports = [port, ...[keycloak!.url, gitea!.url, stack.env.MONGODB_URI!, stack.env.REDIS_URL!].map((u) => Number(new URL(u).port)), Number(stack.env.TEMPORAL_ADDRESS!.split(':')[1])];
      for (const p of ports) expect(await listening(p)).toBe(true);
    } catch (err) {
      // What went wrong first is the failure; the stop below must not hide it.
      failure = err;
    } finally {
      pids = descendants(child.pid!);
      child.kill('SIGTERM');
      stopped = await Promise.race([exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 60_000))]);
      if (stopped === 'still running') descendants(child.pid!).forEach((pid) => process.kill(pid, 'SIGKILL'));
    }
    if (failure) throw failure;
    expect(stopped, tail()).toBe(0);
    // Everything it started is gone, Keycloak's java and Gitea included, and every port is closed.
    await waitFor('every process to be gone', () => (pids.some(alive) ? undefined : true), 15_000, () => `: ${pids.filter(alive).join(' ')}`);
    for (const p of ports) expect(await listening(p)).toBe(false);
    expect(readdirSync(runDir)).not.toContain('stack.json');
  }, 480_000);
});

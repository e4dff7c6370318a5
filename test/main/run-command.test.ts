/**
 * `npm start` end to end: it starts its own servers, the API and the worker, answers on its
 * health endpoint, tells a first run how to create the first Administrator (`npm run bootstrap`,
 * which finds the servers through the data directory), leaves no process behind after a SIGINT to
 * npm, and finds its data again on the next start.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/devstack/ports';
import { alive, cleanEnv, descendants, runCommand, runRefusedStart, startNpmStart } from '../helpers/npm-commands';

const dataDir = mkdtempSync(join(tmpdir(), 'tenure-run-'));

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start', () => {
  it('refuses a bad configuration with one clear line and starts nothing', async () => {
    const { code, stderr } = await runRefusedStart(cleanEnv({ HTTP_PORT: 'eighty', TENURE_DATA_DIR: join(dataDir, 'refused') }));
    expect(code).toBe(1);
    expect(stderr).toMatch(/Invalid configuration:\n\s+- HTTP_PORT /);
    expect(stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it('a local command finds no servers without a running `npm start` and says so in one sentence', async () => {
    const run = await runCommand(['run', 'bootstrap', '--', '--email', 'nobody@example.com'], cleanEnv({ TENURE_DATA_DIR: join(dataDir, 'never-started') }));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/MONGODB_URI is not set and no `npm start` is running with its data in .*never-started: start tenure with `npm start`/);
    expect(run.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('starts everything, answers on /healthz, bootstraps the first Administrator by email alone, who signs in to the console from the emailed link; invitations open the invitation page; stops every child on SIGINT to npm, and keeps its data across restarts', async () => {
    const port = await freePort();
    const runDir = join(dataDir, 'run');
    const email = `kept-${Date.now()}@example.com`;
    let token = '';

    await runOnce(port, runDir, async (run) => {
      const { stdout } = run;
      expect(stdout).toContain(`API          http://127.0.0.1:${port}`);
      expect(stdout).toMatch(/Mail {9}caught: each message's link is printed here/);
      expect(stdout).toMatch(/Temporal UI  http:\/\/127\.0\.0\.1:\d+/);
      expect(stdout).toContain('No Administrator yet');
      expect(stdout).toContain('npm run bootstrap -- --email');
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', checks: { mongodb: { ok: true }, redis: { ok: true }, temporal: { ok: true } } });

      // Where the servers listen is in the data directory; no address is copied by hand.
      const stackFile = JSON.parse(readFileSync(join(runDir, 'stack.json'), 'utf8'));
      expect(stackFile).toMatchObject({ apiUrl: `http://127.0.0.1:${port}`, env: { MONGODB_URI: expect.stringMatching(/^mongodb:\/\/127\.0\.0\.1:\d+/), REDIS_URL: expect.any(String), TEMPORAL_ADDRESS: expect.any(String) } });

      const bootstrap = await runCommand(['run', 'bootstrap', '--', '--email', email], cleanEnv({ TENURE_DATA_DIR: runDir }));
      expect(bootstrap.stderr).not.toMatch(/tenure bootstrap:/);
      expect(bootstrap.code).toBe(0);
      expect(bootstrap.stdout).toContain(`Administrator ${email} created`);
      token = /API token[^\n]*\n(\S+)/.exec(bootstrap.stdout)?.[1] ?? '';
      expect(token).not.toBe('');
      const seen = await fetch(`http://127.0.0.1:${port}/v1/users/search?email=${encodeURIComponent(email)}`, { headers: { authorization: `Bearer ${token}` } });
      expect(seen.status).toBe(200);

      // Mail is caught locally: the invitation's link is printed where npm start runs, opens the
      // invitation page, and accepting there activates the account.
      const invitee = `invitee-${Date.now()}@example.com`;
      const invited = await fetch(`http://127.0.0.1:${port}/v1/users`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ email: invitee, firstName: 'Ada' }) });
      expect(invited.status).toBe(201);
      const link = await waitForOutput(run, new RegExp(`mail to ${invitee.replace(/[.]/g, '\\.')}: [^\\n]*\\n  (http\\S+/invitations/\\S+/accept)`));
      const page = await fetch(link);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain(invitee);
      const accepted = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'firstName=Ada&lastName=Lovelace' });
      expect(accepted.status).toBe(200);
      const user = await fetch(`http://127.0.0.1:${port}/v1/users/search?email=${encodeURIComponent(invitee)}`, { headers: { authorization: `Bearer ${token}` } });
      expect(await user.json()).toMatchObject({ email: invitee, status: 'active', lastName: 'Lovelace' });
      expect(readdirSync(join(runDir, 'mail')).some((f) => f.endsWith('.eml'))).toBe(true);

      // The console: sign in from the emailed link, nothing else typed.
      await signInToConsole(`http://127.0.0.1:${port}`, email, run);

      // A second start on the same data refuses at once instead of fighting over the files.
      const second = await runCommand(['start'], cleanEnv({ HTTP_PORT: String(await freePort()), TENURE_DATA_DIR: runDir }));
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/tenure is already running with its data in .*\(process \d+, API http:\/\/127\.0\.0\.1:\d+\)/);
    });
    expect(existsSync(join(runDir, 'stack.json'))).toBe(false);

    // The second run reads what the first wrote: the user store lives in a file under the data dir.
    await runOnce(port, runDir, async ({ stdout }) => {
      expect(stdout).not.toContain('No Administrator yet');
      const found = await fetch(`http://127.0.0.1:${port}/v1/users/search?email=${encodeURIComponent(email)}`, { headers: { authorization: `Bearer ${token}` } });
      expect(found.status).toBe(200);
      expect(await found.json()).toMatchObject({ email, siteRole: 'Administrators', status: 'active' });
    });
  }, 360_000);
});

/** Waits until the running command's output matches `pattern`; returns its first group. */
async function waitForOutput(run: { output(): string }, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(run.output());
    if (match) return match[1]!;
    if (Date.now() > deadline) throw new Error(`no output matching ${pattern} in:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Asks for a console sign-in link, follows the link printed for the caught mail, and reads the users table. */
async function signInToConsole(api: string, email: string, run: { output(): string }): Promise<void> {
  const cookieOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]!).join('; ');
  const csrfIn = (page: string) => /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  const form = await fetch(`${api}/console/sign-in`);
  const formCookie = cookieOf(form);
  const asked = await fetch(`${api}/console/sign-in`, {
    method: 'POST',
    headers: { cookie: formCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrfIn(await form.text()), email }).toString(),
  });
  expect(asked.status).toBe(200);
  const link = await waitForOutput(run, new RegExp(`mail to ${email.replace(/[.]/g, '\\.')}: [^\\n]*\\n  (http\\S+/console/sign-in/\\S+)`));
  const confirm = await fetch(link, { headers: { cookie: formCookie } });
  expect(confirm.status).toBe(200);
  const signedIn = await fetch(link, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: formCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrfIn(await confirm.text()) }).toString(),
  });
  expect(signedIn.status).toBe(303);
  const session = cookieOf(signedIn).split('; ').filter((c) => c.startsWith('tenure_console=') && c !== 'tenure_console=').join('; ');
  const users = await fetch(`${api}/console/users`, { headers: { cookie: session } });
  expect(users.status).toBe(200);
  expect(await users.text()).toContain(email);
}

/** One `npm start` in `runDir`: waits until it runs, calls `fn`, then SIGINT to npm and no process left. */
async function runOnce(port: number, runDir: string, fn: (run: { stdout: string; output(): string }) => Promise<void>): Promise<void> {
  const run = startNpmStart(cleanEnv({ HTTP_PORT: String(port), TENURE_DATA_DIR: runDir, LOG_LEVEL: 'warn' }));
  const { child, exited } = run;
  try {
    const deadline = Date.now() + 150_000;
    while (!run.stdout.includes('tenure is running')) {
      if (child.exitCode !== null) throw new Error(`npm start exited early:\n${run.stderr}`);
      if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${run.stderr}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await fn({ stdout: run.stdout, output: () => run.stdout });
  } finally {
    const pids = descendants(child.pid!);
    // api, worker, temporal, redis and the MongoDB-wire server at least
    expect(pids.length).toBeGreaterThanOrEqual(5);
    child.kill('SIGINT');
    const stopped = await Promise.race([exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 30_000))]);
    if (stopped === 'still running') descendants(child.pid!).forEach((pid) => process.kill(pid, 'SIGTERM'));
    expect(stopped).toBe(0);
    const deadlineGone = Date.now() + 10_000;
    while (pids.some(alive) && Date.now() < deadlineGone) await new Promise((r) => setTimeout(r, 100));
    expect(pids.filter(alive)).toEqual([]);
  }
}

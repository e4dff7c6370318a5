/** `npm run bootstrap`: the real command, spawned against this file's database. */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedUser } from '../helpers/users';
import { json, openHarness, type Harness } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await openHarness('usersboot');
});

// Each test starts without users or tokens and seeds what it needs, so it passes alone or in any order.
beforeEach(async () => {
  const { User, AccessToken } = h.ctx.models;
  await Promise.all([User.deleteMany({}), AccessToken.deleteMany({})]);
});

afterAll(async () => {
  await h?.close();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: process.cwd(),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        MONGODB_URI: h.ctx.stack.mongoUri,
        MONGODB_DB: h.ctx.dbName,
        REDIS_URL: h.ctx.stack.redisUrl,
        TEMPORAL_ADDRESS: h.ctx.stack.temporalAddress,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const bootstrap = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/main/bootstrap.ts', ...args]);
const tokenIn = (out: string) => /^(tnr_\S+)$/m.exec(out)?.[1];

describe('bootstrap', () => {
  it('creates the first Administrator and prints a working API token once', async () => {
    const res = await run('npm', ['run', '--silent', 'bootstrap', '--', '--email', 'First.Admin@Example.com', '--first-name', 'Ada']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/Administrator first\.admin@example\.com created \(id [0-9a-f]{24}\)/);
    const token = tokenIn(res.stdout);
    expect(token).toMatch(/^tnr_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}$/);

    const user = await h.ctx.models.User.findOne({ email: 'first.admin@example.com' }).lean();
    expect(user).toMatchObject({ siteRole: 'Administrators', status: 'active', firstName: 'Ada' });
    const stored = await h.ctx.models.AccessToken.findOne({ userId: user!._id }).lean();
    expect(JSON.stringify(stored)).not.toContain(token!.slice(21));
    expect(await h.ctx.models.AuditEvent.countDocuments({ action: 'user.bootstrapped', targetUserId: user!._id })).toBe(1);

    const me = await h.app.inject({ method: 'GET', url: '/v1/users/first.admin@example.com', headers: { authorization: `Bearer ${token}` } });
    expect(me.statusCode).toBe(200);
    expect(json(me).siteRole).toBe('Administrators');
  });

  it('refuses when an Administrator exists, and changes nothing', async () => {
    await seedUser(h.ctx.models, { email: 'first.admin@example.com', siteRole: 'Administrators' });
    const before = await h.ctx.models.User.countDocuments();
    const res = await bootstrap('--email', 'second@example.com');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/An Administrator already exists \(first\.admin@example\.com\).*--force/);
    expect(res.stdout).not.toMatch(/tnr_/);
    expect(await h.ctx.models.User.countDocuments()).toBe(before);
  });

  it('with --force adds another Administrator, or promotes and reactivates an existing account', async () => {
    await seedUser(h.ctx.models, { email: 'first.admin@example.com', siteRole: 'Administrators' });
    const forced = await bootstrap('--email', 'second@example.com', '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(await h.ctx.models.User.countDocuments({ siteRole: 'Administrators', status: 'active' })).toBe(2);

    const locked = await seedUser(h.ctx.models, { email: 'locked.out@example.com', siteRole: 'Users', status: 'deactivated' });
    // Locked out by an offboarding as well: --force is the way back from that too.
    await h.ctx.models.User.updateOne({ _id: locked.user._id }, { $set: { lockout: { at: new Date(), processId: `offboarding:${locked.user._id}` } } });
    const promoted = await bootstrap('--email', 'LOCKED.OUT@example.com', '--force');
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stdout).toMatch(/promoted and activated/);
    const after = await h.ctx.models.User.findById(locked.user._id).lean();
    expect(after).toMatchObject({ siteRole: 'Administrators', status: 'active' });
    expect(after!.deactivatedAt).toBeUndefined();
    expect(after!.lockout).toBeUndefined();
    const res = await h.app.inject({ method: 'GET', url: '/v1/users/export.csv', headers: { authorization: `Bearer ${tokenIn(promoted.stdout)}` } });
    expect(res.statusCode).toBe(200);
  });

  it('refuses wrong arguments with usage and exit code 2', async () => {
    for (const args of [[], ['--email', 'not-an-email'], ['--email', 'a@b.io', '--admin']]) {
      const res = await bootstrap(...args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toMatch(/usage: npm run bootstrap/);
    }
  });

  it('names a missing setting instead of failing obscurely', async () => {
    const res = await new Promise<Run>((resolve) => {
      // No server address and no running `npm start` in the data directory it would read.
      const env = { PATH: process.env.PATH, TENURE_DATA_DIR: join(tmpdir(), `tenure-none-${process.pid}`) };
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/bootstrap.ts', '--email', 'x@example.com'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stdout: '', stderr }));
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/MONGODB_URI is not set and no `npm start` is running/);
  });
});

/**
 * A local Gitea (the code host the Gitea connector talks to): built once from the Go module
 * proxy's source of code.gitea.io/gitea (its go.mod has replace directives, so `go install`
 * cannot build it; the downloaded module is copied and built in place), cached outside the
 * repository, and started headless on a loopback port with SQLite. Used by the connector's
 * tests and available to `npm start`-style set-ups.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { cacheDir, firstLine, which } from './binaries';
import { freePort } from './ports';
import { terminate } from './stack';

const GITEA_VERSION = '1.26.0';
/** The Go release Gitea 1.26.0's go.mod asks for. */
const GITEA_GO_VERSION = '1.26.2';
const BUILD_TAGS = 'sqlite sqlite_unlock_notify';
/** What a build without the bindata tag reads from disk at run time. */
const STATIC_DIRS = ['options', 'templates', 'public'] as const;
/** The site administrator tenure's connector signs in as ("admin" is reserved by Gitea). */
const GITEA_ADMIN_USER = 'tenure-admin';
/** The token scopes the connector needs (README, "Connectors → Gitea"). */
const GITEA_CONNECTOR_SCOPES = ['write:admin', 'write:organization', 'write:repository', 'write:user'] as const;

class MissingToolError extends Error {
  override readonly name = 'MissingToolError';
}

class ServiceStartError extends Error {
  override readonly name = 'ServiceStartError';
}

export interface GiteaInstall {
  binary: string;
  version: string;
  /** Holds the binary and the locales, templates and static files it reads (STATIC_ROOT_PATH). */
  home: string;
}

export interface RunningGitea {
  url: string;
  port: number;
  dataDir: string;
  /** The site administrator created on the first start and its API token (kept in the data dir). */
  admin: { username: string; password: string; token: string };
  /** Runs Gitea's own CLI (`gitea admin …`) against this instance's configuration. */
  cli(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

function log(message: string): void {
  process.stderr.write(`[devstack] ${message}\n`);
}

function exec(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 0 },
      (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stderr }));
        else resolve(stdout);
      },
    );
  });
}

function installDir(): string {
  return join(cacheDir(), `gitea-${GITEA_VERSION}`);
}

let installing: Promise<GiteaInstall> | undefined;

/**
 * The cached Gitea binary, built on first use (a few minutes and ~2 GB of Go modules; the
 * modules stay in Go's own cache). Needs Go (go.dev/dl) and git; concurrent first builds each
 * build apart and the first to finish wins.
 */
export function ensureGiteaInstalled(): Promise<GiteaInstall> {
  installing ??= installGitea().catch((err: unknown) => {
    installing = undefined;
    throw err;
  });
  return installing;
}

async function installGitea(): Promise<GiteaInstall> {
  const home = installDir();
  const binary = join(home, 'gitea');
  if (!which('git')) throw new MissingToolError('Gitea needs git: install the git package (apt-get install git).');
  if (existsSync(binary) && STATIC_DIRS.every((dir) => existsSync(join(home, dir)))) return { binary, version: GITEA_VERSION, home };

  const go = await findGo();
  const started = Date.now();
  log(`building Gitea ${GITEA_VERSION} from the Go module proxy (first time only: a few minutes and ~2 GB of modules)…`);
  const work = `${home}.partial-${process.pid}`;
  try {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const info = JSON.parse(await exec(go.path, ['mod', 'download', '-json', `code.gitea.io/gitea@v${GITEA_VERSION}`], { env: go.env, timeoutMs: 30 * 60_000 })) as {
      Dir?: string;
      Error?: string;
    };
    if (!info.Dir) throw new Error(info.Error ?? 'go mod download named no directory');
    // The module cache is read-only; the build writes next to the sources.
    const src = join(work, 'src');
    cpSync(info.Dir, src, { recursive: true });
    makeWritable(src);
    await exec(
      go.path,
      ['build', '-trimpath', '-tags', BUILD_TAGS, '-ldflags', `-s -w -X "main.Version=${GITEA_VERSION}" -X "main.Tags=${BUILD_TAGS}"`, '-o', join(work, 'gitea'), '.'],
      { cwd: src, env: { ...go.env, GOFLAGS: '-buildvcs=false' }, timeoutMs: 60 * 60_000 },
    );
    // Built without the bindata tag: Gitea reads its locales, templates and static files from
    // STATIC_ROOT_PATH, which is the install directory.
    for (const dir of STATIC_DIRS) renameSync(join(src, dir), join(work, dir));
    rmSync(src, { recursive: true, force: true });
    try {
      renameSync(work, home);
    } catch {
      if (!existsSync(binary)) throw new Error(`could not move the build into ${home}`);
    }
    log(`Gitea ${GITEA_VERSION} built in ${Math.round((Date.now() - started) / 1000)} s`);
    return { binary, version: GITEA_VERSION, home };
  } catch (err) {
    if (err instanceof MissingToolError) throw err;
    throw new MissingToolError(`Gitea ${GITEA_VERSION} could not be built from the Go module proxy (${firstLine(err)}); check that proxy.golang.org is reachable or set GITEA_URL to a running Gitea.`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function makeWritable(dir: string): void {
  // cpSync keeps the module cache's read-only modes; chmod -R without a shell.
  chmodSync(dir, 0o755);
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      chmodSync(child, entry.isDirectory() ? 0o755 : 0o644);
      if (entry.isDirectory()) walk(child);
    }
  };
  walk(dir);
}

/**
 * Go from PATH (or /usr/local/go) when it is new enough; an older Go 1.21+ fetches the wanted
 * release itself (GOTOOLCHAIN), as Temporal's CLI build does with `go install`.
 */
async function findGo(): Promise<{ path: string; env: NodeJS.ProcessEnv }> {
  const path = which('go', ['version']) ?? ['/usr/local/go/bin/go'].find((p) => existsSync(p));
  if (!path) throw new MissingToolError(`Building Gitea ${GITEA_VERSION} needs Go ${GITEA_GO_VERSION} or later: install it from go.dev/dl, or set GITEA_URL to a running Gitea.`);
  const version = /go(\d+)\.(\d+)(?:\.(\d+))?/.exec(await exec(path, ['version']).catch(() => ''));
  if (!version) throw new MissingToolError(`${path} did not say which Go it is; install Go ${GITEA_GO_VERSION} or later from go.dev/dl.`);
  const have = [Number(version[1]), Number(version[2]), Number(version[3] ?? 0)];
  const want = GITEA_GO_VERSION.split('.').map(Number);
  const newEnough = have[0]! > want[0]! || (have[0] === want[0] && (have[1]! > want[1]! || (have[1] === want[1] && have[2]! >= want[2]!)));
  if (newEnough) return { path, env: {} };
  if (have[0] === 1 && have[1]! >= 21) return { path, env: { GOTOOLCHAIN: `go${GITEA_GO_VERSION}` } };
  throw new MissingToolError(`Building Gitea ${GITEA_VERSION} needs Go ${GITEA_GO_VERSION} or later (found ${version[0]}): install it from go.dev/dl, or set GITEA_URL to a running Gitea.`);
}

interface Secrets {
  secretKey: string;
  internalToken: string;
  jwtSecret: string;
  lfsJwtSecret: string;
  adminPassword: string;
}

/** Secrets are made once per data dir so a restart keeps sessions, tokens and the admin's password valid. */
function secretsFor(dataDir: string): Secrets {
  const file = join(dataDir, 'tenure-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Secrets;
  const b64url = (n: number) => randomBytes(n).toString('base64url');
  const secrets: Secrets = {
    secretKey: b64url(32),
    internalToken: b64url(64),
    jwtSecret: b64url(32),
    lfsJwtSecret: b64url(32),
    adminPassword: `Tn-${b64url(18)}`,
  };
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

function appIni(install: GiteaInstall, dataDir: string, port: number, secrets: Secrets): string {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return [
    'APP_NAME = Gitea (tenure)',
    'RUN_MODE = prod',
    `RUN_USER = ${userInfo().username}`,
    `WORK_PATH = ${dataDir}`,
    ...(root ? ['I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true'] : []),
    '',
    '[server]',
    'PROTOCOL = http',
    'HTTP_ADDR = 127.0.0.1',
    `HTTP_PORT = ${port}`,
    'DOMAIN = 127.0.0.1',
    `ROOT_URL = http://127.0.0.1:${port}/`,
    `APP_DATA_PATH = ${join(dataDir, 'data')}`,
    `STATIC_ROOT_PATH = ${install.home}`,
    'DISABLE_SSH = true',
    'START_SSH_SERVER = false',
    'OFFLINE_MODE = true',
    'LFS_START_SERVER = false',
    '',
    '[database]',
    'DB_TYPE = sqlite3',
    `PATH = ${join(dataDir, 'data', 'gitea.db')}`,
    'SQLITE_JOURNAL_MODE = WAL',
    '',
    '[repository]',
    `ROOT = ${join(dataDir, 'repositories')}`,
    '',
    '[security]',
    'INSTALL_LOCK = true',
    `SECRET_KEY = ${secrets.secretKey}`,
    `INTERNAL_TOKEN = ${secrets.internalToken}`,
    '',
    '[oauth2]',
    `JWT_SECRET = ${secrets.jwtSecret}`,
    '',
    '[service]',
    'DISABLE_REGISTRATION = true',
    '',
    '[mailer]',
    'ENABLED = false',
    '',
    '[actions]',
    'ENABLED = false',
    '',
    '[cron.update_checker]',
    'ENABLED = false',
    '',
    '[log]',
    'MODE = console',
    'LEVEL = warn',
    '',
  ].join('\n');
}

/**
 * Starts Gitea on 127.0.0.1 (a free port unless one is given) with its data in dataDir. The first
 * start on a data dir creates the site administrator and its API token with Gitea's own CLI;
 * starting again on the same dataDir and port finds everything as it was.
 */
export async function startGitea(opts: { dataDir: string; port?: number }): Promise<RunningGitea> {
  const install = await ensureGiteaInstalled();
  const binary = install.binary;
  const dataDir = opts.dataDir;
  mkdirSync(join(dataDir, 'data'), { recursive: true });
  mkdirSync(join(dataDir, 'custom'), { recursive: true });
  const port = opts.port ?? (await freePort());
  const secrets = secretsFor(dataDir);
  const config = join(dataDir, 'app.ini');
  writeFileSync(config, appIni(install, dataDir, port, secrets), { mode: 0o600 });
  const baseArgs = ['--config', config, '--work-path', dataDir, '--custom-path', join(dataDir, 'custom')];
  const env = { GITEA_WORK_DIR: dataDir, HOME: join(dataDir, 'data', 'home') };
  mkdirSync(env.HOME, { recursive: true });
  const cli = (args: string[]) => exec(binary, [...baseArgs, ...args], { env, timeoutMs: 120_000 });

  const logFd = openSync(join(dataDir, 'gitea.log'), 'a');
  // detached: its own process group, stopped as a whole.
  const child: ChildProcess = spawn(binary, ['web', ...baseArgs], { stdio: ['ignore', logFd, logFd], detached: true, env: { ...process.env, ...env } });
  closeSync(logFd);
  const url = `http://127.0.0.1:${port}`;
  const stop = () => terminate(child, 10_000);
  try {
    await waitForGitea(child, url, dataDir, 120_000);
    const admin = await ensureAdmin(dataDir, url, secrets.adminPassword, cli);
    return { url, port, dataDir, admin, cli, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitForGitea(child: ChildProcess, url: string, dataDir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new ServiceStartError(`Gitea exited at start-up (code ${child.exitCode ?? child.signalCode}); see ${join(dataDir, 'gitea.log')}.`);
    }
    try {
      const res = await fetch(`${url}/api/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new ServiceStartError(`Gitea did not come up within ${timeoutMs / 1000}s (${last}); see ${join(dataDir, 'gitea.log')}.`);
}

/** The site administrator and its token: made on the first start, read back afterwards. */
async function ensureAdmin(dataDir: string, url: string, password: string, cli: (args: string[]) => Promise<string>): Promise<RunningGitea['admin']> {
  const file = join(dataDir, 'tenure-admin.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as RunningGitea['admin'];
  try {
    await cli(['admin', 'user', 'create', '--username', GITEA_ADMIN_USER, '--email', `${GITEA_ADMIN_USER}@localhost.localdomain`, '--password', password, '--admin', '--must-change-password=false']);
  } catch (err) {
    // A first start that stopped between the two commands left the user behind.
    if (!/user already exists/.test(firstLine(err)) && !/user already exists/.test(String((err as { stderr?: string }).stderr))) throw err;
  }
  const output = await cli(['admin', 'user', 'generate-access-token', '--username', GITEA_ADMIN_USER, '--token-name', `tenure-connector-${Date.now()}`, '--scopes', GITEA_CONNECTOR_SCOPES.join(','), '--raw']);
  // Gitea writes its own warnings (running as root) on the same stream as the token.
  const token = output.split('\n').map((line) => line.trim()).find((line) => /^[0-9a-f]{40}$/.test(line));
  if (!token) throw new ServiceStartError(`Gitea's CLI did not print an access token for ${GITEA_ADMIN_USER} (at ${url}).`);
  const admin = { username: GITEA_ADMIN_USER, password, token };
  writeFileSync(file, JSON.stringify(admin), { mode: 0o600 });
  return admin;
}

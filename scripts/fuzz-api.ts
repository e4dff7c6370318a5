/**
 * A schema-driven fuzz run of the HTTP API (`npm run fuzz:api`): schemathesis (PyPI, pinned,
 * installed into a venv in tenure's cache) generates requests from the OpenAPI document and
 * checks every answer for server errors, conformance to the documented response schema and
 * undocumented status codes.
 *
 * Loopback only: the script starts its own servers (the stack the tests use, in a temporary
 * directory), the worker and the API on a free port, creates an Administrator with a token,
 * and runs schemathesis bounded by examples per operation and by wall time. It prints a summary
 * and exits non-zero when a check failed. Options (environment): FUZZ_MAX_EXAMPLES (default 25),
 * FUZZ_MAX_SECONDS (default 600), FUZZ_SEED (default 1), FUZZ_OPERATIONS (a regex of paths).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectMongo } from '../src/db/connection';
import { createModels, ensureIndexes } from '../src/db/models';
import { cacheDir, which } from '../src/devstack/binaries';
import { freePort } from '../src/devstack/ports';
import { startStack, terminate } from '../src/devstack/stack';
import { issueAccessToken } from '../src/security/access-tokens';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCHEMATHESIS = 'schemathesis==4.32.5';
const CHECKS = ['not_a_server_error', 'response_schema_conformance', 'status_code_conformance'];
const maxExamples = Number(process.env.FUZZ_MAX_EXAMPLES ?? 25);
const maxSeconds = Number(process.env.FUZZ_MAX_SECONDS ?? 600);
const seed = process.env.FUZZ_SEED ?? '1';

/** The `st` command of a venv in the cache holding the pinned schemathesis. */
function findOrInstallSchemathesis(): string {
  const venv = join(cacheDir(), 'schemathesis');
  const st = join(venv, 'bin', 'st');
  const stamp = join(venv, 'tenure-packages.txt');
  if (existsSync(st) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === SCHEMATHESIS) return st;
  const python = which('python3') ?? which('python');
  if (!python) throw new Error(`Python 3.10+ is needed to install ${SCHEMATHESIS}.`);
  console.log(`installing ${SCHEMATHESIS} into ${venv}`);
  for (const [cmd, args] of [
    [python, ['-m', 'venv', venv]],
    [join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', SCHEMATHESIS]],
  ] as const) {
    const result = spawnSync(cmd, [...args], { stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  }
  writeFileSync(stamp, `${SCHEMATHESIS}\n`);
  return st;
}

function startProcess(name: string, entry: string, env: NodeJS.ProcessEnv, logDir: string): ChildProcess {
  const log = join(logDir, `${name}.log`);
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  child.stderr!.on('data', (c: Buffer) => chunks.push(c));
  child.on('exit', () => writeFileSync(log, Buffer.concat(chunks)));
  return child;
}

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(`${url}/healthz`).then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the API at ${url} did not become healthy`);
}

interface Summary {
  serverErrors: number;
  schemaViolations: number;
  undocumentedStatuses: number;
  operations: number;
}

/** Counts the distinct failures per check in the JUnit report (each is listed once, by its check's title). */
function summarize(junitPath: string): Summary {
  const xml = existsSync(junitPath) ? readFileSync(junitPath, 'utf8') : '';
  const count = (title: string) => xml.match(new RegExp(`^- \\S+ ${title}$`, 'gm'))?.length ?? 0;
  return {
    serverErrors: count('Server error'),
    schemaViolations: count('Response violates schema'),
    undocumentedStatuses: count('Undocumented status code'),
    operations: xml.match(/<testcase /g)?.length ?? 0,
  };
}

const st = findOrInstallSchemathesis();
const stack = await startStack();
const children: ChildProcess[] = [];
let exitCode = 1;
try {
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    MONGODB_URI: stack.mongoUri,
    MONGODB_DB: 'fuzz',
    REDIS_URL: stack.redisUrl,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: 'fuzz',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    PUBLIC_BASE_URL: apiUrl,
  };
  const logDir = join(stack.dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  children.push(startProcess('worker', 'src/main/worker.ts', env, logDir), startProcess('api', 'src/main/api.ts', env, logDir));
  await waitForHealth(apiUrl, 120_000);

  const conn = await connectMongo(stack.mongoUri, 'fuzz');
  const models = createModels(conn);
  await ensureIndexes(models);
  const admin = await models.User.create({ email: 'fuzz-admin@example.com', firstName: 'Fuzz', lastName: 'Admin', siteRole: 'Administrators', status: 'active' });
  const { token } = await issueAccessToken(models, admin._id, { name: 'fuzz' });
  await conn.close();

  const reportDir = join(ROOT, '.tenure', 'fuzz');
  mkdirSync(reportDir, { recursive: true });
  const junit = join(reportDir, 'junit.xml');
  const args = [
    'run',
    `${apiUrl}/openapi.json`,
    '--url',
    apiUrl,
    '--checks',
    CHECKS.join(','),
    '--max-examples',
    String(maxExamples),
    '--max-time',
    String(maxSeconds),
    '--seed',
    seed,
    '--request-timeout',
    '20',
    '--workers',
    '1',
    '--header',
    `Authorization: Bearer ${token}`,
    '--report',
    'junit',
    '--report-junit-path',
    junit,
    '--no-color',
    ...(process.env.FUZZ_OPERATIONS ? ['--include-path-regex', process.env.FUZZ_OPERATIONS] : []),
  ];
  console.log(`schemathesis against ${apiUrl}: at most ${maxExamples} examples per operation, ${maxSeconds} s (logs in ${logDir})`);
  // Run from the report directory: schemathesis keeps its example cache (.schemathesis/) in its working directory.
  const run = spawnSync(st, args, { cwd: reportDir, stdio: 'inherit', timeout: (maxSeconds + 120) * 1000 });
  const summary = summarize(junit);
  console.log(
    `\nfuzz summary: ${summary.operations} operations; ${summary.serverErrors} server errors (5xx), ${summary.schemaViolations} response schema violations, ${summary.undocumentedStatuses} undocumented status codes (schemathesis exit ${run.status ?? run.signal})`,
  );
  exitCode = run.status === 0 ? 0 : 1;
} finally {
  await Promise.all(children.map((c) => terminate(c)));
  await stack.stop();
}
process.exit(exitCode);

/**
 * `npm start`: the whole system on one machine without Docker. Starts (or finds, through
 * TEMPORAL_ADDRESS / REDIS_URL / MONGODB_URI) Temporal with its web UI, Redis and a
 * MongoDB-wire server on loopback, then the API and the worker as child processes, prints the
 * addresses and writes them to the data directory (`stack.json`, read by `npm run bootstrap`), says
 * how to create the first Administrator when there is none, and on Ctrl-C, SIGINT or SIGTERM stops
 * the children first and the servers last. (`npm start` execs this process, so a signal sent to
 * npm reaches it.) With TENURE_LOCAL_CONNECTORS it also runs a local Keycloak and Gitea and hands
 * their connector settings to the API and worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadConfig, type Config } from '../config/env';
import { connectMongo } from '../db/connection';
import { createModels } from '../db/models';
import { startStack, terminate, type RunningStack } from '../devstack/stack';
import { startMailCatcher, type CaughtMail } from '../devstack/mail-catcher';
import { startLocalConnectors, type RunningLocalConnectors } from '../devstack/local-connectors';
import { localDataDir, readStackFile, removeStackFile, writeStackFile } from '../devstack/stack-file';
import { localEncryptionKey } from '../devstack/encryption-key';
import { LocalStackError } from '../errors';
import { exitOnStartupError } from './lifecycle';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function main(): Promise<void> {
  // Validate everything but the addresses the stack is about to provide, before starting anything.
  const placeholders = { MONGODB_URI: 'mongodb://127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1', TEMPORAL_ADDRESS: '127.0.0.1:1' };
  const precheck = loadConfig({ ...placeholders, ...process.env });

  const dataDir = localDataDir({ TENURE_DATA_DIR: precheck.TENURE_DATA_DIR });
  const running = readStackFile(dataDir);
  if (running) throw new LocalStackError(`tenure is already running with its data in ${dataDir} (process ${running.pid}, API ${running.apiUrl}); stop it first, or set TENURE_DATA_DIR.`);
  // A local system is started only when the operator did not name one (as for the servers above).
  const localNames = (precheck.TENURE_LOCAL_CONNECTORS ?? []).filter((name) => {
    const given = name === 'gitea' ? precheck.GITEA_URL : precheck.KEYCLOAK_URL;
    if (given) process.stderr.write(`tenure: TENURE_LOCAL_CONNECTORS names ${name}, but ${name === 'gitea' ? 'GITEA_URL' : 'KEYCLOAK_URL'} is set: using ${given}, starting none.\n`);
    return !given;
  });
  // A signal while the servers start is acted on once they are up (they run in process groups of
  // their own, so they would outlive this process).
  let stopRequested = false;
  const stopWhenStarted = () => {
    if (!stopRequested) process.stderr.write('tenure: stopping once the servers being started are up…\n');
    stopRequested = true;
  };
  process.on('SIGINT', stopWhenStarted);
  process.on('SIGTERM', stopWhenStarted);
  // Keycloak takes longest to come up; it starts alongside the other servers.
  const [stackStart, localStart] = await Promise.allSettled([
    startStack({ dataDir, withUi: true, persist: true }),
    localNames.length > 0 ? startLocalConnectors(dataDir, localNames) : Promise.resolve(undefined),
  ]);
  if (stackStart.status === 'rejected' || localStart.status === 'rejected') {
    if (stackStart.status === 'fulfilled') await stackStart.value.stop();
    if (localStart.status === 'fulfilled') await localStart.value?.stop();
    throw stackStart.status === 'rejected' ? stackStart.reason : (localStart as PromiseRejectedResult).reason;
  }
  const stack: RunningStack = stackStart.value;
  const connected: RunningLocalConnectors | undefined = localStart.value;
  // Mail goes to SMTP_URL when it is set; otherwise it is caught locally and its links printed.
  const mail = process.env.SMTP_URL ? undefined : await startMailCatcher(dataDir, printMail);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // The local systems' connector settings, unless the operator set them.
    ...Object.fromEntries(Object.entries(connected?.env ?? {}).filter(([key]) => !process.env[key])),
    MONGODB_URI: stack.mongoUri,
    REDIS_URL: stack.redisUrl,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    ...(mail ? { SMTP_URL: mail.url } : {}),
    // Links in mail point at this API unless PUBLIC_BASE_URL says otherwise.
    PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL || localApiUrl(precheck),
    // Webhook signing secrets are sealed with a key kept in the data directory, unless one is given.
    TENURE_ENCRYPTION_KEY: process.env.TENURE_ENCRYPTION_KEY || localEncryptionKey(dataDir),
    // Local receivers run on this machine.
    WEBHOOK_ALLOWED_PRIVATE_NETWORKS: process.env.WEBHOOK_ALLOWED_PRIVATE_NETWORKS || '127.0.0.0/8,::1',
  };
  const config = loadConfig(env);

  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('tenure: stopping…\n');
    removeStackFile(dataDir);
    await Promise.all(children.map((child) => terminate(child, 15_000)));
    await mail?.close();
    await connected?.stop();
    await stack.stop();
    process.exit(code);
  };
  process.off('SIGINT', stopWhenStarted);
  process.off('SIGTERM', stopWhenStarted);
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  if (stopRequested) return void stopAll(0);

  for (const entry of ['api', 'worker']) {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main', `${entry}.ts`)], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
      // Own process group: terminate() signals the child and anything it started.
      detached: true,
    });
    child.on('exit', (code, signal) => {
      if (!stopping) {
        process.stderr.write(`tenure: the ${entry} process exited (${code ?? signal}); stopping everything.\n`);
        void stopAll(1);
      }
    });
    children.push(child);
  }

  const apiUrl = localApiUrl(config);
  try {
    await waitForHealth(`${apiUrl}/healthz`, 90_000);
  } catch (err) {
    process.stderr.write(`tenure: ${(err as Error).message}\n`);
    await stopAll(1);
  }
  writeStackFile(dataDir, {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    apiUrl,
    temporalUiUrl: stack.temporalUiUrl,
    env: {
      MONGODB_URI: stack.mongoUri,
      MONGODB_DB: config.MONGODB_DB,
      REDIS_URL: stack.redisUrl,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
      TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
    },
    ...(connected ? { connectedSystems: connected.systems } : {}),
  });
  const firstRun = !(await hasAdministrator(stack.mongoUri, config.MONGODB_DB));
  process.stdout.write(
    [
      '',
      'tenure is running',
      `  API          ${apiUrl}   (health ${apiUrl}/healthz, OpenAPI ${apiUrl}/openapi.json)`,
      `  Console      ${apiUrl}/console   (sign in with an Administrator's, Security Manager's or Auditor's email)`,
      `  Temporal UI  ${stack.temporalUiUrl ?? '(external server)'}`,
      `  Temporal     ${stack.temporalAddress}  namespace ${config.TEMPORAL_NAMESPACE}, task queue ${config.TEMPORAL_TASK_QUEUE}`,
      `  MongoDB      ${stack.mongoUri}/${config.MONGODB_DB}`,
      `  Redis        ${stack.redisUrl}`,
      `  Mail         ${mail ? `caught: each message's link is printed here, and kept in ${mail.dir}` : withoutPassword(config.SMTP_URL)}`,
      `  Slack bot    ${config.SLACK_BOT_TOKEN ? 'enabled' : 'disabled (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)'}`,
      ...(connected?.summary ?? []),
      `  Data         ${stack.dataDir}`,
      ...(firstRun
        ? ['', 'No Administrator yet. Create the first one (it prints their API token), then sign in to the console with that email:', '  npm run bootstrap -- --email you@example.com']
        : []),
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

function localApiUrl(config: Pick<Config, 'HTTP_HOST' | 'HTTP_PORT'>): string {
  return `http://${config.HTTP_HOST === '0.0.0.0' ? '127.0.0.1' : config.HTTP_HOST}:${config.HTTP_PORT}`;
}

function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

function printMail(mail: CaughtMail): void {
  process.stdout.write(`\nmail to ${mail.to.join(', ')}: ${mail.subject}\n${mail.link ? `  ${mail.link}\n` : ''}`);
}

/** Whether the store has an active Administrator (if not, the start tells how to create one). */
async function hasAdministrator(mongoUri: string, db: string): Promise<boolean> {
  const conn = await connectMongo(mongoUri, db);
  try {
    return !!(await createModels(conn).User.exists({ siteRole: 'Administrators', status: 'active' }));
  } finally {
    await conn.close();
  }
}

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the API did not become healthy at ${url} within ${timeoutMs / 1000}s`);
}

main().catch(exitOnStartupError);

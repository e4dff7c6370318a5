/** Runs the real worker process (src/main/worker.ts) on a test file's servers, to kill it mid-process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestContext } from './context';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  /** SIGKILL: no graceful shutdown, in-flight activities and workflow tasks are abandoned. */
  kill(): Promise<void>;
  /** SIGTERM: the worker's graceful shutdown (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

export interface WorkerProcessOptions {
  /** SMTP server for the worker's mail (a closed port when omitted). */
  smtpUrl?: string;
  /** Further settings, e.g. shorter intervals for the test. */
  env?: Record<string, string>;
}

/** Starts the real worker process on the test file's servers and waits until it polls. */
export async function startWorkerProcess(ctx: TestContext, options: WorkerProcessOptions = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/worker.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      MONGODB_URI: ctx.stack.mongoUri,
      MONGODB_DB: ctx.dbName,
      REDIS_URL: ctx.stack.redisUrl,
      REDIS_PREFIX: ctx.queue.prefix,
      TEMPORAL_ADDRESS: ctx.stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: ctx.taskQueue,
      TEMPORAL_WORKFLOW_BUNDLE: ctx.workflowBundlePath,
      SMTP_URL: options.smtpUrl ?? 'smtp://127.0.0.1:9',
      PUBLIC_BASE_URL: 'http://tenure.test',
      INVITATION_SWEEP_INTERVAL: '1h',
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  while (!/worker started/.test(out)) {
    if (child.exitCode !== null) throw new Error(`worker process exited at start:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker process did not start in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output: () => out,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

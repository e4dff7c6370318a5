/**
 * The production build: the compiled API and worker start with plain `node` (no TypeScript
 * loader) on the test servers and answer their health checks; the worker loads the workflow
 * bundle built beside it; the compiled code imports only production dependencies, and no
 * TypeScript tooling is a production dependency.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProduction, type BuildResult } from '../../scripts/lib/build';
import { freePort } from '../../src/devstack/ports';
import { createTestContext, eventually, type TestContext } from '../helpers/context';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};
const TOOLING = ['tsx', 'typescript', 'esbuild', 'vitest', 'knip'];

let ctx: TestContext;
let built: BuildResult;
const running: ChildProcess[] = [];

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `node <dist file>` with only the settings given (and PATH/HOME), output captured. */
function startBuilt(file: string, env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--enable-source-maps', join(built.outDir, file)], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      MONGODB_URI: ctx.stack.mongoUri,
      MONGODB_DB: ctx.dbName,
      REDIS_URL: ctx.stack.redisUrl,
      REDIS_PREFIX: ctx.queue.prefix,
      TEMPORAL_ADDRESS: ctx.stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: ctx.taskQueue,
      SMTP_URL: 'smtp://127.0.0.1:9',
      INVITATION_SWEEP_INTERVAL: '1h',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Polls a health URL until it answers 200; the answer's body. */
async function healthy(url: string, started: Started): Promise<{ status: string; checks?: Array<{ name: string; ok: boolean }> }> {
  return eventually(
    `${url} to answer 200`,
    async () => {
      if (started.child.exitCode !== null) throw new Error(`the process exited:\n${started.output()}`);
      const res = await fetch(url).catch(() => undefined);
      return res?.status === 200 ? ((await res.json()) as { status: string; checks?: Array<{ name: string; ok: boolean }> }) : undefined;
    },
    60_000,
  );
}

async function stop(started: Started): Promise<number | null> {
  if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGTERM');
  return started.exited;
}

beforeAll(async () => {
  ctx = await createTestContext('build');
  // Two levels below the repository (packages resolve from its node_modules), where no workflow
  // sources sit next to the compiled worker, as in the image.
  mkdirSync(join(ROOT, '.tenure', 'build-test'), { recursive: true });
  built = await buildProduction(mkdtempSync(join(ROOT, '.tenure', 'build-test', 'dist-')));
}, 180_000);

afterAll(async () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (built) rmSync(built.outDir, { recursive: true, force: true });
  await ctx?.close();
});

describe('the compiled processes', () => {
  it('start with plain node: the API answers /healthz and the worker, on its built bundle, answers its health port', async () => {
    const httpPort = await freePort();
    const api = startBuilt('api.js', { HTTP_HOST: '127.0.0.1', HTTP_PORT: String(httpPort) });
    const healthPort = await freePort();
    const worker = startBuilt('worker.js', { WORKER_HEALTH_PORT: String(healthPort) });

    const apiHealth = await healthy(`http://127.0.0.1:${httpPort}/healthz`, api);
    expect(apiHealth.status).toBe('ok');
    const workerHealth = await healthy(`http://127.0.0.1:${healthPort}/healthz`, worker);
    expect(workerHealth.checks?.filter((c) => !c.ok)).toEqual([]);
    expect(workerHealth.checks?.map((c) => c.name)).toContain('temporal-worker');
    const started = worker.output().split('\n').find((line) => line.includes('"worker started"'));
    expect(JSON.parse(started!).workflowBundle).toBe(built.workflowBundle);

    // SIGTERM drains and exits 0.
    expect(await stop(api)).toBe(0);
    expect(await stop(worker), worker.output()).toBe(0);
  });

  it('stop the worker with one sentence naming TEMPORAL_WORKFLOW_BUNDLE when the bundle is missing, and start on a bundle named by it', async () => {
    const moved = join(built.outDir, 'elsewhere.js');
    renameSync(built.workflowBundle, moved);
    try {
      const missing = startBuilt('worker.js', {});
      expect(await missing.exited).toBe(1);
      expect(missing.output()).toMatch(/^tenure: Invalid configuration:\n {2}- TEMPORAL_WORKFLOW_BUNDLE: /m);
      expect(missing.output()).not.toMatch(/ at .*\.js:\d+/);

      const healthPort = await freePort();
      const named = startBuilt('worker.js', { TEMPORAL_WORKFLOW_BUNDLE: moved, WORKER_HEALTH_PORT: String(healthPort) });
      await healthy(`http://127.0.0.1:${healthPort}/healthz`, named);
      expect(await stop(named)).toBe(0);
    } finally {
      renameSync(moved, built.workflowBundle);
    }
  });

  it('import only production dependencies, none of them TypeScript or build tooling', () => {
    expect(built.packages.length).toBeGreaterThan(0);
    for (const name of built.packages) expect(Object.keys(pkg.dependencies), `${name} is a production dependency`).toContain(name);
    for (const tool of TOOLING) expect(Object.keys(pkg.dependencies), `${tool} is not a production dependency`).not.toContain(tool);
  });
});

describe('the production dependency tree (package-lock.json, as `npm ci --omit=dev` installs it)', () => {
  it('holds no TypeScript tooling, and the lock file agrees with package.json', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; dependencies?: Record<string, string>; devDependencies?: Record<string, string> }>;
    };
    expect(lock.packages['']!.dependencies).toEqual(pkg.dependencies);
    expect(lock.packages['']!.devDependencies).toEqual(pkg.devDependencies);
    const production = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && !entry.dev)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(production).toContain('fastify');
    for (const tool of TOOLING) expect(production, `${tool} is installed only with dev dependencies`).not.toContain(tool);
  });
});

describe('package.json', () => {
  it('starts production processes from dist with node and builds them with `npm run build`', () => {
    expect(pkg.scripts['start:api']).toMatch(/^(exec )?node (--enable-source-maps )?dist\/api\.js$/);
    expect(pkg.scripts['start:worker']).toMatch(/^(exec )?node (--enable-source-maps )?dist\/worker\.js$/);
    expect(pkg.scripts.build).toContain('tsconfig.build.json');
    expect(pkg.scripts.build).toContain('scripts/build.ts');
  });
});

/**
 * Starts the real servers once per test run (Temporal dev server, Redis, MongoDB-wire server,
 * or those named by TEMPORAL_ADDRESS / REDIS_URL / MONGODB_URI) and bundles the workflows once.
 * Test files receive the addresses through vitest's inject().
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startStack, type StackAddresses } from '../../src/devstack/stack';
import { buildWorkflowBundle } from '../../src/temporal/bundle';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackAddresses;
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const stack = await startStack();
  const bundleDir = mkdtempSync(join(tmpdir(), 'tenure-bundle-'));
  try {
    const workflowBundlePath = await buildWorkflowBundle(join(bundleDir, 'workflows.js'));
    project.provide('stack', {
      temporalAddress: stack.temporalAddress,
      redisUrl: stack.redisUrl,
      mongoUri: stack.mongoUri,
    });
    project.provide('workflowBundlePath', workflowBundlePath);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  process.stderr.write(`[test] servers up and workflows bundled in ${Date.now() - started} ms\n`);
  return async () => {
    await stack.stop();
    rmSync(bundleDir, { recursive: true, force: true });
  };
}

/**
 * A Redis server of one test file's own, on a free loopback port, that the test may stop and
 * start again (outage and restart tests) without touching the shared one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOrInstallRedis } from '../../src/devstack/binaries';
import { freePort } from '../../src/devstack/ports';
import { terminate } from '../../src/devstack/stack';
import { checkRedis } from '../../src/health/checks';
import { eventually } from './context';

export interface PrivateRedis {
  url: string;
  /** Starts the server (again) on the same port, empty, and waits until it answers. */
  start(): Promise<void>;
  /** Stops the server: clients see connection refused until start(). */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export async function createPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-private-redis-'));
  let server: ChildProcess | undefined;
  const stop = async () => {
    if (server) await terminate(server);
    server = undefined;
  };
  return {
    url,
    async start() {
      server = spawn(findOrInstallRedis(), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dataDir], { stdio: 'ignore', detached: true });
      await eventually('the test Redis to answer', () => checkRedis(url).then(() => true));
    },
    stop,
    async close() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

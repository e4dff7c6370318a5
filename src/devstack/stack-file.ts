/**
 * Where a running `npm start` listens, written to its data directory so that the local commands
 * (`npm run bootstrap`, the benchmarks' helpers) find the servers without anyone copying
 * addresses: `<data dir>/stack.json`, removed when the stack stops, readable by its owner only.
 * It holds addresses, and no secret of tenure's: the one exception is the sign-in of the local
 * connected systems' administrators (TENURE_LOCAL_CONNECTORS), which their own data directories
 * next to it hold as well.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalStackError } from '../errors';
import type { LocalConnectedSystems } from './local-connectors';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The settings a local command takes from the running stack when they are not set. */
const ADDRESS_KEYS = ['MONGODB_URI', 'MONGODB_DB', 'REDIS_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_TASK_QUEUE'] as const;
type AddressKey = (typeof ADDRESS_KEYS)[number];

export interface StackFile {
  /** The `npm start` process; the file is stale once it is gone. */
  pid: number;
  startedAt: string;
  apiUrl: string;
  temporalUiUrl?: string;
  env: Partial<Record<AddressKey, string>>;
  /** The connected systems `npm start` runs itself (TENURE_LOCAL_CONNECTORS). */
  connectedSystems?: LocalConnectedSystems;
}

/** The data directory of `npm start`: TENURE_DATA_DIR, else `.tenure/data` in the checkout. */
export function localDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TENURE_DATA_DIR || join(ROOT, '.tenure', 'data');
}

function stackFilePath(dataDir: string): string {
  return join(dataDir, 'stack.json');
}

export function writeStackFile(dataDir: string, stack: StackFile): void {
  const path = stackFilePath(dataDir);
  // Written whole, then renamed: a reader never sees half a file.
  writeFileSync(`${path}.tmp`, `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export function removeStackFile(dataDir: string): void {
  rmSync(stackFilePath(dataDir), { force: true });
}

/** The running stack of `dataDir`, or undefined when none runs (no file, or its process is gone). */
export function readStackFile(dataDir: string): StackFile | undefined {
  let stack: StackFile;
  try {
    stack = JSON.parse(readFileSync(stackFilePath(dataDir), 'utf8')) as StackFile;
  } catch {
    return undefined;
  }
  return Number.isInteger(stack.pid) && processExists(stack.pid) ? stack : undefined;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The environment of a local command: the settings given win; the server addresses that are not
 * given come from the running `npm start`. Without either, one sentence says what to do.
 */
export function withLocalStack(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env.MONGODB_URI) return env;
  const dataDir = localDataDir(env);
  const stack = readStackFile(dataDir);
  if (!stack) {
    throw new LocalStackError(`MONGODB_URI is not set and no \`npm start\` is running with its data in ${dataDir}: start tenure with \`npm start\` (or set MONGODB_URI, REDIS_URL and TEMPORAL_ADDRESS).`);
  }
  const filled: NodeJS.ProcessEnv = { ...env };
  for (const key of ADDRESS_KEYS) if (!filled[key] && stack.env[key]) filled[key] = stack.env[key];
  return filled;
}

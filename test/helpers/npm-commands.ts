/**
 * Running the project's own npm commands as a newcomer would, and checking what they leave
 * behind: the environment without server addresses or connector settings, a command's exit code
 * and output, a process's descendants and whether a process is still alive (read from /proc).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Environment of a newcomer: no server addresses (the run command starts its own) and no connector settings. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const key of Object.keys(env)) if (/^(GITEA|KEYCLOAK)_/.test(key)) delete env[key];
  for (const key of ['MONGODB_URI', 'REDIS_URL', 'TEMPORAL_ADDRESS', 'NODE_ENV', 'VITEST', 'VITEST_POOL_ID', 'VITEST_WORKER_ID']) delete env[key];
  return env;
}

type Finished = { code: number | null; stdout: string; stderr: string };

/** `npm <args>` to its end: exit code and output. */
export function runCommand(args: string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  return runToEnd('npm', args, env);
}

/** What `npm start` runs (src/main/dev.ts) to its end, for a start that is refused: exit code and output. */
export function runRefusedStart(env: NodeJS.ProcessEnv): Promise<Finished> {
  return runToEnd(process.execPath, ['--import', 'tsx', 'src/main/dev.ts'], env);
}

/** `npm start` left running: the child, its output so far (read as it grows) and its exit. */
export function startNpmStart(env: NodeJS.ProcessEnv) {
  const child = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return {
    child,
    exited,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
  };
}

async function runToEnd(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr };
}

/** Every process below `rootPid`, however deep. */
export function descendants(rootPid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* exited meanwhile */
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parents) if (parent === pid) (found.push(child), walk(child));
  };
  walk(rootPid);
  return found;
}

/** Whether the process runs (a zombie does not). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

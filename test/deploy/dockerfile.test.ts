/** No Docker engine runs in CI, so the Dockerfile and .dockerignore are checked by reading them. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface Stage {
  from: string;
  name?: string;
  instructions: Array<{ op: string; args: string }>;
}

/** The Dockerfile's stages, each with its instructions (continuation lines joined, comments dropped). */
function stages(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const result: Stage[] = [];
  for (const line of lines) {
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line)!;
    if (op!.toUpperCase() === 'FROM') {
      const [from, , name] = args!.split(/\s+/);
      result.push({ from: from!, name, instructions: [] });
    } else {
      result.at(-1)!.instructions.push({ op: op!.toUpperCase(), args: args! });
    }
  }
  return result;
}

const all = stages(readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8'));
const byName = new Map(all.map((s) => [s.name, s]));
/** A stage's instructions, including those of the stages it is built FROM. */
function effective(name: string): Stage['instructions'] {
  const stage = byName.get(name)!;
  expect(stage, `stage ${name}`).toBeDefined();
  return [...(byName.has(stage.from) ? effective(stage.from) : []), ...stage.instructions];
}
const runs = (name: string) => byName.get(name)!.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
const last = (name: string, op: string) => effective(name).filter((i) => i.op === op).at(-1)?.args;

describe('Dockerfile', () => {
  it('builds on Node 24 LTS in every stage', () => {
    for (const stage of all) expect(byName.has(stage.from) || /^node:24[.-]/.test(stage.from), `${stage.name}: ${stage.from}`).toBe(true);
  });

  it('builds with every dependency from the lock file, runs with production dependencies only', () => {
    expect(runs('build')).toContain('npm ci --no-audit --no-fund');
    expect(runs('build')).toContain('npm run build');
    expect(runs('runtime').some((r) => r.startsWith('npm ci --omit=dev'))).toBe(true);
    for (const stage of all) for (const r of stage.instructions.filter((i) => i.op === 'RUN')) expect(r.args).not.toMatch(/npm (install|i)\b/);
    // The runtime takes only the compiled processes (and the bundle) from the build.
    const copies = byName.get('runtime')!.instructions.filter((i) => i.op === 'COPY').map((i) => i.args);
    expect(copies).toEqual(['package.json package-lock.json ./', '--from=build /app/dist ./dist']);
  });

  it('gives the API and the worker their own image: non-root, plain node on dist/, a health check that can fail', () => {
    for (const [target, port] of [['api', 'HTTP_PORT'], ['worker', 'WORKER_HEALTH_PORT']] as const) {
      expect(last(target, 'USER'), `${target} user`).toBe('node');
      expect(JSON.parse(last(target, 'CMD')!)).toEqual(['node', '--enable-source-maps', `dist/${target}.js`]);
      expect(last(target, 'ENV'), `${target} sets ${port}`).toMatch(new RegExp(`\\b${port}=\\d+`));
      const check = last(target, 'HEALTHCHECK')!;
      expect(check).toContain(`process.env.${port}+'/healthz'`);
      expect(check).toContain('process.exit(r.ok?0:1)');
      expect(effective(target).some((i) => /tsx/.test(i.args))).toBe(false);
    }
  });
});

describe('.dockerignore', () => {
  it('keeps installed modules, builds, local data and git out of the build context', () => {
    const ignored = readFileSync(new URL('../../.dockerignore', import.meta.url), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.tenure', '.git', '.env']) expect(ignored).toContain(entry);
  });
});

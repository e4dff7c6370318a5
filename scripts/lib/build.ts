/**
 * The production build (`npm run build`, after the type check of tsconfig.build.json): each
 * process's entry point compiled by esbuild to one ES module in `dist/`, and the workflow bundle
 * beside them, so production runs `node dist/api.js` and `node dist/worker.js` with no TypeScript
 * tooling. The sources import each other without file extensions (bundler resolution), which
 * Node's ES-module loader does not resolve; bundling each entry resolves them at build time.
 * Packages stay imports of `node_modules` (installed by `npm ci --omit=dev`).
 */
import { build, type Metafile } from 'esbuild';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWorkflowBundle } from '../../src/temporal/bundle';
import { BUILT_WORKFLOW_BUNDLE_FILE } from '../../src/temporal/paths';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The processes a deployment runs, by the name of their file in dist/. */
export const ENTRY_POINTS = {
  api: 'src/main/api.ts',
  worker: 'src/main/worker.ts',
  bootstrap: 'src/main/bootstrap.ts',
  cli: 'src/cli/main.ts',
} as const;

export interface BuildResult {
  outDir: string;
  workflowBundle: string;
  /** Every package the compiled entry points import at run time (node: built-ins excluded). */
  packages: string[];
}

/** Writes the compiled entry points and the workflow bundle to `outDir` (emptied first). */
export async function buildProduction(outDir: string): Promise<BuildResult> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const { metafile } = await build({
    absWorkingDir: ROOT,
    entryPoints: ENTRY_POINTS,
    outdir: outDir,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node22',
    sourcemap: true,
    metafile: true,
    tsconfig: join(ROOT, 'tsconfig.build.json'),
    logLevel: 'warning',
  });
  const workflowBundle = await buildWorkflowBundle(join(outDir, BUILT_WORKFLOW_BUNDLE_FILE));
  return { outDir, workflowBundle, packages: importedPackages(metafile) };
}

/** `@scope/name/sub` and `name/sub` imports as package names. */
function importedPackages(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      if (!imported.external || imported.path.startsWith('node:')) continue;
      const parts = imported.path.split('/');
      names.add(imported.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
    }
  }
  return [...names].sort();
}

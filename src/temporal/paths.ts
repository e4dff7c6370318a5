import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The workflow bundle's single entry. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

/** The file name `npm run build` gives the workflow bundle, beside the compiled processes in dist/. */
export const BUILT_WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

/**
 * The prebuilt workflow bundle next to the running code: `dist/workflow-bundle.js` for
 * `node dist/worker.js` (this module is compiled into that file); none when running from the
 * TypeScript sources.
 */
export function builtWorkflowBundle(): string | undefined {
  const path = fileURLToPath(new URL(`./${BUILT_WORKFLOW_BUNDLE_FILE}`, import.meta.url));
  return existsSync(path) ? path : undefined;
}

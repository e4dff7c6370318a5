import { fileURLToPath } from 'node:url';

/** The workflow bundle's single entry. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

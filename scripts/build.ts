/** `npm run build [out-dir]`: the compiled processes and the workflow bundle (default `dist/`). */
import { resolve } from 'node:path';
import { buildProduction } from './lib/build';

const { outDir, workflowBundle } = await buildProduction(resolve(process.argv[2] ?? 'dist'));
console.log(`built ${outDir} (workflow bundle ${workflowBundle})`);

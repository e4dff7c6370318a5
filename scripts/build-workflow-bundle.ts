/** Writes the production workflow bundle: `npm run build:workflows [out-file]`. */
import { resolve } from 'node:path';
import { buildWorkflowBundle } from '../src/temporal/bundle';

const out = resolve(process.argv[2] ?? 'workflow-bundle.js');
await buildWorkflowBundle(out);
console.log(`workflow bundle written to ${out}`);

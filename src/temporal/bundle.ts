import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import { WORKFLOW_TRACING_INTERCEPTORS } from '../telemetry/tracing';
import { WORKFLOWS_PATH } from './paths';

/**
 * Bundles the workflows once (webpack) and writes the code to `outPath`. Production workers and
 * the test suite load this bundle instead of bundling at each worker start. `workflowsPath` is
 * the bundle's entry: the production workflows unless a benchmark brings its own entry. The
 * OpenTelemetry workflow interceptors are always in it; they make spans only when the worker
 * traces (telemetry/tracing.ts).
 */
export async function buildWorkflowBundle(outPath: string, workflowsPath = WORKFLOWS_PATH): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: [WORKFLOW_TRACING_INTERCEPTORS],
    logger: quietLogger,
  });
  writeFileSync(outPath, code);
  return outPath;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (message: string) => process.stderr.write(`${message}\n`), log: noop };

import { NativeConnection, Worker } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import type { Activities } from '../../activities';
import { ConfigError } from '../errors';
import { temporalWorkerTracing, WORKFLOW_TRACING_INTERCEPTORS } from '../telemetry/tracing';
import { WORKFLOWS_PATH } from './paths';

/** How long a stopping worker lets running activities finish; container stop grace periods exceed it. */
export const WORKER_SHUTDOWN_GRACE_SECONDS = 10;

export interface TemporalWorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A prebuilt bundle (see buildWorkflowBundle); without it the worker bundles at start. */
  workflowBundlePath?: string;
  maxConcurrentActivityTaskExecutions?: number;
}

export async function createTemporalWorker(options: TemporalWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  if (!options.workflowBundlePath && !existsSync(WORKFLOWS_PATH)) {
    // Compiled code without its bundle: there are no workflow sources here to bundle from.
    throw new ConfigError(['TEMPORAL_WORKFLOW_BUNDLE: no workflow bundle beside the compiled worker; run `npm run build` or set the path of a bundle']);
  }
  const connection = await NativeConnection.connect({ address: options.address });
  try {
    // Activity spans and the workflow spans' sink when tracing is on (telemetry/tracing.ts).
    const tracing = temporalWorkerTracing();
    const worker = await Worker.create({
      connection,
      namespace: options.namespace,
      taskQueue: options.taskQueue,
      activities: options.activities,
      ...(options.workflowBundlePath ? { workflowBundle: { codePath: options.workflowBundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
      maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 50,
      shutdownGraceTime: `${WORKER_SHUTDOWN_GRACE_SECONDS} seconds`,
      // A prebuilt bundle holds the workflow interceptors already; bundling here adds them.
      interceptors: { ...tracing.interceptors, ...(options.workflowBundlePath ? {} : { workflowModules: [WORKFLOW_TRACING_INTERCEPTORS] }) },
      sinks: tracing.sinks,
    });
    return { worker, connection };
  } catch (err) {
    await connection.close();
    throw err;
  }
}

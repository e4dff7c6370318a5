import { NativeConnection, Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { WORKFLOWS_PATH } from './paths';

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
  const connection = await NativeConnection.connect({ address: options.address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: options.namespace,
      taskQueue: options.taskQueue,
      activities: options.activities,
      ...(options.workflowBundlePath ? { workflowBundle: { codePath: options.workflowBundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
      maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 50,
      shutdownGraceTime: '10 seconds',
    });
    return { worker, connection };
  } catch (err) {
    await connection.close();
    throw err;
  }
}

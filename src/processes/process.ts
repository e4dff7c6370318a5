/**
 * What every process client shares: starting a process under its business-key id (or joining the
 * one running there) and knowing which it was, and asking whether one runs.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client, type QueryDefinition } from '@temporalio/client';
import { TENURE_PROCESS, TENURE_SUBJECT } from '../../workflows/search-attributes';

export interface StartedProcess {
  workflowId: string;
  runId?: string;
  /** false when a running process with the same business key was joined instead. */
  started: boolean;
}

/** The start options that make a process findable by kind and subject. */
function searchAttributes(process: string, subject: string) {
  return [
    { key: TENURE_PROCESS, value: process },
    { key: TENURE_SUBJECT, value: subject },
  ];
}

/** A one-off id in the start's memo: the run whose memo carries it was started by this call. */
export function startRequestId(): { requestId: string } {
  return { requestId: randomUUID() };
}

/** Whether the run of `workflowId` now running was started with `memo` (else it was joined). */
export async function startedBy(client: Client, workflowId: string, memo: { requestId: string }): Promise<StartedProcess> {
  const description = await client.workflow.getHandle(workflowId).describe();
  return { workflowId, runId: description.runId, started: description.memo?.requestId === memo.requestId };
}

/**
 * Starts a process with `USE_EXISTING`: a second start joins the running one. The SDK does not
 * say which happened; the request id in the memo does.
 */
export async function startOrJoin(
  client: Client,
  workflowType: string,
  options: { workflowId: string; taskQueue: string; args: unknown[]; process: string; subject: string },
): Promise<StartedProcess> {
  const memo = startRequestId();
  await client.workflow.start(workflowType, {
    workflowId: options.workflowId,
    taskQueue: options.taskQueue,
    args: options.args,
    workflowIdConflictPolicy: 'USE_EXISTING',
    memo,
    typedSearchAttributes: searchAttributes(options.process, options.subject),
  });
  return startedBy(client, options.workflowId, memo);
}

/** The status of the latest run of `workflowId` (`RUNNING`, `COMPLETED`…), or undefined when none ever ran. */
export async function processStatus(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

export async function isRunning(client: Client, workflowId: string): Promise<boolean> {
  return (await processStatus(client, workflowId)) === 'RUNNING';
}

/** A process's status and, while it runs, its progress; undefined when none ever ran. */
export async function processSummary<P>(client: Client, workflowId: string, progressQuery?: QueryDefinition<P>): Promise<{ status: string; progress?: P } | undefined> {
  const status = await processStatus(client, workflowId).catch(() => undefined);
  if (!status) return undefined;
  if (status !== 'RUNNING' || !progressQuery) return { status };
  const progress = await client.workflow
    .getHandle(workflowId)
    .query(progressQuery)
    .catch(() => undefined);
  return { status, progress };
}

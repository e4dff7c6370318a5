/**
 * Any process's progress by its workflow id: the query definition of its kind, and what the
 * server says of the run (status, published TenureStatus). For readers that follow processes of
 * several kinds, such as the Slack progress messages.
 */
import type { Client } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { progressQuery, type OffboardingProgress } from '../../workflows/offboarding-messages';
import { onboardingProgressQuery, type OnboardingProgress } from '../../workflows/onboarding-messages';
import { TENURE_PROCESS, TENURE_STATUS, TENURE_SUBJECT } from '../../workflows/search-attributes';
import { processKindOf } from './ids';

export type AnyProgress = OffboardingProgress | OnboardingProgress;

/** The progress query of the process `workflowId` names, by its kind; none for a kind without one. */
function progressQueryOf(workflowId: string): QueryDefinition<AnyProgress> | undefined {
  switch (processKindOf(workflowId)) {
    case 'offboarding':
      return progressQuery;
    case 'onboarding':
      return onboardingProgressQuery;
    default:
      return undefined;
  }
}

export interface RunState {
  /** `RUNNING`, `COMPLETED`, `FAILED`…: the latest run's execution status. */
  status: string;
  /** The status the process published (TenureStatus), if it does. */
  published?: string;
}

/** The latest run of `workflowId` as the server describes it, or undefined when it cannot be read. */
export async function describeRun(client: Client, workflowId: string): Promise<RunState | undefined> {
  const description = await client.workflow
    .getHandle(workflowId)
    .describe()
    .catch(() => undefined);
  if (!description) return undefined;
  return { status: description.status.name, published: description.typedSearchAttributes.get(TENURE_STATUS) ?? undefined };
}

/** The process's own answer to its progress query, or undefined (no such query, or no answer). */
export async function queryProgress(client: Client, workflowId: string): Promise<AnyProgress | undefined> {
  const query = progressQueryOf(workflowId);
  if (!query) return undefined;
  return client.workflow
    .getHandle(workflowId)
    .query(query)
    .catch(() => undefined);
}

export interface RunningProcess {
  workflowId: string;
  kind: string;
  /** Who it is about: a user id or an email address. */
  subject?: string;
  /** The status it published (an offboarding's status, an onboarding's state), if any. */
  status?: string;
  startedAt: Date;
}

/** The running processes of tenure's task queue, newest first, at most `limit` (from the visibility store; no process is queried). */
export async function runningProcesses(client: Client, taskQueue: string, limit: number): Promise<RunningProcess[]> {
  const query = `ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue.replace(/'/g, '')}' AND ${TENURE_PROCESS.name} IS NOT NULL`;
  const found: RunningProcess[] = [];
  for await (const run of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
    found.push({
      workflowId: run.workflowId,
      kind: run.typedSearchAttributes.get(TENURE_PROCESS) ?? run.type,
      subject: run.typedSearchAttributes.get(TENURE_SUBJECT) ?? undefined,
      status: run.typedSearchAttributes.get(TENURE_STATUS) ?? undefined,
      startedAt: run.startTime,
    });
    if (found.length >= limit) break;
  }
  return found;
}

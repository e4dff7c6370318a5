/**
 * The benchmark worker's bundle entry: every production workflow, plus the baseline that runs as
 * many no-op activities as an offboarding runs, one after another. Production bundles
 * workflows/index.ts alone, so none of this reaches it.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { BaselineActivities } from './support/baseline';

export * from '../workflows/index';

const { noopActivity } = proxyActivities<BaselineActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 3 } });

export async function baselineWorkflow(input: { activities: number }): Promise<number> {
  for (let i = 0; i < input.activities; i++) await noopActivity(i);
  return input.activities;
}

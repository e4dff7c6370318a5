/** The benchmark's baseline: as many no-op activities as an offboarding runs, one after another. */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { noopActivity } = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 3 } });

export async function baselineWorkflow(input: { activities: number }): Promise<number> {
  for (let i = 0; i < input.activities; i++) await noopActivity(i);
  return input.activities;
}

/** The benchmark baseline's worker side: its bundle entry and its activity. */
import { fileURLToPath } from 'node:url';

/** Bundle entry of the benchmark worker: the production workflows plus `baselineWorkflow`. */
export const BENCH_WORKFLOWS_PATH = fileURLToPath(new URL('../workflows.ts', import.meta.url));

/** The baseline's activity: does nothing, so its cost is Temporal's alone. */
export const baselineActivities = {
  async noopActivity(i: number): Promise<number> {
    return i;
  },
};

export type BaselineActivities = typeof baselineActivities;

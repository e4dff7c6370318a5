import type { Queue } from 'bullmq';

export const HR_RECONCILIATION_SCHEDULER_ID = 'hr-reconciliation';

/** Creates or updates the repeating reconciliation job (one scheduler however many workers call this). */
export async function scheduleHrReconciliation(queue: Queue, everyMs: number): Promise<void> {
  await queue.upsertJobScheduler(HR_RECONCILIATION_SCHEDULER_ID, { every: everyMs }, { name: 'hr-reconciliation', data: {}, opts: { removeOnComplete: 50, removeOnFail: 50 } });
}

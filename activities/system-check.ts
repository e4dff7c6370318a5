import { jobIdFor } from '../src/jobs/queues';
import type { ActivityDeps } from './deps';

export interface RecordSystemCheckInput {
  checkId: string;
  workflowId: string;
}

export function systemCheckActivities(deps: ActivityDeps) {
  return {
    /**
     * Writes the check through mongoose and enqueues its BullMQ job. Idempotent: a retry after a
     * crash finds the document already there and BullMQ ignores a job id it already holds.
     */
    async recordSystemCheck(input: RecordSystemCheckInput): Promise<{ jobId: string }> {
      const jobId = jobIdFor('system-check', input.checkId);
      await deps.models.SystemCheck.updateOne(
        { checkId: input.checkId },
        { $setOnInsert: { checkId: input.checkId, workflowId: input.workflowId, recordedAt: new Date(), jobId } },
        { upsert: true },
      );
      await deps.queues.systemCheck.add(
        'system-check',
        { checkId: input.checkId },
        { jobId, attempts: 3, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 7 * 86_400 } },
      );
      return { jobId };
    },
  };
}

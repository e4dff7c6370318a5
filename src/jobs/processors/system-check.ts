import type { Job } from 'bullmq';
import type { Models } from '../../db/models';

export interface SystemCheckJob {
  checkId: string;
}

/** Marks the system check completed; running it twice leaves the first completion time. */
export function systemCheckProcessor(models: Models) {
  return async (job: Job<SystemCheckJob>): Promise<{ checkId: string }> => {
    await models.SystemCheck.updateOne(
      { checkId: job.data.checkId, jobCompletedAt: { $exists: false } },
      { $set: { jobCompletedAt: new Date() } },
    );
    return { checkId: job.data.checkId };
  };
}

import type { Job } from 'bullmq';
import { runInvitationSweep, type InvitationSweepDeps, type InvitationSweepResult } from '../invitation-sweep';

/** Runs one invitation-expiry sweep per scheduled job; its counts are the job's return value. */
export function invitationSweepProcessor(deps: InvitationSweepDeps) {
  return async (_job: Job): Promise<InvitationSweepResult> => runInvitationSweep(deps);
}

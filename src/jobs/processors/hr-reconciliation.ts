/**
 * The safety net behind HR intake: every user whom the HR system reports terminated but who is
 * still active or pending, with no running offboarding, gets one. It looks at the store as it
 * is now, with no time window, so a termination whose webhook was lost is found however old.
 */
import type { Client } from '@temporalio/client';
import type { Models } from '../../db/models';
import type { Logger } from '../../logger';
import { offboardingRunning } from '../../processes/offboarding';
import { requestOffboarding } from '../../services/offboarding-requests';

export interface HrReconciliationDeps {
  models: Models;
  temporal: Client;
  taskQueue: string;
  terminationLockout: boolean;
  logger: Logger;
}

export interface ReconciliationReport {
  scanned: number;
  started: number;
  alreadyRunning: number;
  failed: number;
  /** Users for whom an offboarding was started by this run. */
  startedUserIds: string[];
}

export async function reconcileHrTerminations(deps: HrReconciliationDeps): Promise<ReconciliationReport> {
  const report: ReconciliationReport = { scanned: 0, started: 0, alreadyRunning: 0, failed: 0, startedUserIds: [] };
  const cursor = deps.models.User.find({ hrStatus: 'terminated', status: { $in: ['active', 'pending'] } }, { _id: 1, email: 1 }).lean().cursor();
  for await (const user of cursor) {
    report.scanned += 1;
    const userId = String(user._id);
    try {
      if (await offboardingRunning(deps.temporal, userId)) {
        report.alreadyRunning += 1;
        continue;
      }
      await requestOffboarding(
        deps,
        user,
        { requestedBy: { type: 'hr' }, actor: { type: 'hr' }, source: 'hr', context: { by: 'reconciliation' } },
        { reason: 'Terminated in the HR system; found still active by the reconciliation sweep.', immediateLockout: deps.terminationLockout },
      );
      report.started += 1;
      report.startedUserIds.push(userId);
    } catch (err) {
      // One user's failure must not hide the others; the next run tries again.
      report.failed += 1;
      deps.logger.error({ err, userId, email: user.email }, 'reconciliation could not start an offboarding');
    }
  }
  deps.logger.info({ scanned: report.scanned, started: report.started, alreadyRunning: report.alreadyRunning, failed: report.failed }, 'hr reconciliation finished');
  return report;
}

export function hrReconciliationProcessor(deps: HrReconciliationDeps) {
  return async (): Promise<ReconciliationReport> => reconcileHrTerminations(deps);
}

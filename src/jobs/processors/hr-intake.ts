/**
 * Applies queued HR events: hired → the invitation every way in makes (inviteUser: the pending
 * user, then the onboarding), terminated → the offboarding request every way in makes
 * (requestOffboarding), manager change → user updated. Processes are started through their business-key workflow ids, so an event
 * delivered twice (or by HR and SCIM at once) makes one process. What retrying cannot fix goes
 * to the dead-letter list and fails the job without further attempts; anything else (Temporal
 * or the store unreachable) is thrown and retried with exponential backoff.
 */
import type { Client } from '@temporalio/client';
import { UnrecoverableError, type Job } from 'bullmq';
import type { Models } from '../../db/models';
import { normalizeEmail } from '../../domain/email';
import { lastDayToEffectiveDate } from '../../domain/time-zone';
import { AppError } from '../../errors';
import { deadLetterHrEvent, type DeadLetterReason } from '../../hr/dead-letters';
import { findUserForEmployee } from '../../hr/employees';
import type { HrIntakeJob } from '../../hr/events';
import type { Logger } from '../../logger';
import { recordAudit } from '../../services/audit';
import { inviteUser } from '../../services/invite-user';
import { requestOffboarding } from '../../services/offboarding-requests';
import type { StoredUser } from '../../services/users';

export interface HrIntakeDeps {
  models: Models;
  temporal: Client;
  taskQueue: string;
  /** HR_TERMINATION_LOCKOUT: lock the leaver out at once instead of on the last day. */
  terminationLockout: boolean;
  /** ORGANIZATION_TIME_ZONE: the last day ends at the end of that day there (default UTC). */
  timeZone?: string;
  logger: Logger;
}

export type HrIntakeOutcome =
  | { outcome: 'onboarding_started' | 'offboarding_started'; workflowId: string; started: boolean }
  | { outcome: 'already_exists' | 'already_deactivated' | 'manager_changed' | 'unchanged'; userId: string };

const HR_ACTOR = { type: 'hr' as const };

export function hrIntakeProcessor(deps: HrIntakeDeps) {
  return async (job: Job<HrIntakeJob>): Promise<HrIntakeOutcome> => {
    const { event } = job.data;
    const jobId = job.id!;
    const refuse = async (reason: DeadLetterReason, message: string): Promise<never> => {
      await deadLetterHrEvent(deps.models, deps.logger, { jobId, job: job.data, reason, message });
      throw new UnrecoverableError(message);
    };
    // A refusal by the process itself (4xx: plan limit, invalid state) will not change on retry.
    const permanent = async <T>(start: () => Promise<T>): Promise<T> => {
      try {
        return await start();
      } catch (err) {
        if (err instanceof AppError && err.status < 500) return refuse('start_refused', `${event.type} ${event.eventId}: ${err.message}`);
        throw err;
      }
    };

    const user = await findUserForEmployee(deps.models, event.employee);

    if (event.type === 'employee.hired') {
      if (user && user.status !== 'deactivated') {
        await linkEmployee(deps.models, user, event.employee.id, 'employed');
        return { outcome: 'already_exists', userId: String(user._id) };
      }
      const email = event.employee.email ?? user?.email;
      if (!email) return refuse('missing_email', `Hire ${event.eventId} of HR employee ${event.employee.id} has no work email to invite.`);
      const manager = event.employee.managerEmail ? await deps.models.User.findOne({ email: normalizeEmail(event.employee.managerEmail) }, { _id: 1 }).lean() : null;
      // The invitation of the API, Slack and SCIM: the pending user at once (a refusal is dead-lettered), then the onboarding.
      const { process: started } = await permanent(() =>
        inviteUser(
          deps,
          { email, firstName: event.employee.firstName, lastName: event.employee.lastName, managerId: manager ? String(manager._id) : undefined, hrEmployeeId: event.employee.id },
          HR_ACTOR,
          { requestedBy: HR_ACTOR, source: 'hr' },
        ),
      );
      return { outcome: 'onboarding_started', workflowId: started.workflowId, started: started.started };
    }

    if (!user) {
      return refuse('unknown_employee', `HR ${event.type} ${event.eventId}: no user has HR employee id ${event.employee.id}${event.employee.email ? ` or email ${event.employee.email}` : ''}.`);
    }

    if (event.type === 'employee.terminated') {
      // Recorded before anything else: if the start below fails for good, the reconciliation sweep still sees it.
      await linkEmployee(deps.models, user, event.employee.id, 'terminated');
      if (user.status === 'deactivated') return { outcome: 'already_deactivated', userId: String(user._id) };
      // The last working day ends at its end in the organization's zone, not at its UTC start.
      let effectiveDate: string | undefined;
      try {
        effectiveDate = event.employee.lastDay ? lastDayToEffectiveDate(event.employee.lastDay, deps.timeZone ?? 'UTC') : undefined;
      } catch (err) {
        return refuse('start_refused', `HR termination ${event.eventId}: ${(err as Error).message}.`);
      }
      // The same request (and audit entry) as a person's, with the HR provider as actor.
      const started = await permanent(() =>
        requestOffboarding(
          deps,
          user,
          { requestedBy: HR_ACTOR, actor: HR_ACTOR, source: 'hr', context: { provider: job.data.provider, eventId: event.eventId } },
          {
            reason: `Terminated in the HR system (${job.data.provider} event ${event.eventId}).`,
            effectiveDate,
            immediateLockout: deps.terminationLockout,
            // When the event arrived, so the time to the lockout can be measured where it lands.
            hrReceivedAt: job.data.receivedAt,
          },
        ),
      );
      return { outcome: 'offboarding_started', workflowId: started.workflowId, started: started.started };
    }

    // employee.updated: the manager is what tenure keeps from the HR record.
    await linkEmployee(deps.models, user, event.employee.id);
    const managerEmail = event.employee.managerEmail;
    if (!managerEmail) return { outcome: 'unchanged', userId: String(user._id) };
    const manager = await deps.models.User.findOne({ email: normalizeEmail(managerEmail) }, { _id: 1, email: 1 }).lean();
    if (!manager) return refuse('unknown_manager', `HR update ${event.eventId}: the new manager ${managerEmail} of ${user.email} is not a user.`);
    if (manager._id.equals(user._id) || user.managerId?.equals(manager._id)) return { outcome: 'unchanged', userId: String(user._id) };
    // Compare-and-set: a retried job finds the manager already set and writes no second audit entry.
    const changed = await deps.models.User.updateOne({ _id: user._id, managerId: user.managerId ?? { $exists: false } }, { $set: { managerId: manager._id } });
    if (changed.modifiedCount === 0) return { outcome: 'unchanged', userId: String(user._id) };
    await recordAudit(deps.models, {
      action: 'user.manager_changed',
      actor: HR_ACTOR,
      target: { id: user._id, email: user.email },
      details: { from: user.managerId ? String(user.managerId) : null, to: String(manager._id), provider: job.data.provider, eventId: event.eventId },
    });
    return { outcome: 'manager_changed', userId: String(user._id) };
  };
}

/** Remembers the HR employee id (first match by email) and what HR says of the person. */
async function linkEmployee(models: Models, user: StoredUser, hrEmployeeId: string, hrStatus?: 'employed' | 'terminated'): Promise<void> {
  const set: Record<string, unknown> = {};
  if (!user.hrEmployeeId) set.hrEmployeeId = hrEmployeeId;
  if (hrStatus && user.hrStatus !== hrStatus) set.hrStatus = hrStatus;
  if (Object.keys(set).length) await models.User.updateOne({ _id: user._id }, { $set: set });
}

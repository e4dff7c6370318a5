/** The dead-letter list of HR events that could not be applied, with its audit entry and alert. */
import type { Models } from '../db/models';
import type { HrDeadLetter } from '../db/models/hr-dead-letter';
import type { Logger } from '../logger';
import { recordAudit } from '../services/audit';
import { claimReplay, listDeadLettersOf, markReplayed } from '../services/dead-letters';
import { hrEventSchema, isHrProvider, type HrIntakeJob } from './events';

export type DeadLetterReason = 'unknown_employee' | 'unknown_manager' | 'missing_email' | 'start_refused';

/** Records the event once per job (a retried job does not add a second entry) and raises the alert. */
export async function deadLetterHrEvent(
  models: Models,
  logger: Logger,
  input: { jobId: string; job: HrIntakeJob; reason: DeadLetterReason; message: string },
): Promise<void> {
  const { job } = input;
  const at = new Date();
  await models.HrDeadLetter.updateOne(
    { jobId: input.jobId },
    {
      $setOnInsert: {
        jobId: input.jobId,
        provider: job.provider,
        eventId: job.event.eventId,
        eventType: job.event.type,
        occurredAt: job.event.occurredAt,
        employee: job.event.employee,
        reason: input.reason,
        message: input.message,
        receivedAt: new Date(job.receivedAt),
        at,
      },
    },
    { upsert: true },
  );
  await recordAudit(models, {
    action: 'hr.event_dead_lettered',
    actor: { type: 'hr' },
    target: { email: job.event.employee.email },
    eventKey: `hr-dead-letter:${input.jobId}`,
    details: { provider: job.provider, eventId: job.event.eventId, type: job.event.type, hrEmployeeId: job.event.employee.id, reason: input.reason },
  });
  // The alert: operators page on error-level logs of the intake.
  logger.error({ alert: 'hr_event_dead_lettered', jobId: input.jobId, provider: job.provider, eventId: job.event.eventId, type: job.event.type, reason: input.reason }, input.message);
}

export async function listDeadLetters(models: Models, options: { limit: number; before?: Date }) {
  return listDeadLettersOf<HrDeadLetter>(models.HrDeadLetter, options);
}

/**
 * A dead letter taken up for a replay: the stored event as the intake job it was, and the id of
 * the new intake job (`<job id>-replay-<n>`, counted atomically so concurrent replays differ:
 * the original id is kept by the queue and would be ignored). Undefined when there is none.
 */
export async function claimDeadLetterReplay(models: Models, jobId: string): Promise<{ job: HrIntakeJob; replayJobId: string } | undefined> {
  const claimed = await claimReplay<HrDeadLetter>(models.HrDeadLetter, jobId);
  if (!claimed) return undefined;
  const { letter, replayJobId } = claimed;
  const receivedAt = letter.receivedAt ?? letter.at;
  const event = hrEventSchema.parse({ eventId: letter.eventId, type: letter.eventType, occurredAt: letter.occurredAt ?? receivedAt.toISOString(), employee: letter.employee });
  if (!isHrProvider(letter.provider)) throw new Error(`dead letter ${jobId} names an unknown HR provider "${letter.provider}"`);
  return { job: { provider: letter.provider, event, receivedAt: receivedAt.toISOString() }, replayJobId };
}

/** Records that the replay's intake job is queued. */
export async function markDeadLetterReplayed(models: Models, jobId: string, replayJobId: string): Promise<void> {
  await markReplayed(models.HrDeadLetter, jobId, replayJobId);
}

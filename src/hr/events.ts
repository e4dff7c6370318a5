/**
 * The generic HR event: the one shape the intake processor understands. Every provider's
 * payload is mapped to it before it is queued.
 */
import { z } from 'zod';
import { emailAddress } from '../domain/email';
import { isLastDay } from '../domain/time-zone';

const HR_EVENT_TYPES = ['employee.hired', 'employee.terminated', 'employee.updated'] as const;
export type HrEventType = (typeof HR_EVENT_TYPES)[number];

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, 'must be an ISO date (YYYY-MM-DD) or date-time');

const hrEmployeeSchema = z.object({
  /** The HR system's employee id; matched against user.hrEmployeeId first. */
  id: z.string().trim().min(1).max(128),
  email: emailAddress.optional(),
  firstName: z.string().max(200).optional(),
  lastName: z.string().max(200).optional(),
  /** Empty string clears nothing: an absent or empty manager is left as it is. */
  managerEmail: z.union([emailAddress, z.literal('')]).optional(),
  /** Last working day; the offboarding waits for its end in the organization's time zone. */
  lastDay: isoDate.refine(isLastDay, 'must be a real calendar date (YYYY-MM-DD) or date-time').optional(),
});

export const hrEventSchema = z.object({
  /** Unique per event in the sender's system; redeliveries repeat it. */
  eventId: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9_.:@-]+$/, 'letters, digits and _ . : @ - only'),
  type: z.enum(HR_EVENT_TYPES),
  occurredAt: z.iso.datetime({ offset: true }),
  employee: hrEmployeeSchema,
});

export type HrEmployee = z.infer<typeof hrEmployeeSchema>;
export type HrEvent = z.infer<typeof hrEventSchema>;

const HR_PROVIDERS = ['generic', 'bamboohr', 'personio'] as const;
export type HrProvider = (typeof HR_PROVIDERS)[number];

export function isHrProvider(value: string): value is HrProvider {
  return (HR_PROVIDERS as readonly string[]).includes(value);
}

/** What an intake job carries. */
export interface HrIntakeJob {
  provider: HrProvider;
  event: HrEvent;
  receivedAt: string;
  /** The webhook request's trace context (W3C headers), when tracing is on: the job's span continues it. */
  trace?: Record<string, string>;
}

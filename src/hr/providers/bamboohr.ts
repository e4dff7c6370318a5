/**
 * BambooHR webhooks. BambooHR signs each POST with the webhook's private key: `X-BambooHR-Signature`
 * is the hex HMAC-SHA256 of the raw body followed by the value of `X-BambooHR-Timestamp`
 * (documentation.bamboohr.com/docs/webhooks, "Security"). The body lists changed employees:
 *
 *   { "employees": [ { "id": "123", "action": "Updated", "timestamp": "...",
 *                      "changedFields": ["Employment Status"],
 *                      "fields": { "Work Email": "...", "Employment Status": "Terminated", ... } } ] }
 *
 * Field names are BambooHR's English names by default, or the API names a permissioned webhook
 * posts; both are read. BambooHR sends no event id, so one is derived from the employee entry:
 * a retried delivery carries the same entry and gets the same id.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { UnauthorizedError } from '../../errors';
import { hrEventSchema, type HrEvent, type HrEventType } from '../events';
import { assertFreshTimestamp, headerValue, hmacSha256Hex, signatureMatches } from '../signatures';
import { parseJsonBody, validateBody } from './parse-json';
import type { HrProviderAdapter } from './types';

const BAMBOOHR_SIGNATURE_HEADER = 'x-bamboohr-signature';
const BAMBOOHR_TIMESTAMP_HEADER = 'x-bamboohr-timestamp';

export function signBambooHr(secret: string, timestamp: string, rawBody: string | Buffer): string {
  return hmacSha256Hex(secret, rawBody, timestamp);
}

const fieldValue = z.union([z.string(), z.number(), z.null()]).optional();
const bambooBodySchema = z.object({
  employees: z
    .array(
      z.object({
        id: z.union([z.string().min(1), z.number()]).transform(String),
        action: z.string().optional(),
        timestamp: z.string().optional(),
        changedFields: z.array(z.string()).optional(),
        fields: z.record(z.string(), fieldValue).default({}),
      }),
    )
    .min(1)
    .max(500),
});
type BambooEmployee = z.infer<typeof bambooBodySchema>['employees'][number];

const FIELD_NAMES = {
  firstName: ['First Name', 'firstName'],
  lastName: ['Last Name', 'lastName'],
  email: ['Work Email', 'workEmail'],
  employmentStatus: ['Employment Status', 'employmentStatus', 'employmentHistoryStatus'],
  terminationDate: ['Termination Date', 'terminationDate', 'Employment Status: Date', 'employmentStatusDate'],
  managerEmail: ['Supervisor Email', 'supervisorEmail'],
} as const;

function field(entry: BambooEmployee, key: keyof typeof FIELD_NAMES): string | undefined {
  for (const name of FIELD_NAMES[key]) {
    const value = entry.fields[name];
    if (value !== undefined && value !== null && String(value).trim() !== '') return String(value).trim();
  }
  return undefined;
}

function eventType(entry: BambooEmployee): HrEventType {
  if (entry.action?.toLowerCase() === 'created') return 'employee.hired';
  const status = field(entry, 'employmentStatus')?.toLowerCase();
  const statusChanged = !entry.changedFields || entry.changedFields.some((f) => (FIELD_NAMES.employmentStatus as readonly string[]).includes(f));
  if (status === 'terminated' && statusChanged) return 'employee.terminated';
  return 'employee.updated';
}

function mapBambooEmployee(entry: BambooEmployee, deliveredAt: number): unknown {
  const digest = createHash('sha256').update(JSON.stringify(entry)).digest('hex').slice(0, 24);
  const occurred = entry.timestamp && !Number.isNaN(Date.parse(entry.timestamp)) ? new Date(entry.timestamp) : new Date(deliveredAt);
  const lastDay = field(entry, 'terminationDate');
  return {
    eventId: `bamboohr-${entry.id}-${digest}`,
    type: eventType(entry),
    occurredAt: occurred.toISOString(),
    employee: {
      id: entry.id,
      email: field(entry, 'email'),
      firstName: field(entry, 'firstName'),
      lastName: field(entry, 'lastName'),
      managerEmail: field(entry, 'managerEmail'),
      lastDay: lastDay && /^\d{4}-\d{2}-\d{2}$/.test(lastDay) ? lastDay : undefined,
    },
  };
}

export const bambooHrProvider: HrProviderAdapter = {
  name: 'bamboohr',
  secret: (config) => config.HR_BAMBOOHR_SECRET,
  authenticate({ headers, rawBody, now }, secret) {
    const timestamp = headerValue(headers, BAMBOOHR_TIMESTAMP_HEADER);
    const signature = headerValue(headers, BAMBOOHR_SIGNATURE_HEADER);
    if (!signature) throw new UnauthorizedError('The request has no X-BambooHR-Signature header.', 'missing_signature');
    if (!signatureMatches(signature.trim(), signBambooHr(secret, timestamp ?? '', rawBody))) {
      throw new UnauthorizedError('The X-BambooHR-Signature does not match the body and timestamp.', 'invalid_signature');
    }
    assertFreshTimestamp(timestamp, now);
  },
  parse({ rawBody, now }): HrEvent[] {
    const body = validateBody(bambooBodySchema, parseJsonBody(rawBody), 'BambooHR webhook');
    return body.employees.map((entry, i) => validateBody(hrEventSchema, mapBambooEmployee(entry, now), `BambooHR employee #${i + 1}`));
  },
};

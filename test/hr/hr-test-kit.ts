/** Signed HR deliveries for the tests and the bench. */
import { randomUUID } from 'node:crypto';
import { signBambooHr, signGeneric } from '../../src/hr/providers';
import type { HrEvent } from '../../src/hr/events';

export const GENERIC_SECRET = 'generic-test-secret-0123456789abcdef';
export const BAMBOOHR_SECRET = 'bamboohr-test-private-key-0123456789';
export const PERSONIO_TOKEN = 'personio-test-token-0123456789abcdef';

export const HR_TEST_CONFIG = {
  HR_GENERIC_SECRET: GENERIC_SECRET,
  HR_BAMBOOHR_SECRET: BAMBOOHR_SECRET,
  HR_PERSONIO_TOKEN: PERSONIO_TOKEN,
  HR_INTAKE_BACKOFF: 100,
};

export function hrEvent(type: HrEvent['type'], employee: Partial<HrEvent['employee']> & { id?: string } = {}, eventId = `evt-${randomUUID()}`): HrEvent {
  return { eventId, type, occurredAt: new Date().toISOString(), employee: { id: employee.id ?? `E${randomUUID().slice(0, 6)}`, ...employee } };
}

export function signedGeneric(event: unknown, options: { secret?: string; timestamp?: number; body?: string } = {}) {
  const payload = options.body ?? JSON.stringify(event);
  const timestamp = String(Math.floor((options.timestamp ?? Date.now()) / 1000));
  return {
    method: 'POST' as const,
    url: '/webhooks/hr/generic',
    headers: {
      'content-type': 'application/json',
      'x-tenure-timestamp': timestamp,
      'x-tenure-signature': signGeneric(options.secret ?? GENERIC_SECRET, timestamp, payload),
    },
    payload,
  };
}

export function signedBambooHr(body: unknown, options: { secret?: string; timestamp?: number } = {}) {
  const payload = JSON.stringify(body);
  const timestamp = String(Math.floor((options.timestamp ?? Date.now()) / 1000));
  return {
    method: 'POST' as const,
    url: '/webhooks/hr/bamboohr',
    headers: { 'content-type': 'application/json', 'x-bamboohr-timestamp': timestamp, 'x-bamboohr-signature': signBambooHr(options.secret ?? BAMBOOHR_SECRET, timestamp, payload) },
    payload,
  };
}

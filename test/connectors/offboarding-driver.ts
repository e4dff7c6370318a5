/**
 * Drives an offboarding of a seeded organization through the real API, as the manager: start it,
 * act on it (approve, reject, undo, retry-systems…), and wait for a status, saying where it stood
 * when the wait runs out. Shared by the offboarding tests with connected systems.
 */
import type { Client } from '@temporalio/client';
import { expect } from 'vitest';
import type { App } from '../../src/http/app';
import { getOffboardingProgress } from '../../src/processes/offboarding';
import type { OffboardingProgress } from '../../workflows/offboarding-messages';
import { eventually } from '../helpers/context';
import type { Org } from '../offboarding/fixtures';

/** `using()` gives the app and Temporal client once the test file's set-up has made them. */
export function offboardingDriver(using: () => { app: App; client: Client }) {
  return {
    async start(org: Org, payload: Record<string, unknown> = { reason: 'leaving the company' }): Promise<void> {
      const res = await using().app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user.email}/offboarding`, headers: org.manager.auth, payload });
      expect(res.statusCode, res.body).toBe(202);
    },

    act(org: Org, action: string, payload: Record<string, unknown> = {}) {
      return using().app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user._id}/offboarding/${action}`, headers: org.manager.auth, payload });
    },

    async waitForStatus(org: Org, wanted: Array<OffboardingProgress['status']>, timeoutMs = 60_000): Promise<OffboardingProgress> {
      let last: OffboardingProgress | undefined;
      try {
        return await eventually(`offboarding to be ${wanted.join('|')}`, async () => {
          last = await getOffboardingProgress(using().client, String(org.leaver.user._id));
          return wanted.includes(last.status) ? last : undefined;
        }, timeoutMs);
      } catch (err) {
        throw new Error(`${(err as Error).message}; last progress: ${JSON.stringify({ status: last?.status, steps: last?.steps, systems: last?.systems })}`);
      }
    },
  };
}

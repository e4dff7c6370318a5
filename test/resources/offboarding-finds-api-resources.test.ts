/**
 * What the platform's services register through the API is what offboarding transfers: a
 * resource created before the offboarding is in the plan, one created while it waits for approval
 * is found by the transfer round (ownership is re-read), and once the leaver is deactivated no
 * new resource can be given to them. Real worker, real Temporal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOffboardingProgress } from '../../src/processes/offboarding';
import type { OffboardingProgress } from '../../workflows/offboarding-messages';
import { eventually } from '../helpers/context';
import { withWorker } from '../helpers/temporal';
import { seedOrg, setPolicy } from '../offboarding/fixtures';
import { json, openHarness, type Harness } from '../users/harness';

let h: Harness;

beforeAll(async () => {
  h = await openHarness('resoffboard');
  await setPolicy(h.ctx.models, { approvalRequired: true, retentionMs: null });
});

afterAll(async () => {
  await h?.close();
});

async function waitFor(userId: string, statuses: Array<OffboardingProgress['status']>): Promise<OffboardingProgress> {
  return eventually(`offboarding to be ${statuses.join('|')}`, async () => {
    const p = await getOffboardingProgress(h.client, userId).catch(() => undefined);
    return p && statuses.includes(p.status) ? p : undefined;
  }, 30_000);
}

describe('offboarding and resources registered through the API', () => {
  it('transfers a resource created before the offboarding and one created while it waits for approval', async () => {
    const org = await seedOrg(h.ctx.models, { resources: 1 });
    const leaverId = String(org.leaver.user._id);
    const issued = await h.app.inject({ method: 'POST', url: '/v1/service-credentials', headers: org.admin.auth, payload: { name: 'CI' } });
    const service = { authorization: `Bearer ${json(issued).credential}` };
    const register = (name: string) => h.app.inject({ method: 'POST', url: '/v1/resources', headers: service, payload: { kind: 'pipeline', name, ownerId: leaverId, createdBy: leaverId } });

    const before = await register('registered-before');
    expect(before.statusCode, before.body).toBe(201);

    await withWorker(h.ctx, async () => {
      const started = await h.app.inject({ method: 'POST', url: `/v1/users/${leaverId}/offboarding`, headers: org.manager.auth, payload: { reason: 'leaving', immediateLockout: true } });
      expect(started.statusCode, started.body).toBe(202);
      const waiting = await waitFor(leaverId, ['awaiting_approval']);
      expect(waiting.plan!.resources.map((r) => r.id)).toContain(json(before)._id);
      expect(waiting.plan!.resources).toHaveLength(2);

      // Registered after the plan was made, while the leaver is locked out but still active.
      const during = await register('registered-during');
      expect(during.statusCode, during.body).toBe(201);

      const approved = await h.app.inject({ method: 'POST', url: `/v1/users/${leaverId}/offboarding/approve`, headers: org.manager.auth, payload: { planVersion: waiting.plan!.version } });
      expect(approved.statusCode, approved.body).toBe(200);
      const done = await waitFor(leaverId, ['completed', 'completed_with_access_left_behind', 'failed']);
      expect(done.status).toBe('completed');
      expect(done.verification).toMatchObject({ clean: true, owned: 0, status: 'deactivated' });
      expect(done.resources).toMatchObject({ done: 3, total: 3, failed: [] });

      for (const id of [json(before)._id, json(during)._id]) {
        const stored = await h.ctx.models.Resource.findById(id).lean();
        expect(String(stored!.ownerId)).toBe(String(org.manager.user._id));
        expect(stored!.transfers).toHaveLength(1);
        expect(stored!.transfers[0]!.processId).toBe(done.workflowId);
        // The service stays recorded as the one that registered it, the leaver as creator.
        expect(String(stored!.createdBy)).toBe(leaverId);
        expect(stored!.createdByService).toBeTruthy();
      }
    });

    // Deactivated now: nothing new can be given to the leaver, and nothing is written.
    const count = await h.ctx.models.Resource.countDocuments({});
    const after = await register('registered-after');
    expect(after.statusCode, after.body).toBe(422);
    expect(json(after).error.code).toBe('owner_inactive');
    expect(await h.ctx.models.Resource.countDocuments({})).toBe(count);
  });
});

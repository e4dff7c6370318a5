/**
 * The real worker process is killed with SIGKILL in the middle of the transfers; a new worker
 * process finishes. Every resource ends with exactly one owner and exactly one transfer record.
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offboardingWorkflowId, startOffboarding } from '../../src/processes/offboarding';
import type { OffboardingProgress } from '../../workflows/offboarding-messages';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createClient } from '../helpers/temporal';
import { seedUser } from '../helpers/users';
import { setPolicy } from './fixtures';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

let ctx: TestContext;
let client: Client;
const workers: WorkerProcess[] = [];
const startWorker = async () => {
  const worker = await startWorkerProcess(ctx, { env: { LOG_LEVEL: 'info', OFFBOARDING_UNDO_GRACE: '1s' } });
  workers.push(worker);
  return worker;
};

beforeAll(async () => {
  ctx = await createTestContext('offcrash');
  client = await createClient(ctx);
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await client?.connection.close();
  await ctx?.close();
});

describe('offboarding survives a killed worker', () => {
  it('finishes the transfers in a new worker process with exactly one transfer per resource', async () => {
    await setPolicy(ctx.models, { approvalRequired: false, retentionMs: null });
    const manager = await seedUser(ctx.models, { email: 'crash-manager@example.com' });
    const leaver = await seedUser(ctx.models, { email: 'crash-leaver@example.com', managerId: manager.user._id });
    const total = 200;
    await ctx.models.Resource.insertMany(Array.from({ length: total }, (_, i) => ({ kind: 'task', name: `crash-${i}`, ownerId: leaver.user._id, createdBy: leaver.user._id })));

    const first = await startWorker();
    const started = await startOffboarding(client, ctx.taskQueue, { userId: String(leaver.user._id), reason: 'crash test', requestedBy: { type: 'system' }, source: 'api' });
    expect(started.started).toBe(true);

    await eventually('some resources to be transferred', async () => (await ctx.models.Resource.countDocuments({ ownerId: manager.user._id })) >= 10, 60_000);
    await first.kill();
    const atKill = await ctx.models.Resource.countDocuments({ ownerId: leaver.user._id });
    // The kill landed in the middle of the transfers.
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(total);

    const second = await startWorker();
    const handle = client.workflow.getHandle(offboardingWorkflowId(String(leaver.user._id)));
    const result = (await handle.result()) as OffboardingProgress;
    expect(result.status, JSON.stringify({ resources: result.resources, steps: result.steps })).toBe('completed');
    expect(result.resources.done).toBe(total);

    const resources = await ctx.models.Resource.find({ name: /^crash-/ }).lean();
    expect(resources).toHaveLength(total);
    for (const r of resources) {
      expect(String(r.ownerId)).toBe(String(manager.user._id));
      expect(r.transfers).toHaveLength(1);
    }
    // Recorded once each, even for the transfer the kill interrupted between its write and its audit event.
    const audits = await ctx.models.AuditEvent.find({ action: 'resource.transferred', processId: started.workflowId }).lean();
    expect(audits).toHaveLength(total);
    expect(new Set(audits.map((a) => (a.details as { resourceId: string }).resourceId)).size).toBe(total);
    expect((await ctx.models.User.findById(leaver.user._id).lean())!.status).toBe('deactivated');
    await second.stop();
  }, 120_000);
});

/**
 * Records histories of the offboarding workflows into test/replay/histories/, for the replay
 * test that fails when a later edit would break running offboardings. Run once after a
 * deliberate, versioned change: `npx tsx scripts/record-history-offboarding.ts [DIR]` (DIR: write
 * there instead, to add histories of the new version beside the old ones rather than replace them).
 * Uses the servers of TEMPORAL_ADDRESS / REDIS_URL / MONGODB_URI, or starts local ones.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Types } from 'mongoose';
import type { Models } from '../src/db/models';
import { issueAccessToken } from '../src/security/access-tokens';
import { createSession } from '../src/services/sessions';
import { actOnOffboarding, offboardingWorkflowId, startOffboarding } from '../src/processes/offboarding';
import { startReactivation } from '../src/processes/reactivation';
import { historyToJson } from '../test/replay/history-json';
import { progressQuery, type Caller, type OffboardingStatus } from '../workflows/offboarding-messages';
import { startScratchSystem } from './lib/scratch-system';

const OUT_DIR = process.argv[2] ?? fileURLToPath(new URL('../test/replay/histories/', import.meta.url));

async function waitFor(fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

async function seedLeaver(models: Models, name: string, managerId: Types.ObjectId, resources = 3) {
  const leaver = await models.User.create({ email: `${name}@example.com`, status: 'active', siteRole: 'Users', managerId });
  await createSession(models, leaver._id, {}, { type: 'system' });
  await issueAccessToken(models, leaver._id);
  for (let i = 0; i < resources; i++) await models.Resource.create({ kind: 'pipeline', name: `${name}-${i}`, ownerId: leaver._id, createdBy: leaver._id });
  return leaver;
}

/** Waits for each run to end and writes its history. */
async function writeHistories(histories: Record<string, WorkflowHandle>): Promise<void> {
  for (const [name, handle] of Object.entries(histories)) {
    await handle.result();
    const history = await handle.fetchHistory();
    writeFileSync(join(OUT_DIR, `${name}.json`), `${JSON.stringify(historyToJson(history), null, 1)}\n`);
    process.stdout.write(`recorded ${name} (${history.events?.length} events)\n`);
  }
}

/** Short timers from the worker's settings, as the tests run them; the undo window as given. */
const shortTimings = (undoGraceMs: number) => ({ approvalReminderMs: 1_000, approvalEscalationMs: 2_000, undoGraceMs });

async function main(): Promise<void> {
  const system = await startScratchSystem('record-offboarding');
  const { models, client, taskQueue } = system;
  try {
    await models.OrgSettings.updateOne({ _id: 'org' }, { $set: { 'offboarding.approvalRequired': true, 'offboarding.retentionMs': null } }, { upsert: true });
    const admin = await models.User.create({ email: 'admin@example.com', status: 'active', siteRole: 'Administrators' });
    const manager = await models.User.create({ email: 'manager@example.com', status: 'active', siteRole: 'Users' });
    const spare = await models.User.create({ email: 'spare@example.com', status: 'active', siteRole: 'Users' });
    const adminCaller: Caller = { id: String(admin._id), role: 'Administrators', email: admin.email };
    const managerCaller: Caller = { id: String(manager._id), role: 'Users', email: manager.email };
    const requestedBy = { type: 'user' as const, id: String(admin._id), email: admin.email };
    const progressOf = (userId: string) => client.workflow.getHandle(offboardingWorkflowId(userId)).query(progressQuery);
    const statusIs = (userId: string, status: OffboardingStatus) => () => progressOf(userId).then((p) => p.status === status);
    /** The plan has read the organization's settings (later changes no longer apply to this run). */
    const planned = (userId: string) => () => progressOf(userId).then((p) => p.steps.some((st) => st.name === 'plan' && st.state === 'done'));

    await system.withWorker({ offboarding: shortTimings(1_500) }, async () => {
      const histories: Record<string, WorkflowHandle> = {};
      // Approved: lockout, reminder and escalation, owner change, approval, transfers, undo window closes.
      {
        const leaver = await seedLeaver(models, 'approved', manager._id);
        const id = String(leaver._id);
        await startOffboarding(client, taskQueue, { userId: id, reason: 'leaving', requestedBy, source: 'api', immediateLockout: true });
        await waitFor(statusIs(id, 'awaiting_approval'));
        await new Promise((r) => setTimeout(r, 2_500));
        const changed = await actOnOffboarding(client, id, managerCaller, { action: 'change-owner', newOwnerId: String(spare._id) });
        await actOnOffboarding(client, id, managerCaller, { action: 'approve', planVersion: changed.planVersion! });
        histories['offboarding-approved'] = client.workflow.getHandle(offboardingWorkflowId(id));
      }
      // Rejected: lockout undone.
      {
        const leaver = await seedLeaver(models, 'rejected', manager._id);
        const id = String(leaver._id);
        await startOffboarding(client, taskQueue, { userId: id, reason: 'leaving', requestedBy, source: 'slack', immediateLockout: true });
        await waitFor(statusIs(id, 'awaiting_approval'));
        await actOnOffboarding(client, id, adminCaller, { action: 'reject', reason: 'stays' });
        histories['offboarding-rejected'] = client.workflow.getHandle(offboardingWorkflowId(id));
      }
      // Cancelled during the effective-date wait.
      {
        const leaver = await seedLeaver(models, 'cancelled', manager._id);
        const id = String(leaver._id);
        await startOffboarding(client, taskQueue, { userId: id, reason: 'leaving', requestedBy, source: 'hr', effectiveDate: new Date(Date.now() + 3_600_000).toISOString() });
        await waitFor(statusIs(id, 'waiting_effective_date'));
        await actOnOffboarding(client, id, adminCaller, { action: 'cancel' });
        histories['offboarding-cancelled'] = client.workflow.getHandle(offboardingWorkflowId(id));
      }
      // Deleted after retention (no approval required); and a reactivation that stops another
      // one's retention (a longer one, read by its plan, so the reactivation comes in time).
      await models.OrgSettings.updateOne({ _id: 'org' }, { $set: { 'offboarding.approvalRequired': false, 'offboarding.retentionMs': 2_000 } });
      {
        const leaver = await seedLeaver(models, 'deleted', manager._id);
        const id = String(leaver._id);
        await startOffboarding(client, taskQueue, { userId: id, reason: 'leaving', requestedBy, source: 'api' });
        await waitFor(planned(id));
        histories['offboarding-deleted'] = client.workflow.getHandle(offboardingWorkflowId(id));
      }
      await models.OrgSettings.updateOne({ _id: 'org' }, { $set: { 'offboarding.retentionMs': 120_000 } });
      {
        const kept = await seedLeaver(models, 'reactivated', manager._id);
        const id = String(kept._id);
        await startOffboarding(client, taskQueue, { userId: id, reason: 'leaving', requestedBy, source: 'api' });
        await waitFor(statusIs(id, 'completed'));
        const reactivation = await startReactivation(client, taskQueue, { userId: id, requestedBy });
        histories['offboarding-reactivated'] = client.workflow.getHandle(offboardingWorkflowId(id));
        histories['offboarding-reactivation'] = client.workflow.getHandle(reactivation.workflowId);
      }
      await writeHistories(histories);
    });

    // Undone within the grace period: a worker whose undo window leaves time to ask.
    await system.withWorker({ offboarding: shortTimings(60_000) }, async () => {
      const leaver = await seedLeaver(models, 'undone', manager._id);
      const id = String(leaver._id);
      await startOffboarding(client, taskQueue, { userId: id, reason: 'leaving', requestedBy, source: 'api' });
      await waitFor(statusIs(id, 'completed'));
      await actOnOffboarding(client, id, adminCaller, { action: 'undo' });
      await writeHistories({ 'offboarding-undone': client.workflow.getHandle(offboardingWorkflowId(id)) });
    });
  } finally {
    await system.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});

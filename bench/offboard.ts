/**
 * Offboarding throughput and latency, beside a baseline workflow that runs the same number of
 * no-op activities on the same servers in the same run; plus the time from an immediate-lockout
 * start to the leaver's sessions being ended.
 *
 *   npm run bench:offboard                         # 500 offboardings, 5 resources each
 *   BENCH_OFFBOARDINGS=100 BENCH_LOCKOUTS=20 BENCH_IN_FLIGHT=10 npm run bench:offboard
 *
 * Runs in an organization of BENCH_USERS users (default 100,000) of whom every second owns a
 * resource, so each query meets collections of realistic size.
 * Starts its own servers (startStack) unless TEMPORAL_ADDRESS / REDIS_URL / MONGODB_URI name
 * running ones. Bounded: BENCH_TIME_LIMIT_S (default 600) stops waiting and reports what finished.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { Types } from 'mongoose';
import type { Models } from '../src/db/models';
import { startOffboarding } from '../src/processes/offboarding';
import { progressQuery, type OffboardingProgress } from '../workflows/offboarding-messages';
import { startScratchSystem } from '../scripts/lib/scratch-system';
import { BENCH_WORKFLOWS_PATH, baselineActivities } from './support/baseline';
import { POPULATION, seedPopulation } from './support/population';

const COUNT = Number(process.env.BENCH_OFFBOARDINGS ?? 500);
const RESOURCES = Number(process.env.BENCH_RESOURCES ?? 5);
const LOCKOUTS = Number(process.env.BENCH_LOCKOUTS ?? 50);
const TIME_LIMIT_MS = Number(process.env.BENCH_TIME_LIMIT_S ?? 600) * 1000;
/** Processes running at once (closed loop), the same for the offboardings and the baseline. */
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 20);

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface RunFigures {
  label: string;
  completed: number;
  wallMs: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/**
 * Runs `count` processes with IN_FLIGHT of them running at any time (a closed loop: a lane starts
 * the next one when its previous one has finished), timing each from start to result.
 */
async function runMany(label: string, count: number, start: (i: number) => Promise<WorkflowHandle>, deadline: number): Promise<RunFigures & { results: unknown[]; finished: WorkflowHandle[] }> {
  const latencies: number[] = [];
  const results: unknown[] = [];
  const finished: WorkflowHandle[] = [];
  const began = Date.now();
  let next = 0;
  let stopped = false;
  const inFlight = new Set<WorkflowHandle>();
  const lane = async () => {
    while (!stopped && next < count && Date.now() < deadline) {
      const i = next++;
      const t0 = Date.now();
      let handle: WorkflowHandle | undefined;
      try {
        handle = await start(i);
        inFlight.add(handle);
        const result = await handle.result();
        if (stopped) return;
        results.push(result);
        finished.push(handle);
        latencies.push(Date.now() - t0);
      } catch (err) {
        if (!stopped) throw err;
      } finally {
        if (handle) inFlight.delete(handle);
      }
    }
  };
  const lanes = Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref());
  await Promise.race([lanes, timeout]);
  // Past the time limit: what finished is reported; runs still going are terminated so they do not
  // load the next phase, and their lanes settle before the connection closes.
  stopped = true;
  const abandoned = inFlight.size;
  await Promise.allSettled([...inFlight].map((h) => h.terminate('benchmark time limit')));
  await lanes.catch(() => undefined);
  if (abandoned) process.stdout.write(`${label}: ${abandoned} runs still going at the time limit were terminated\n`);
  const wallMs = Date.now() - began;
  latencies.sort((a, b) => a - b);
  return { label, completed: latencies.length, wallMs, perSecond: (latencies.length / wallMs) * 1000, p50: percentile(latencies, 50), p99: percentile(latencies, 99), results, finished };
}

/** The activities a finished run scheduled, counted in its history (a retry is not a new one). */
async function activitiesScheduled(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length;
}

async function seedLeavers(models: Models, prefix: string, count: number, resources: number, managerId: Types.ObjectId): Promise<Types.ObjectId[]> {
  const users = Array.from({ length: count }, (_, i) => ({ _id: new Types.ObjectId(), email: `${prefix}-${i}@bench.example.com`, emailDomain: 'bench.example.com', status: 'active', siteRole: 'Users', managerId, groups: [], searchTokens: [] }));
  for (let i = 0; i < users.length; i += 500) await models.User.collection.insertMany(users.slice(i, i + 500));
  const docs = users.flatMap((u) => Array.from({ length: resources }, (_, k) => ({ kind: 'pipeline', name: `${u.email}-${k}`, ownerId: u._id, createdBy: u._id, transfers: [], createdAt: new Date(), updatedAt: new Date() })));
  for (let i = 0; i < docs.length; i += 1000) await models.Resource.collection.insertMany(docs.slice(i, i + 1000));
  return users.map((u) => u._id);
}

/** The bystanders: POPULATION users, every second one owning a resource. */
async function seedOrganization(models: Models): Promise<void> {
  const ids: Types.ObjectId[] = [];
  await seedPopulation(models.User.collection, POPULATION, 'organization', () => {
    const _id = new Types.ObjectId();
    ids.push(_id);
    return { _id };
  });
  const owners = ids.filter((_, i) => i % 2 === 0);
  for (let i = 0; i < owners.length; i += 5_000) {
    await models.Resource.collection.insertMany(
      owners.slice(i, i + 5_000).map((ownerId, k) => ({ kind: 'task', name: `bystander-${i + k}`, ownerId, createdBy: ownerId, transfers: [], createdAt: new Date(), updatedAt: new Date() })),
      { ordered: false },
    );
  }
}

async function main(): Promise<void> {
  // The worker runs the production workflows plus the baseline (bench/workflows.ts) and its activity.
  const system = await startScratchSystem('bench-offboard', { workflowsPath: BENCH_WORKFLOWS_PATH, activities: baselineActivities });
  const { models, client, taskQueue, run } = system;
  // Each phase gets its share of the time limit, so a slow run still reports all three figures.
  const phaseDeadline = (share: number) => Date.now() + TIME_LIMIT_MS * share;
  // Interrupted: stop the servers this run started rather than leave them behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void system.close().finally(() => process.exit(130));
    });
  }
  try {
    // No undo window: each workflow closes right after verify + notify, so result() is end to end.
    await system.withWorker({ offboarding: { approvalReminderMs: 86_400_000, approvalEscalationMs: 3 * 86_400_000, undoGraceMs: 0 } }, async () => {
      await models.OrgSettings.updateOne({ _id: 'org' }, { $set: { 'offboarding.approvalRequired': false, 'offboarding.retentionMs': null } }, { upsert: true });
      await seedOrganization(models);
      const manager = await models.User.create({ email: 'manager@bench.example.com', status: 'active', siteRole: 'Users' });
      const requester = await models.User.create({ email: 'admin@bench.example.com', status: 'active', siteRole: 'Administrators' });
      const requestedBy = { type: 'user' as const, id: String(requester._id), email: requester.email };
      const leavers = await seedLeavers(models, 'leaver', COUNT, RESOURCES, manager._id);
      process.stdout.write(`seeded ${COUNT} leavers with ${RESOURCES} resources each; running ${COUNT} offboardings, ${IN_FLIGHT} at a time...\n`);

      const offboardings = await runMany(
        'offboarding',
        COUNT,
        async (i) => client.workflow.getHandle((await startOffboarding(client, taskQueue, { userId: String(leavers[i]), reason: 'bench', requestedBy, source: 'api' })).workflowId),
        phaseDeadline(0.6),
      );
      // Activities per offboarding, read from each finished run's history (the baseline runs as many).
      const counts = (await Promise.all(offboardings.finished.map(activitiesScheduled))).sort((a, b) => a - b);
      const activities = counts[Math.floor(counts.length / 2)] ?? 8;
      const clean = (offboardings.results as OffboardingProgress[]).filter((r) => r.status === 'completed').length;
      const moved = await models.Resource.countDocuments({ ownerId: manager._id });
      // Where an offboarding's time goes: mean duration of each step that ran.
      const stepTimes = new Map<string, number[]>();
      for (const r of offboardings.results as OffboardingProgress[]) {
        for (const st of r.steps) {
          if (!st.startedAt || !st.finishedAt) continue;
          stepTimes.set(st.name, [...(stepTimes.get(st.name) ?? []), Date.parse(st.finishedAt) - Date.parse(st.startedAt)]);
        }
      }
      const breakdown = [...stepTimes].map(([name, ms]) => `${name} ${Math.round(ms.reduce((a, b) => a + b, 0) / ms.length)} ms`).join(', ');

      process.stdout.write(`running ${COUNT} baseline workflows of ${activities} no-op activities...\n`);
      const baseline = await runMany(
        `baseline (${activities} no-op activities)`,
        COUNT,
        async (i) => client.workflow.start('baselineWorkflow', { taskQueue, workflowId: `bench-baseline:${run}:${i}`, args: [{ activities }] }),
        phaseDeadline(0.25),
      );

      // Lockout latency: start → the leaver's session ended (its endedAt, written by the lockout activity).
      const lockoutLeavers = await seedLeavers(models, 'lockout', LOCKOUTS, 1, manager._id);
      await models.Session.collection.insertMany(lockoutLeavers.map((userId, i) => ({ userId, tokenHash: `bench-${run}-${i}`, createdAt: new Date() })));
      const lockoutLatencies: number[] = [];
      const deadline = phaseDeadline(0.15);
      const later = new Date(Date.now() + 86_400_000).toISOString();
      const lockoutHandles: WorkflowHandle[] = [];
      for (let i = 0; i < lockoutLeavers.length && Date.now() < deadline; i += 10) {
        await Promise.all(
          lockoutLeavers.slice(i, i + 10).map(async (userId) => {
            const t0 = Date.now();
            const started = await startOffboarding(client, taskQueue, { userId: String(userId), reason: 'bench lockout', requestedBy, source: 'hr', immediateLockout: true, effectiveDate: later });
            lockoutHandles.push(client.workflow.getHandle(started.workflowId));
            for (;;) {
              const session = await models.Session.findOne({ userId, endedAt: { $ne: null } }, { endedAt: 1 }).lean();
              if (session?.endedAt) {
                lockoutLatencies.push(session.endedAt.getTime() - t0);
                return;
              }
              if (Date.now() > deadline) return;
              await new Promise((r) => setTimeout(r, 5));
            }
          }),
        );
      }
      // Let each lockout activity finish its bookkeeping before the waiting processes are ended.
      await Promise.all(
        lockoutHandles.map(async (h) => {
          while (Date.now() < deadline && (await h.query(progressQuery).catch(() => undefined))?.status !== 'waiting_effective_date') await new Promise((r) => setTimeout(r, 50));
          await h.terminate('benchmark finished').catch(() => undefined);
        }),
      );
      lockoutLatencies.sort((a, b) => a - b);

      const row = (f: RunFigures) => `${f.label.padEnd(36)} ${String(f.completed).padStart(6)} ${(f.wallMs / 1000).toFixed(1).padStart(8)} s ${f.perSecond.toFixed(1).padStart(8)}/s ${String(f.p50).padStart(7)} ms ${String(f.p99).padStart(7)} ms`;
      process.stdout.write(
        [
          '',
          `${'workflow'.padEnd(36)} ${'done'.padStart(6)} ${'wall'.padStart(10)} ${'throughput'.padStart(10)} ${'p50'.padStart(10)} ${'p99'.padStart(10)}`,
          row(offboardings),
          row(baseline),
          `ratio offboarding / baseline: throughput ${(offboardings.perSecond / baseline.perSecond).toFixed(2)}x, p50 latency ${(offboardings.p50 / baseline.p50).toFixed(2)}x, p99 latency ${(offboardings.p99 / baseline.p99).toFixed(2)}x`,
          `offboardings clean: ${clean}/${offboardings.completed}; resources transferred: ${moved}/${COUNT * RESOURCES}`,
          `activities per offboarding (from the histories): median ${activities}, min ${counts[0] ?? NaN}, max ${counts.at(-1) ?? NaN}`,
          `mean step durations: ${breakdown}`,
          `immediate lockout → sessions ended (${lockoutLatencies.length} runs): p50 ${percentile(lockoutLatencies, 50)} ms, p99 ${percentile(lockoutLatencies, 99)} ms`,
          '',
        ].join('\n'),
      );
    });
  } finally {
    await system.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});

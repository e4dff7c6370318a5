/**
 * `npm run bench:faults`: faults at scale, on real processes. One stack (Temporal dev server,
 * MongoDB-wire server, and a Redis of this run's own with AOF, as docker-compose runs it) serves
 * two API processes (src/main/api.ts) and two worker processes (src/main/worker.ts), started as
 * production starts them; the bench spreads its requests over both APIs itself. Three scenarios:
 *
 * 1. BENCH_OFFBOARDINGS offboardings (default 100; no approval by policy; each leaver owns
 *    BENCH_RESOURCES resources, two sessions and two API tokens) started through the API while a
 *    worker process is SIGKILLed BENCH_WORKER_KILLS times (default 10; the two in turn, each
 *    restarted at once). Reports completed, double transfers, leavers left active, stalls.
 * 2. BENCH_WEBHOOKS signed HR terminations (default 500) at BENCH_WEBHOOK_RATE a second (default
 *    25) while Redis is SIGKILLed and started again on the same port after BENCH_REDIS_DOWN_S
 *    (default 3). The sender retries what was not acknowledged, as an HR system does. Reports
 *    acknowledged (2xx), acknowledged but lost (no offboarding started once the run settles),
 *    other answers by status.
 * 3. BENCH_API_REQUESTS offboarding starts (default 200, BENCH_API_CONCURRENCY at a time,
 *    default 8) while one API process is SIGKILLed mid-load; a request that failed on the
 *    connection is sent again to the other API, as a load balancer would. Reports connection
 *    failures vs answers, and acknowledged starts lost.
 *
 * BENCH_SCENARIOS picks some of them (e.g. 2); BENCH_REDIS_AOF=no runs Redis without its
 * append-only file, to see what a restart of an unpersisted Redis loses.
 *
 * Loopback only; bounded: each scenario waits at most BENCH_SETTLE_S (default 240) for its
 * processes to settle and reports what did not as stalls. Prints one table per scenario, then
 * the figures as one JSON line (`faults {...}`). Uses TEMPORAL_ADDRESS / MONGODB_URI when set;
 * Redis is always its own (it is killed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { connectMongo } from '../src/db/connection';
import { createModels, ensureIndexes, type Models } from '../src/db/models';
import { resolveBinaries } from '../src/devstack/binaries';
import { freePort } from '../src/devstack/ports';
import { startStack } from '../src/devstack/stack';
import { checkRedis } from '../src/health/checks';
import type { HrEvent, HrIntakeJob } from '../src/hr/events';
import { signGeneric } from '../src/hr/providers';
import { hrJobId } from '../src/jobs/hr-intake-queue';
import { QUEUE_NAMES } from '../src/jobs/queues';
import { offboardingWorkflowId } from '../src/processes/ids';
import { issueAccessToken } from '../src/security/access-tokens';
import { buildWorkflowBundle } from '../src/temporal/bundle';
import { startSmtpServer } from '../test/helpers/smtp';
import type { OffboardingProgress } from '../workflows/offboarding-messages';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OFFBOARDINGS = Number(process.env.BENCH_OFFBOARDINGS ?? 100);
const RESOURCES = Number(process.env.BENCH_RESOURCES ?? 3);
const WORKER_KILLS = Number(process.env.BENCH_WORKER_KILLS ?? 10);
const WEBHOOKS = Number(process.env.BENCH_WEBHOOKS ?? 500);
const WEBHOOK_RATE = Number(process.env.BENCH_WEBHOOK_RATE ?? 25);
const REDIS_DOWN_MS = Number(process.env.BENCH_REDIS_DOWN_S ?? 3) * 1000;
const API_REQUESTS = Number(process.env.BENCH_API_REQUESTS ?? 200);
const API_CONCURRENCY = Number(process.env.BENCH_API_CONCURRENCY ?? 8);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_S ?? 240) * 1000;
/** Which scenarios run (default all three). */
const SCENARIOS = new Set((process.env.BENCH_SCENARIOS ?? '1,2,3').split(',').map((s) => s.trim()));
/** Redis's append-only file, as production runs it (yes), or none (no: a restart empties Redis). */
const REDIS_AOF = process.env.BENCH_REDIS_AOF === 'no' ? 'no' : 'yes';
const HR_SECRET = randomUUID();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------
// Processes

/** A child process of this run, its output kept (the last 64 KB) for start detection and failures. */
class Proc {
  child!: ChildProcess;
  out = '';
  private exited!: Promise<void>;

  constructor(
    readonly name: string,
    private readonly cmd: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly ready: (p: Proc) => Promise<boolean>,
  ) {}

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(timeoutMs = 120_000): Promise<number> {
    const t0 = Date.now();
    this.out = '';
    this.child = spawn(this.cmd, this.args, { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (c: Buffer) => {
      this.out = (this.out + c.toString()).slice(-65_536);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    while (!(await this.ready(this).catch(() => false))) {
      if (!this.alive) throw new Error(`${this.name} exited at start:\n${this.out.slice(-4000)}`);
      if (Date.now() - t0 > timeoutMs) {
        this.child.kill('SIGKILL');
        throw new Error(`${this.name} did not start within ${timeoutMs / 1000} s:\n${this.out.slice(-4000)}`);
      }
      await sleep(100);
    }
    return Date.now() - t0;
  }

  /** SIGKILL: nothing is drained, nothing is closed. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP, as a client on another machine sees it

interface Answer {
  status?: number;
  /** Set when no answer came: the connection was refused or reset. */
  connectionError?: string;
  body?: unknown;
}

async function call(base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  try {
    const res = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return { connectionError: cause?.code ?? (err as Error).name ?? 'error' };
  }
}

function countBy<T>(items: T[], key: (t: T) => string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

function table(title: string, rows: Array<[string, string | number]>): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return [``, title, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n');
}

const fmtCounts = (c: Record<string, number>) => (Object.keys(c).length ? Object.entries(c).map(([k, v]) => `${k}: ${v}`).join(', ') : 'none');

// ---------------------------------------------------------------------------------------------
// The run

interface Env {
  models: Models;
  client: Client;
  apis: Proc[];
  apiUrls: string[];
  workers: Proc[];
  adminAuth: Record<string, string>;
  managerId: Types.ObjectId;
  redisPrefix: string;
  redisUrl: string;
  run: string;
}

/** Users with everything a leaver has: resources, two live sessions, two API tokens. */
async function seedLeavers(models: Models, prefix: string, count: number, managerId: Types.ObjectId, extra: (i: number) => object = () => ({})): Promise<Types.ObjectId[]> {
  const users = Array.from({ length: count }, (_, i) => ({ _id: new Types.ObjectId(), email: `${prefix}.${i}@faults.test`, emailDomain: 'faults.test', firstName: 'Leaver', lastName: String(i), status: 'active', siteRole: 'Users', managerId, groups: [], searchTokens: [], ...extra(i) }));
  await models.User.collection.insertMany(users);
  const now = new Date();
  await models.Resource.collection.insertMany(users.flatMap((u) => Array.from({ length: RESOURCES }, (_, k) => ({ kind: 'pipeline', name: `${u.email}-${k}`, ownerId: u._id, createdBy: u._id, transfers: [], createdAt: now, updatedAt: now }))));
  await models.Session.collection.insertMany(users.flatMap((u) => [0, 1].map(() => ({ userId: u._id, tokenHash: randomUUID(), createdAt: now }))));
  for (const u of users) {
    await issueAccessToken(models, u._id);
    await issueAccessToken(models, u._id);
  }
  return users.map((u) => u._id);
}

/** What a leaver still has: not deactivated, sessions not ended, tokens not revoked. */
async function leftActive(models: Models, ids: Types.ObjectId[]) {
  const [notDeactivated, liveSessions, liveTokens] = await Promise.all([
    models.User.distinct('_id', { _id: { $in: ids }, status: { $ne: 'deactivated' } }),
    models.Session.distinct('userId', { userId: { $in: ids }, endedAt: null }),
    models.AccessToken.distinct('userId', { userId: { $in: ids }, revokedAt: null }),
  ]);
  const anyLive = new Set([...notDeactivated, ...liveSessions, ...liveTokens].map(String));
  return { leavers: anyLive.size, notDeactivated: notDeactivated.length, withLiveSessions: liveSessions.length, withLiveTokens: liveTokens.length };
}

/** A resource moved twice, or two transfer records of one process: either is a double transfer. */
async function doubleTransfers(models: Models, ids: Types.ObjectId[]): Promise<{ resources: number; moved: number; total: number }> {
  const resources = await models.Resource.find({ createdBy: { $in: ids } }, { transfers: 1, ownerId: 1, createdBy: 1 }).lean();
  let doubled = 0;
  let moved = 0;
  for (const r of resources) {
    const transfers = r.transfers ?? [];
    const perProcess = countBy(transfers, (t) => t.processId ?? t.transferId);
    if (transfers.length > 1 || Object.values(perProcess).some((n) => n > 1)) doubled += 1;
    if (!r.ownerId.equals(r.createdBy!)) moved += 1;
  }
  return { resources: doubled, moved, total: resources.length };
}

/** Scenario 1: offboardings through the API while a worker is SIGKILLed again and again. */
async function workerKills(env: Env) {
  const { models, client, apiUrls, workers, adminAuth, managerId } = env;
  log(`\n[1] ${OFFBOARDINGS} offboardings while a worker process is SIGKILLed ${WORKER_KILLS} times`);
  const leavers = await seedLeavers(models, `kill.${env.run}`, OFFBOARDINGS, managerId);
  const began = Date.now();
  const answers: Answer[] = [];
  const acknowledged = new Set<string>();
  let next = 0;
  /** Starts leavers [from, to) through the APIs in turn, four at a time; retries what got no 2xx. */
  const startRange = async (to: number) => {
    const lane = async () => {
      while (next < to) {
        const i = next++;
        const id = String(leavers[i]);
        for (let attempt = 0; attempt < 20 && !acknowledged.has(id); attempt++) {
          const a = await call(apiUrls[(i + attempt) % apiUrls.length]!, 'POST', `/v1/users/${id}/offboarding`, { ...adminAuth, 'content-type': 'application/json' }, JSON.stringify({ reason: 'faults bench' }));
          answers.push(a);
          if (a.status && a.status < 300) acknowledged.add(id);
          else await sleep(500);
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, lane));
  };
  const restartMs: number[] = [];
  const killedAt: number[] = [];
  for (let k = 0; k < WORKER_KILLS; k++) {
    // A share of the starts, then a kill while their activities run on both workers.
    await startRange(Math.round(((k + 1) * OFFBOARDINGS) / (WORKER_KILLS + 1)));
    await sleep(300 + Math.random() * 1200);
    const worker = workers[k % workers.length]!;
    await worker.kill();
    killedAt.push(Date.now() - began);
    restartMs.push(await worker.start());
    log(`  kill ${k + 1}/${WORKER_KILLS}: ${worker.name} killed at ${(killedAt.at(-1)! / 1000).toFixed(1)} s, polling again after ${(restartMs.at(-1)! / 1000).toFixed(1)} s; ${acknowledged.size} started`);
  }
  await startRange(OFFBOARDINGS);
  const startsDone = Date.now();

  // Settle: every acknowledged offboarding's result, within the limit.
  const deadline = Date.now() + SETTLE_MS;
  const outcomes = await Promise.all(
    leavers.map(async (id) => {
      const handle = client.workflow.getHandle(offboardingWorkflowId(String(id)));
      const timeout = sleep(Math.max(0, deadline - Date.now())).then(() => 'stalled' as const);
      try {
        const result = await Promise.race([handle.result() as Promise<OffboardingProgress>, timeout]);
        return result === 'stalled' ? 'stalled' : result.status;
      } catch (err) {
        return err instanceof WorkflowNotFoundError ? 'never started' : `failed (${(err as Error).message.slice(0, 60)})`;
      }
    }),
  );
  const wallMs = Date.now() - began;
  // What the kills interrupted, as the histories record it: activity attempts beyond the first
  // (a started event carries its attempt number) and workflow tasks timed out.
  let activityRetries = 0;
  let workflowTaskTimeouts = 0;
  const durations: number[] = [];
  for (const id of leavers) {
    const handle = client.workflow.getHandle(offboardingWorkflowId(String(id)));
    const described = await handle.describe().catch(() => undefined);
    if (described?.closeTime) durations.push(described.closeTime.getTime() - described.startTime.getTime());
    const history = await handle.fetchHistory().catch(() => undefined);
    for (const e of history?.events ?? []) {
      activityRetries += Math.max(0, (e.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
      if (e.workflowTaskTimedOutEventAttributes) workflowTaskTimeouts += 1;
    }
  }
  durations.sort((a, b) => a - b);
  const byOutcome = countBy(outcomes, (o) => o);
  const doubles = await doubleTransfers(models, leavers);
  const active = await leftActive(models, leavers);
  const figures = {
    offboardings: OFFBOARDINGS,
    kills: WORKER_KILLS,
    acknowledged: acknowledged.size,
    completed: byOutcome.completed ?? 0,
    outcomes: byOutcome,
    stalls: byOutcome.stalled ?? 0,
    doubleTransfers: doubles.resources,
    resourcesMoved: doubles.moved,
    resources: doubles.total,
    leaversLeftActive: active.leavers,
    notDeactivated: active.notDeactivated,
    withLiveSessions: active.withLiveSessions,
    withLiveTokens: active.withLiveTokens,
    answers: countBy(answers, (a) => (a.status ? String(a.status) : a.connectionError)),
    activityRetries,
    startToCloseP50S: Number(((durations[Math.floor(durations.length / 2)] ?? NaN) / 1000).toFixed(1)),
    startToCloseMaxS: Number(((durations.at(-1) ?? NaN) / 1000).toFixed(1)),
    workflowTaskTimeouts,
    restartMedianS: Number(((restartMs.sort((a, b) => a - b)[Math.floor(restartMs.length / 2)] ?? NaN) / 1000).toFixed(1)),
    startsS: Number(((startsDone - began) / 1000).toFixed(1)),
    wallS: Number((wallMs / 1000).toFixed(1)),
  };
  process.stdout.write(
    `${table(`[1] worker SIGKILLed ${WORKER_KILLS} times during ${OFFBOARDINGS} offboardings (${RESOURCES} resources, 2 sessions, 2 tokens each)`, [
      ['started (2xx)', `${figures.acknowledged}/${OFFBOARDINGS}`],
      ['completed', `${figures.completed}/${OFFBOARDINGS} (${((figures.completed / OFFBOARDINGS) * 100).toFixed(0)}%)`],
      ['outcomes', fmtCounts(byOutcome)],
      ['double transfers', figures.doubleTransfers],
      ['resources moved', `${figures.resourcesMoved}/${figures.resources}`],
      ['leavers left active', `${figures.leaversLeftActive} (not deactivated ${figures.notDeactivated}, live sessions ${figures.withLiveSessions}, live tokens ${figures.withLiveTokens})`],
      ['stalls (not settled in time)', figures.stalls],
      ['interrupted by the kills', `${activityRetries} activity attempts retried, ${workflowTaskTimeouts} workflow tasks timed out`],
      ['start → closed', `p50 ${figures.startToCloseP50S} s, max ${figures.startToCloseMaxS} s`],
      ['API answers', fmtCounts(figures.answers)],
      ['worker restart (median)', `${figures.restartMedianS} s`],
      ['wall time', `${figures.wallS} s (starts and kills ${figures.startsS} s)`],
    ])}\n`,
  );
  return figures;
}

/** Scenario 2: HR terminations at a bounded rate while Redis is SIGKILLed and started again. */
async function redisRestart(env: Env, redis: Proc) {
  const { models, client, apiUrls, managerId } = env;
  log(`\n[2] ${WEBHOOKS} HR terminations at ${WEBHOOK_RATE}/s while Redis is SIGKILLed and restarted after ${REDIS_DOWN_MS / 1000} s`);
  const employees = await seedLeavers(models, `hr.${env.run}`, WEBHOOKS, managerId, (i) => ({ hrEmployeeId: `F-${env.run}-${i}` }));
  // Last day a month ahead: the leaver is locked out at once and the process waits for the day.
  const lastDay = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  const events: HrEvent[] = employees.map((_, i) => ({ eventId: `faults-${env.run}-${i}`, type: 'employee.terminated', occurredAt: new Date().toISOString(), employee: { id: `F-${env.run}-${i}`, lastDay } }));
  const answers: Answer[] = [];
  const acknowledged = new Set<number>();
  const began = Date.now();
  const sendUntil = began + (WEBHOOKS / WEBHOOK_RATE) * 1000 + SETTLE_MS / 2;
  let redisDownMs = 0;
  let redisKilledAt = NaN;
  let redisStartedAt = NaN;
  const chaos = (async () => {
    await sleep(((WEBHOOKS / WEBHOOK_RATE) * 1000) / 3);
    redisKilledAt = Date.now() - began;
    const t0 = Date.now();
    await redis.kill();
    await sleep(REDIS_DOWN_MS);
    await redis.start();
    redisStartedAt = Date.now() - began;
    redisDownMs = Date.now() - t0;
    log(`  Redis killed at ${(redisKilledAt / 1000).toFixed(1)} s, answering again at ${(redisStartedAt / 1000).toFixed(1)} s`);
  })();
  /** One delivery of event i, signed afresh; retried (1 s, then 2 s …) until a 2xx or the time limit. */
  const deliver = async (i: number) => {
    const body = JSON.stringify(events[i]);
    for (let attempt = 0; Date.now() < sendUntil; attempt++) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const a = await call(apiUrls[(i + attempt) % apiUrls.length]!, 'POST', '/webhooks/hr/generic', { 'content-type': 'application/json', 'x-tenure-timestamp': timestamp, 'x-tenure-signature': signGeneric(HR_SECRET, timestamp, body) }, body);
      answers.push(a);
      if (a.status && a.status < 300) {
        acknowledged.add(i);
        return;
      }
      await sleep(Math.min(1000 * 2 ** attempt, 8000));
    }
  };
  const deliveries: Promise<void>[] = [];
  for (let i = 0; i < WEBHOOKS; i++) {
    // Open loop at the given rate: a slow answer does not slow the sender down.
    const due = began + (i / WEBHOOK_RATE) * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
    deliveries.push(deliver(i));
  }
  await Promise.all(deliveries);
  await chaos;
  const sentMs = Date.now() - began;

  // Settle: the intake queue drained and every acknowledged termination's offboarding started.
  const queueRedis = new Redis(env.redisUrl, { maxRetriesPerRequest: null });
  queueRedis.on('error', () => undefined);
  const queue = new Queue<HrIntakeJob>(QUEUE_NAMES.hrIntake, { connection: queueRedis, prefix: env.redisPrefix });
  queue.on('error', () => undefined);
  const started = async (i: number) => {
    try {
      await client.workflow.getHandle(offboardingWorkflowId(String(employees[i]))).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  };
  const deadline = Date.now() + SETTLE_MS;
  let missing = [...acknowledged];
  for (;;) {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    const pending = c.waiting! + c.active! + c.delayed! + c.prioritized!;
    const still: number[] = [];
    for (const i of missing) if (!(await started(i))) still.push(i);
    missing = still;
    if ((pending === 0 && missing.length === 0) || Date.now() > deadline) break;
    // Nothing left to run in the queue: what is missing now will not come.
    if (pending === 0 && Date.now() - sentMs - began > 15_000) break;
    await sleep(1000);
  }
  // Why each lost event was lost: its intake job's state in Redis.
  const lostJobStates = countBy(await Promise.all(missing.map(async (i) => (await queue.getJobState(hrJobId('generic', events[i]!.eventId))) as string)), (s) => s);
  const counts = await queue.getJobCounts('completed', 'failed');
  await queue.close();
  queueRedis.disconnect();
  const locked = await models.Session.countDocuments({ userId: { $in: employees }, endedAt: null });
  const nonOk = answers.filter((a) => !(a.status && a.status < 300));
  const figures = {
    webhooks: WEBHOOKS,
    ratePerS: WEBHOOK_RATE,
    requests: answers.length,
    acknowledged: acknowledged.size,
    acknowledgedLost: missing.length,
    lostJobStates,
    neverAcknowledged: WEBHOOKS - acknowledged.size,
    nonOk: countBy(nonOk, (a) => (a.status ? `${a.status} ${(a.body as { error?: { code?: string } })?.error?.code ?? ''}`.trim() : a.connectionError)),
    jobsCompleted: counts.completed ?? 0,
    jobsFailed: counts.failed ?? 0,
    liveSessionsLeft: locked,
    redisKilledAtS: Number((redisKilledAt / 1000).toFixed(1)),
    redisDownS: Number((redisDownMs / 1000).toFixed(1)),
    wallS: Number(((Date.now() - began) / 1000).toFixed(1)),
  };
  process.stdout.write(
    `${table(`[2] Redis SIGKILLed at ${figures.redisKilledAtS} s and started again on its port (${REDIS_AOF === 'yes' ? 'AOF' : 'no persistence'}) ${figures.redisDownS} s later, during ${WEBHOOKS} signed HR terminations at ${WEBHOOK_RATE}/s`, [
      ['events acknowledged (2xx)', `${figures.acknowledged}/${WEBHOOKS}`],
      ['acknowledged but lost', `${figures.acknowledgedLost}${figures.acknowledgedLost ? ` (intake job: ${fmtCounts(lostJobStates)})` : ''}`],
      ['never acknowledged', figures.neverAcknowledged],
      ['requests (with retries)', figures.requests],
      ['non-2xx answers', fmtCounts(figures.nonOk)],
      ['intake jobs', `completed ${figures.jobsCompleted}, failed ${figures.jobsFailed}`],
      ['leavers with live sessions', figures.liveSessionsLeft],
      ['wall time', `${figures.wallS} s`],
    ])}\n`,
  );
  return figures;
}

/** Scenario 3: offboarding starts over both APIs while one of them is SIGKILLed. */
async function apiKill(env: Env) {
  const { models, client, apis, apiUrls, adminAuth, managerId } = env;
  log(`\n[3] ${API_REQUESTS} offboarding starts over both APIs, ${API_CONCURRENCY} at a time, one API SIGKILLed mid-load`);
  const leavers = await seedLeavers(models, `api.${env.run}`, API_REQUESTS, managerId);
  // A date a month ahead: each process starts and waits (the figure is the start, not the run).
  const effectiveDate = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const answers: Array<Answer & { api: number }> = [];
  const acknowledged = new Set<number>();
  const began = Date.now();
  let killedAfter = NaN;
  let next = 0;
  let sent = 0;
  const killAt = Math.floor(API_REQUESTS * 0.4);
  let killing: Promise<void> | undefined;
  const lane = async () => {
    while (next < API_REQUESTS) {
      const i = next++;
      for (let attempt = 0; attempt < 10 && !acknowledged.has(i); attempt++) {
        // Round robin; a request that got no answer goes to the other API.
        const api = (i + attempt) % apiUrls.length;
        sent += 1;
        if (sent === killAt) {
          killedAfter = sent;
          killing = apis[0]!.kill();
        }
        const a = await call(apiUrls[api]!, 'POST', `/v1/users/${leavers[i]}/offboarding`, { ...adminAuth, 'content-type': 'application/json' }, JSON.stringify({ reason: 'faults bench', effectiveDate }));
        answers.push({ ...a, api });
        if (a.status && a.status < 300) acknowledged.add(i);
        else if (a.status) await sleep(500);
      }
    }
  };
  await Promise.all(Array.from({ length: API_CONCURRENCY }, lane));
  await killing;
  const wallMs = Date.now() - began;
  // Every acknowledged start must name a process that exists.
  let lost = 0;
  for (const i of acknowledged) {
    try {
      await client.workflow.getHandle(offboardingWorkflowId(String(leavers[i]))).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) lost += 1;
      else throw err;
    }
  }
  const connectionErrors = answers.filter((a) => a.connectionError);
  const figures = {
    requests: answers.length,
    answered: answers.length - connectionErrors.length,
    answers: countBy(answers, (a) => (a.status ? String(a.status) : undefined)),
    connectionErrors: connectionErrors.length,
    connectionErrorCodes: countBy(connectionErrors, (a) => a.connectionError),
    killedAfterRequests: killedAfter,
    acknowledged: acknowledged.size,
    acknowledgedLost: lost,
    neverAcknowledged: API_REQUESTS - acknowledged.size,
    wallS: Number((wallMs / 1000).toFixed(1)),
  };
  process.stdout.write(
    `${table(`[3] API process SIGKILLed after ${killedAfter} of the requests; ${API_REQUESTS} offboarding starts, ${API_CONCURRENCY} at a time over both APIs`, [
      ['requests sent', figures.requests],
      ['answered', `${figures.answered} (${fmtCounts(figures.answers)})`],
      ['failed on the connection', `${figures.connectionErrors} (${fmtCounts(figures.connectionErrorCodes)}), each sent again to the other API`],
      ['starts acknowledged (2xx)', `${figures.acknowledged}/${API_REQUESTS}`],
      ['acknowledged but lost', figures.acknowledgedLost],
      ['wall time', `${figures.wallS} s`],
    ])}\n`,
  );
  return figures;
}

async function main(): Promise<void> {
  const began = Date.now();
  const run = Date.now().toString(36);
  const scratch = mkdtempSync(join(tmpdir(), 'tenure-faults-'));
  const procs: Proc[] = [];
  let stopStack: (() => Promise<void>) | undefined;
  const cleanUp = async () => {
    await Promise.all(procs.map((p) => p.stop(5_000).catch(() => undefined)));
    await stopStack?.().catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

  try {
    // Redis of our own, as production runs it (AOF unless BENCH_REDIS_AOF=no, noeviction), so it can be killed and restarted on its port.
    const redisBin = resolveBinaries({ temporal: false, redis: true, mongo: false }).redisServer!;
    const redisPort = await freePort();
    const redisDir = join(scratch, 'redis');
    mkdirSync(redisDir, { recursive: true });
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    const redis = new Proc('redis', redisBin, ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDir, '--appendonly', REDIS_AOF, '--save', '', '--maxmemory-policy', 'noeviction'], { PATH: process.env.PATH }, async () => {
      await checkRedis(redisUrl);
      return true;
    });
    procs.push(redis);
    log('starting servers...');
    await redis.start(20_000);
    const stack = await startStack({ env: { ...process.env, REDIS_URL: redisUrl } });
    stopStack = stack.stop;
    const smtp = await startSmtpServer();
    const dbName = `bench_faults_${run}`;
    const conn = await connectMongo(stack.mongoUri, dbName);
    const models = createModels(conn);
    await ensureIndexes(models);
    const connection = await Connection.connect({ address: stack.temporalAddress });
    const client = new Client({ connection, namespace: 'default' });
    log('building the workflow bundle...');
    const bundle = await buildWorkflowBundle(join(scratch, 'workflows.js'));

    await models.OrgSettings.updateOne({ _id: 'org' }, { $set: { 'offboarding.approvalRequired': false, 'offboarding.retentionMs': null } }, { upsert: true });
    const admin = await models.User.create({ email: 'admin@faults.test', status: 'active', siteRole: 'Administrators' });
    const manager = await models.User.create({ email: 'manager@faults.test', status: 'active', siteRole: 'Users' });
    const adminAuth = { authorization: `Bearer ${(await issueAccessToken(models, admin._id)).token}` };

    const redisPrefix = `faults-${run}`;
    const settings = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      MONGODB_URI: stack.mongoUri,
      MONGODB_DB: dbName,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: redisPrefix,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: `faults-${run}`,
      SMTP_URL: smtp.url,
      PUBLIC_BASE_URL: 'http://tenure.test',
      HR_GENERIC_SECRET: HR_SECRET,
      // Every request comes from one address: the per-address webhook limit would measure itself.
      RATE_LIMIT_HR_WEBHOOKS: '0',
    };
    const apiUrls: string[] = [];
    const apis: Proc[] = [];
    for (const name of ['api-a', 'api-b']) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      apiUrls.push(url);
      apis.push(new Proc(name, process.execPath, ['--import', 'tsx', 'src/main/api.ts'], { ...settings, HTTP_PORT: String(port), LOG_LEVEL: 'warn' }, async () => (await fetch(`${url}/healthz`)).ok));
    }
    const workers = ['worker-a', 'worker-b'].map(
      (name) =>
        new Proc(
          name,
          process.execPath,
          ['--import', 'tsx', 'src/main/worker.ts'],
          // No undo window: a process closes once verified, so its result is the whole run.
          { ...settings, TEMPORAL_WORKFLOW_BUNDLE: bundle, OFFBOARDING_UNDO_GRACE: '1ms', INVITATION_SWEEP_INTERVAL: '1h', LOG_LEVEL: 'info' },
          async (p) => /worker started/.test(p.out),
        ),
    );
    procs.push(...apis, ...workers);
    log('starting 2 API and 2 worker processes...');
    await Promise.all([...apis, ...workers].map((p) => p.start()));

    const env: Env = { models, client, apis, apiUrls, workers, adminAuth, managerId: manager._id, redisPrefix, redisUrl, run };
    const one = SCENARIOS.has('1') ? await workerKills(env) : undefined;
    const two = SCENARIOS.has('2') ? await redisRestart(env, redis) : undefined;
    const three = SCENARIOS.has('3') ? await apiKill(env) : undefined;

    const goals =
      (!one || (one.completed === OFFBOARDINGS && one.doubleTransfers === 0 && one.leaversLeftActive === 0 && one.stalls === 0)) && (!two || two.acknowledgedLost === 0) && (!three || three.acknowledgedLost === 0);
    process.stdout.write(`\ngoal (100% done, 0 double transfers, 0 active leavers, 0 stalls, 0 acknowledged events lost): ${goals ? 'met' : 'MISSED'}; total ${((Date.now() - began) / 1000).toFixed(0)} s\n`);
    process.stdout.write(`faults ${JSON.stringify({ workerKills: one, redisRestart: two, apiKill: three, goalsMet: goals })}\n`);
    if (!goals) process.exitCode = 1;

    await connection.close();
    await smtp.close();
    await conn.dropDatabase().catch(() => undefined);
    await conn.close();
  } finally {
    await cleanUp();
  }
}

main().catch((err) => {
  process.stderr.write(`bench:faults failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});

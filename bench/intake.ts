/**
 * `npm run bench:intake`: HR webhook intake under load.
 *
 * Starts its own servers (or uses MONGODB_URI / REDIS_URL / TEMPORAL_ADDRESS), serves the real
 * API on a loopback port, runs the HR intake worker in a separate process (as in production:
 * API and worker are different processes; this file re-runs itself with --intake-worker), and sends signed generic-provider
 * webhooks at increasing concurrency from a third process (--load), as an HR system on another machine would. Every event is an `employee.updated` (manager change) of
 * an employee that exists, so each one is processed to a countable outcome without starting
 * processes; one request in ten is a redelivery of an event already sent.
 *
 * Prints, per concurrency: requests, accepted (202), other answers, accepted per second, p50 and
 * p99 latency; then accepted vs. unique events vs. jobs queued vs. jobs processed and duplicates.
 * Runs in an organization of BENCH_USERS users (default 100,000) beside the employees it updates.
 * Settings: BENCH_LEVELS (1,10,50,100), BENCH_REQUESTS (10000 per level), BENCH_SECONDS (15 per level),
 * BENCH_DRAIN_SECONDS (600: how long to wait for the worker to process the backlog).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config/env';
import { connectMongo } from '../src/db/connection';
import { createModels, ensureIndexes } from '../src/db/models';
import { startStack } from '../src/devstack/stack';
import { buildApiApp } from '../src/main/api-app';
import type { HrEvent } from '../src/hr/events';
import { signGeneric } from '../src/hr/providers';
import { createQueue, createRedisConnection, QUEUE_NAMES } from '../src/jobs/queues';
import { startJobWorkers } from '../src/jobs/workers';
import { createLogger } from '../src/logger';
import { createTemporalClient } from '../src/temporal/client';
import { POPULATION, seedPopulation } from './support/population';

const LEVELS = (process.env.BENCH_LEVELS ?? '1,10,50,100').split(',').map(Number);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const DRAIN_SECONDS = Number(process.env.BENCH_DRAIN_SECONDS ?? 600);
const EMPLOYEES = 200;
const SECRET = randomUUID();

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface LoadSpec {
  url: string;
  secret: string;
  connections: number;
  requests: number;
  seconds: number;
  sequenceStart: number;
  employees: number;
  managers: string[];
}

interface LoadResult {
  issued: number;
  accepted: number;
  other: number;
  elapsed: number;
  p50: number;
  p99: number;
  acceptedEventIds: string[];
}

/** One request over a keep-alive agent; resolves with the status code. */
function post(agent: Agent, url: URL, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * --load: the HR system's side, in a process of its own (as it would be on another machine),
 * sending signed events over `connections` keep-alive connections; one in ten a redelivery.
 */
async function loadMain(): Promise<void> {
  const spec = JSON.parse(process.env.BENCH_LOAD_SPEC!) as LoadSpec;
  const url = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  let sequence = spec.sequenceStart;
  const sent: HrEvent[] = [];
  const accepted = new Set<string>();
  const nextEvent = (): HrEvent => {
    if (sent.length > 10 && sequence % 10 === 9) {
      sequence += 1;
      return sent[Math.floor(Math.random() * sent.length)]!;
    }
    const i = sequence++;
    const event: HrEvent = {
      eventId: `bench-${i}-${randomUUID().slice(0, 8)}`,
      type: 'employee.updated',
      occurredAt: new Date().toISOString(),
      employee: { id: `B-${i % spec.employees}`, managerEmail: spec.managers[Math.floor(i / spec.employees) % 2] },
    };
    sent.push(event);
    return event;
  };
  const latencies: number[] = [];
  let acceptedCount = 0;
  let other = 0;
  let issued = 0;
  const deadline = Date.now() + spec.seconds * 1000;
  const started = performance.now();
  const loop = async () => {
    while (issued < spec.requests && Date.now() < deadline) {
      issued += 1;
      const event = nextEvent();
      const body = JSON.stringify(event);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const t0 = performance.now();
      const status = await post(agent, url, body, { 'content-type': 'application/json', 'x-tenure-timestamp': timestamp, 'x-tenure-signature': signGeneric(spec.secret, timestamp, body) });
      latencies.push(performance.now() - t0);
      if (status === 202) {
        acceptedCount += 1;
        accepted.add(event.eventId);
      } else other += 1;
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, loop));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  agent.destroy();
  const result: LoadResult = { issued, accepted: acceptedCount, other, elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), acceptedEventIds: [...accepted] };
  process.stdout.write(JSON.stringify(result));
}

function runLoadProcess(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--load'], { env: { ...process.env, BENCH_LOAD_SPEC: JSON.stringify(spec) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`the load process exited with ${code}`))));
  });
}

/** --intake-worker: only the BullMQ workers (HR intake), configured from the environment. */
async function intakeWorkerMain(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: 'warn', name: 'bench-worker' });
  const conn = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
  const models = createModels(conn);
  const redis = createRedisConnection(config.REDIS_URL);
  const temporal = await createTemporalClient({ address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE });
  const workers = startJobWorkers({ models, queue: { connection: redis, prefix: config.REDIS_PREFIX }, logger, hr: { temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, terminationLockout: true } });
  process.once('SIGTERM', () => {
    void Promise.all(workers.map((w) => w.close()))
      .then(() => conn.close())
      .finally(() => process.exit(0));
  });
}

async function main(): Promise<void> {
  process.stderr.write('starting servers...\n');
  const stack = await startStack();
  // Interrupted (Ctrl-C, a timeout): stop the servers this run started rather than orphan them.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stack.stop().finally(() => process.exit(130));
    });
  }
  const dbName = `bench_intake_${randomUUID().slice(0, 8)}`;
  const prefix = `bench-intake-${randomUUID().slice(0, 8)}`;
  const env = {
    MONGODB_URI: stack.mongoUri,
    MONGODB_DB: dbName,
    REDIS_URL: stack.redisUrl,
    REDIS_PREFIX: prefix,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    HR_GENERIC_SECRET: SECRET,
    // The load comes from one address: the per-address webhook limit would measure itself.
    RATE_LIMIT_HR_WEBHOOKS: '0',
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
  } as const;
  const config = loadConfig(env);
  const logger = createLogger({ level: 'warn', name: 'bench' });
  const conn = await connectMongo(config.MONGODB_URI, dbName);
  const models = createModels(conn);
  await ensureIndexes(models);
  const redis = createRedisConnection(config.REDIS_URL);
  const temporal = await createTemporalClient({ address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE });
  const queueContext = { connection: redis, prefix };
  const queue = createQueue(QUEUE_NAMES.hrIntake, queueContext);
  const worker = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--intake-worker'], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  const app = await buildApiApp({ config, logger, conn, models, redis, temporal });
  try {
    await seedPopulation(models.User.collection, POPULATION, 'organization', (i) => ({ hrEmployeeId: `P-${i}` }));
    const managers = ['manager.one@bench.test', 'manager.two@bench.test'];
    await models.User.insertMany(managers.map((email) => ({ email, emailDomain: 'bench.test', siteRole: 'Users', status: 'active' })));
    await models.User.insertMany(Array.from({ length: EMPLOYEES }, (_, i) => ({ email: `employee.${i}@bench.test`, emailDomain: 'bench.test', siteRole: 'Users', status: 'active', hrEmployeeId: `B-${i}` })));

    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/webhooks/hr/generic`;

    const uniqueEvents = new Set<string>();
    const rows: string[][] = [['connections', 'requests', 'accepted (202)', 'other', 'accepted/s', 'p50 ms', 'p99 ms']];
    let acceptedTotal = 0;
    let totalSeconds = 0;
    let sequenceStart = 0;
    for (const connections of LEVELS) {
      const level = await runLoadProcess({ url, secret: SECRET, connections, requests: REQUESTS, seconds: SECONDS, sequenceStart, employees: EMPLOYEES, managers });
      sequenceStart += level.issued;
      for (const id of level.acceptedEventIds) uniqueEvents.add(id);
      totalSeconds += level.elapsed;
      acceptedTotal += level.accepted;
      rows.push([String(connections), String(level.issued), String(level.accepted), String(level.other), (level.accepted / level.elapsed).toFixed(0), level.p50.toFixed(2), level.p99.toFixed(2)]);
      process.stderr.write(`${connections} connections: ${level.accepted} accepted in ${level.elapsed.toFixed(1)} s\n`);
    }

    const drainStarted = performance.now();
    let drained = false;
    while (performance.now() - drainStarted < DRAIN_SECONDS * 1000) {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      if (c.waiting + c.active + c.delayed + c.prioritized === 0) {
        drained = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
    const queued = counts.completed + counts.failed + counts.waiting + counts.active + counts.delayed;
    const completed = await queue.getJobs(['completed'], 0, -1);
    const processedEventIds = completed.map((j) => (j.data as { event: HrEvent }).event.eventId);
    const duplicates = processedEventIds.length - new Set(processedEventIds).size;
    const unknown = processedEventIds.filter((id) => !uniqueEvents.has(id)).length;

    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    process.stdout.write(`\nHR intake, generic provider, signed webhooks, ${EMPLOYEES} employees, 1 in 10 a redelivery\n\n`);
    for (const r of rows) process.stdout.write(`${r.map((cell, i) => cell.padStart(widths[i]!)).join('  ')}\n`);
    process.stdout.write(
      `\naccepted (202) ${acceptedTotal} = ${uniqueEvents.size} unique events + ${acceptedTotal - uniqueEvents.size} redeliveries\n` +
        `jobs queued ${queued}, processed ${counts.completed}, failed ${counts.failed}, duplicates ${duplicates}, not sent ${unknown}\n` +
        (drained ? `queue drained ${drainSeconds.toFixed(1)} s after the last request (processing ${(counts.completed / (totalSeconds + drainSeconds)).toFixed(0)} jobs/s overall)\n` : `queue NOT drained after ${DRAIN_SECONDS} s\n`) +
        `${queued === uniqueEvents.size && counts.completed === uniqueEvents.size && duplicates === 0 ? 'OK: unique accepted = queued = processed, zero duplicates' : 'MISMATCH'}\n`,
    );
    if (!(queued === uniqueEvents.size && counts.completed === uniqueEvents.size && duplicates === 0)) process.exitCode = 1;
  } finally {
    await app.close();
    worker.kill('SIGTERM');
    await new Promise((r) => (worker.exitCode !== null ? r(undefined) : worker.once('exit', r)));
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    redis.disconnect();
    await conn.dropDatabase().catch(() => undefined);
    await conn.close();
    await temporal.connection.close();
    await stack.stop();
  }
}

(process.argv.includes('--intake-worker') ? intakeWorkerMain() : process.argv.includes('--load') ? loadMain() : main()).catch((err) => {
  process.stderr.write(`bench:intake failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});

/**
 * `npm run bench:intake`: HR webhook intake under load.
 *
 * Starts its own servers (or uses MONGODB_URI / REDIS_URL / TEMPORAL_ADDRESS), serves the real
 * API on a loopback port, runs the HR intake worker in a separate process (as in production:
 * API and worker are different processes; this file re-runs itself with --intake-worker), and sends signed generic-provider
 * webhooks at increasing concurrency. Every event is an `employee.updated` (manager change) of
 * an employee that exists, so each one is processed to a countable outcome without starting
 * processes; one request in ten is a redelivery of an event already sent.
 *
 * Prints, per concurrency: requests, accepted (202), other answers, accepted per second, p50 and
 * p99 latency; then accepted vs. unique events vs. jobs queued vs. jobs processed and duplicates.
 * Runs in an organization of BENCH_USERS users (default 100,000) beside the employees it updates.
 * Settings: BENCH_LEVELS (1,10,50,100), BENCH_REQUESTS (500 per level), BENCH_SECONDS (15 per level),
 * BENCH_DRAIN_SECONDS (600: how long to wait for the worker to process the backlog).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config/env';
import { connectMongo } from '../src/db/connection';
import { createModels, ensureIndexes } from '../src/db/models';
import { startStack } from '../src/devstack/stack';
import { buildApp } from '../src/http/app';
import type { HrEvent } from '../src/hr/events';
import { signGeneric } from '../src/hr/providers';
import { createQueue, createRedisConnection, QUEUE_NAMES } from '../src/jobs/queues';
import { startJobWorkers } from '../src/jobs/workers';
import { createLogger } from '../src/logger';
import { createTemporalClient } from '../src/temporal/client';
import { POPULATION, seedPopulation } from './support/population';

const LEVELS = (process.env.BENCH_LEVELS ?? '1,10,50,100').split(',').map(Number);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const DRAIN_SECONDS = Number(process.env.BENCH_DRAIN_SECONDS ?? 600);
const EMPLOYEES = 200;
const SECRET = randomUUID();

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
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
  const app = await buildApp({ config, logger, conn, models, redis, temporal });
  try {
    await seedPopulation(models.User.collection, POPULATION, 'organization', (i) => ({ hrEmployeeId: `P-${i}` }));
    const managers = ['manager.one@bench.test', 'manager.two@bench.test'];
    await models.User.insertMany(managers.map((email) => ({ email, emailDomain: 'bench.test', siteRole: 'Users', status: 'active' })));
    await models.User.insertMany(Array.from({ length: EMPLOYEES }, (_, i) => ({ email: `employee.${i}@bench.test`, emailDomain: 'bench.test', siteRole: 'Users', status: 'active', hrEmployeeId: `B-${i}` })));

    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/webhooks/hr/generic`;

    let sequence = 0;
    const sent: HrEvent[] = [];
    const uniqueEvents = new Set<string>();
    const nextEvent = (): HrEvent => {
      // One in ten is a redelivery of an event sent before (HR systems retry).
      if (sent.length > 10 && sequence % 10 === 9) {
        sequence += 1;
        return sent[Math.floor(Math.random() * sent.length)]!;
      }
      const i = sequence++;
      const event: HrEvent = {
        eventId: `bench-${i}-${randomUUID().slice(0, 8)}`,
        type: 'employee.updated',
        occurredAt: new Date().toISOString(),
        employee: { id: `B-${i % EMPLOYEES}`, managerEmail: managers[Math.floor(i / EMPLOYEES) % 2] },
      };
      sent.push(event);
      return event;
    };

    const rows: string[][] = [['connections', 'requests', 'accepted (202)', 'other', 'accepted/s', 'p50 ms', 'p99 ms']];
    let acceptedTotal = 0;
    let totalSeconds = 0;
    for (const connections of LEVELS) {
      const latencies: number[] = [];
      let accepted = 0;
      let other = 0;
      let issued = 0;
      const deadline = Date.now() + SECONDS * 1000;
      const started = performance.now();
      const loop = async () => {
        while (issued < REQUESTS && Date.now() < deadline) {
          issued += 1;
          const event = nextEvent();
          const body = JSON.stringify(event);
          const timestamp = String(Math.floor(Date.now() / 1000));
          const t0 = performance.now();
          const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-tenure-timestamp': timestamp, 'x-tenure-signature': signGeneric(SECRET, timestamp, body) } });
          await res.arrayBuffer();
          latencies.push(performance.now() - t0);
          if (res.status === 202) {
            accepted += 1;
            uniqueEvents.add(event.eventId);
          } else other += 1;
        }
      };
      await Promise.all(Array.from({ length: connections }, loop));
      const elapsed = (performance.now() - started) / 1000;
      totalSeconds += elapsed;
      latencies.sort((a, b) => a - b);
      acceptedTotal += accepted;
      rows.push([String(connections), String(issued), String(accepted), String(other), (accepted / elapsed).toFixed(0), percentile(latencies, 50).toFixed(2), percentile(latencies, 99).toFixed(2)]);
      process.stderr.write(`${connections} connections: ${accepted} accepted in ${elapsed.toFixed(1)} s\n`);
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

(process.argv.includes('--intake-worker') ? intakeWorkerMain() : main()).catch((err) => {
  process.stderr.write(`bench:intake failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});

/**
 * `npm run bench:console`: the admin console's users table over 100,000 users.
 *
 * Starts its own servers (or uses MONGODB_URI / REDIS_URL / TEMPORAL_ADDRESS), seeds a scratch
 * database, serves the real API on a loopback port, signs an Administrator in to the console
 * (one-time link → session cookie, as a browser does) and measures, sequentially, the whole page
 * (session check, query, rendering) of the users table: the first page of each tab, a search,
 * a role filter, the next page and a deep page; beside each, the same list through the API
 * (GET /v1/users with the same filters), which the console's table reads with the same function.
 * Settings: BENCH_USERS (100000), BENCH_REQUESTS (at most 200 per cell), BENCH_SECONDS (a cell
 * stops sampling after 20 s once it has BENCH_MIN_SAMPLES, 3), BENCH_WARMUP (10 per cell).
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config/env';
import { connectMongo } from '../src/db/connection';
import { createModels, ensureIndexes } from '../src/db/models';
import { startStack } from '../src/devstack/stack';
import { createRedisConnection } from '../src/jobs/queues';
import { createLogger } from '../src/logger';
import { buildApiApp } from '../src/main/api-app';
import { issueAccessToken } from '../src/security/access-tokens';
import { issueSignInLink, redeemSignInLink } from '../src/services/console-sign-in';
import { createTemporalClient } from '../src/temporal/client';
import { POPULATION, seedPopulation } from './support/population';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const MIN_SAMPLES = Number(process.env.BENCH_MIN_SAMPLES ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);

/** Console query, and the API query that lists the same users. */
const CELLS = [
  { label: 'Active tab, first page', console: '', api: 'status=active' },
  { label: 'Pending tab, first page', console: 'status=pending', api: 'status=pending' },
  { label: 'Deactivated tab, first page', console: 'status=deactivated', api: 'status=deactivated' },
  { label: 'All, first page', console: 'status=all', api: '' },
  { label: 'search q=john smith', console: 'q=john+smith', api: 'status=active&q=john+smith' },
  { label: 'role=Users', console: 'role=Users', api: 'status=active&siteRole=Users' },
  { label: 'second page', console: 'offset=50', api: 'status=active&offset=50' },
  { label: 'page at offset 50,000', console: 'offset=50000', api: 'status=active&offset=50000' },
];

interface Stats {
  n: number;
  median: number;
  p99: number;
  rows: number;
}

async function measure(label: string, fn: () => Promise<number>): Promise<Stats> {
  process.stderr.write(`  measuring ${label}\n`);
  for (let i = 0; i < WARMUP; i++) await fn();
  const samples: number[] = [];
  let rows = 0;
  const deadline = performance.now() + SECONDS * 1000;
  while (samples.length < REQUESTS && (samples.length < MIN_SAMPLES || performance.now() < deadline)) {
    const t = performance.now();
    rows = await fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)]!;
  return { n: samples.length, median: at(0.5), p99: at(0.99), rows };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r, i) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ') + (i === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : '')).join('\n');
}

const ms = (x: number) => x.toFixed(1);

async function main(): Promise<void> {
  process.stderr.write('starting servers...\n');
  const stack = await startStack();
  const dbName = `bench_console_${randomUUID().slice(0, 8)}`;
  const config = loadConfig({ MONGODB_URI: stack.mongoUri, MONGODB_DB: dbName, REDIS_URL: stack.redisUrl, TEMPORAL_ADDRESS: stack.temporalAddress, NODE_ENV: 'test', LOG_LEVEL: 'warn' });
  const logger = createLogger({ level: 'warn', name: 'bench' });
  const conn = await connectMongo(config.MONGODB_URI, dbName);
  const redis = createRedisConnection(config.REDIS_URL);
  const temporal = await createTemporalClient({ address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE });
  const models = createModels(conn);
  try {
    const seedMs = await seedPopulation(models.User.collection, POPULATION, 'users');
    await ensureIndexes(models);
    // The first 2,000 minutes' sign-ups are still invited (pending): the Pending tab has rows.
    await models.User.collection.updateMany({ createdAt: { $lt: new Date(Date.UTC(2020, 0, 1) + 2000 * 60_000) }, status: 'active' }, { $set: { status: 'pending' } });
    const admin = await models.User.create({ email: 'bench.admin@bench.test', siteRole: 'Administrators', status: 'active' });
    const { token } = await issueAccessToken(models, admin._id);
    // The console's own sign-in, minus the email: a link, then the session it opens.
    const link = await issueSignInLink(models, admin.email);
    const session = await redeemSignInLink(models, link!.token, {});
    const cookie = `tenure_console=${session.secret}`;

    const app = await buildApiApp({ config, logger, conn, models, redis, temporal });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    const results: string[][] = [['users table', 'rows', 'console median', 'console p99', 'API median', 'API p99', 'n']];
    for (const cell of CELLS) {
      const page = await measure(`${cell.label}: the console page`, async () => {
        const res = await fetch(`${base}/console/users?${cell.console}`, { headers: { cookie }, redirect: 'manual' });
        if (res.status !== 200) throw new Error(`the console answered ${res.status}`);
        return ((await res.text()).match(/<tr data-user-id=/g) ?? []).length;
      });
      const api = await measure(`${cell.label}: the API list`, async () => {
        const res = await fetch(`${base}/v1/users?limit=50&${cell.api}`, { headers: { authorization: `Bearer ${token}` } });
        if (res.status !== 200) throw new Error(`the API answered ${res.status}`);
        return ((await res.json()) as { users: unknown[] }).users.length;
      });
      if (page.rows !== api.rows) throw new Error(`${cell.label}: the console shows ${page.rows} rows, the API lists ${api.rows}`);
      results.push([cell.label, String(page.rows), ms(page.median), ms(page.p99), ms(api.median), ms(api.p99), String(Math.min(page.n, api.n))]);
    }
    process.stdout.write(`\nconsole users table over ${POPULATION} users (seeded in ${(seedMs / 1000).toFixed(1)} s)\n`);
    process.stdout.write('latency in ms of whole pages, sequential requests; 50 rows a page, no count\n\n');
    process.stdout.write(`${table(results)}\n`);
    await app.close();
  } finally {
    await conn.dropDatabase().catch(() => undefined);
    await conn.close();
    redis.disconnect();
    await temporal.connection.close();
    await stack.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench:console failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

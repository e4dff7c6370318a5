/**
 * `npm run bench:search`: latency of email searches over 100,000 users.
 *
 * Starts its own servers (or uses MONGODB_URI / REDIS_URL / TEMPORAL_ADDRESS), seeds a scratch
 * database, serves the real API on a loopback port and measures, side by side:
 *   - the email search through the API: GET /v1/users/search?email=PATTERN, which answers one user
 *     or 400 `multiple_matches` and so never reads more than two users
 *   - a page of the list through the API: GET /v1/users/active?email=PATTERN&limit=50, then the
 *     same with count=true (the page plus the number of all matches)
 *   - the naive query a search box often gets: a case-insensitive $regex on email (find + count)
 * then prints explain() of the indexed queries when the server supports it.
 * Settings: BENCH_USERS (100000), BENCH_REQUESTS (at most 200 per cell), BENCH_SECONDS (a cell stops
 * sampling after 20 s once it has BENCH_MIN_SAMPLES, 3), BENCH_WARMUP (10 unmeasured runs per cell, so the servers are warm).
 * A slow server (one that scans the collection) gets few samples per cell; the table prints n.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config/env';
import { connectMongo } from '../src/db/connection';
import { createModels, ensureIndexes } from '../src/db/models';
import { startStack } from '../src/devstack/stack';
import { buildApiApp } from '../src/main/api-app';
import { createRedisConnection } from '../src/jobs/queues';
import { createLogger } from '../src/logger';
import { issueAccessToken } from '../src/security/access-tokens';
import { createTemporalClient } from '../src/temporal/client';
import { emailPatternQuery } from '../src/services/users';
import { POPULATION, seedPopulation, userDoc } from './support/population';

const USERS = POPULATION;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const MIN_SAMPLES = Number(process.env.BENCH_MIN_SAMPLES ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);
const PAGE = 50;

const QUERIES = [
  // One user: an exact address, and a pattern only one address matches.
  { label: 'email=<exact>', pattern: userDoc(54_321 % POPULATION).email },
  { label: 'email=<unique prefix>*', pattern: `${userDoc(12_345 % POPULATION).email.split('@')[0]}@*` },
  // Many users: the email search answers 400 multiple_matches after reading two.
  { label: 'email=*@initech.test', pattern: '*@initech.test' },
  { label: 'email=john*', pattern: 'john*' },
  { label: 'email=*eng*@initech.test', pattern: '*eng*@initech.test' },
];

interface Stats {
  n: number;
  median: number;
  p99: number;
  rows: number;
}

/** Runs `fn` sequentially: warm-ups, then up to REQUESTS times or SECONDS (after MIN_SAMPLES), whichever ends first. */
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
  const stats = { n: samples.length, median: at(0.5), p99: at(0.99), rows };
  // Printed as it comes, so a long run shows its figures before the table.
  process.stderr.write(`    ${rows} matches, n=${stats.n}, median ${ms(stats.median)} ms, p99 ${ms(stats.p99)} ms\n`);
  return stats;
}

function naiveRegex(pattern: string): string {
  // What a direct implementation does: "*" to ".*", no escaping of the rest beyond dots, no anchoring help.
  return pattern.replace(/\./g, '\\.').replace(/\*/g, '.*');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r, i) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ') + (i === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : '')).join('\n');
}

const ms = (x: number) => x.toFixed(1);

async function main(): Promise<void> {
  process.stderr.write('starting servers...\n');
  const stack = await startStack();
  const dbName = `bench_search_${randomUUID().slice(0, 8)}`;
  const config = loadConfig({
    MONGODB_URI: stack.mongoUri,
    MONGODB_DB: dbName,
    REDIS_URL: stack.redisUrl,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
  });
  const logger = createLogger({ level: 'warn', name: 'bench' });
  const conn = await connectMongo(config.MONGODB_URI, dbName);
  const redis = createRedisConnection(config.REDIS_URL);
  const temporal = await createTemporalClient({ address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE });
  const models = createModels(conn);
  try {
    const seedMs = await seedPopulation(models.User.collection, USERS, 'users');
    const indexStarted = performance.now();
    await ensureIndexes(models);
    const indexMs = performance.now() - indexStarted;
    const admin = await models.User.create({ email: 'bench.admin@bench.test', siteRole: 'Administrators', status: 'active' });
    const { token } = await issueAccessToken(models, admin._id);

    const app = await buildApiApp({ config, logger, conn, models, redis, temporal });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const serverInfo = (await conn.db!.admin().command({ buildInfo: 1 })) as { version?: string; ferretdbVersion?: string; ferretdb?: { version?: string } };
    const ferret = serverInfo.ferretdb?.version ?? serverInfo.ferretdbVersion;
    const server = ferret ? `FerretDB ${ferret} (MongoDB ${serverInfo.version} wire)` : `a server announcing MongoDB ${serverInfo.version}`;

    const api = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const results: string[][] = [['query', 'matches', 'search answer', 'search median', 'search p99', 'page median', 'page p99', 'page+count median', 'page+count p99', '$regex median', '$regex p99', '$regex/page (median)', 'n']];
    for (const q of QUERIES) {
      let answer = '';
      const search = await measure(`${q.label}: email search through the API`, async () => {
        const res = await api(`/v1/users/search?email=${encodeURIComponent(q.pattern)}`);
        const body = (await res.json()) as { error?: { code: string } };
        if (res.status !== 200 && body.error?.code !== 'multiple_matches') throw new Error(`search answered ${res.status}: ${JSON.stringify(body)}`);
        answer = res.status === 200 ? '200 one user' : '400 multiple';
        return res.status === 200 ? 1 : 2;
      });
      const page = await measure(`${q.label}: a page of the list through the API`, async () => {
        const res = await api(`/v1/users/active?email=${encodeURIComponent(q.pattern)}&limit=${PAGE}`);
        if (res.status !== 200) throw new Error(`API answered ${res.status}: ${await res.text()}`);
        return ((await res.json()) as unknown[]).length;
      });
      const counted = await measure(`${q.label}: a page and the count through the API`, async () => {
        const res = await api(`/v1/users/active?email=${encodeURIComponent(q.pattern)}&limit=${PAGE}&count=true`);
        if (res.status !== 200) throw new Error(`API answered ${res.status}: ${await res.text()}`);
        await res.json();
        return Number(res.headers.get('x-total-count'));
      });
      const regexQuery: Record<string, unknown> = { email: { $regex: naiveRegex(q.pattern), $options: 'i' }, status: 'active' };
      const unindexed = await measure(`${q.label} as $regex, through mongoose`, async () => {
        const [count] = await Promise.all([models.User.countDocuments(regexQuery), models.User.find(regexQuery).sort({ email: 1 }).limit(PAGE).lean()]);
        return count;
      });
      if (counted.rows !== unindexed.rows) throw new Error(`${q.label}: the API counted ${counted.rows}, the $regex ${unindexed.rows}`);
      if (page.rows !== Math.min(PAGE, counted.rows)) throw new Error(`${q.label}: a page of ${page.rows} for ${counted.rows} matches`);
      results.push([
        q.label, String(counted.rows), answer,
        ms(search.median), ms(search.p99), ms(page.median), ms(page.p99), ms(counted.median), ms(counted.p99), ms(unindexed.median), ms(unindexed.p99),
        `${(unindexed.median / page.median).toFixed(2)}x`, String(Math.min(search.n, page.n, counted.n, unindexed.n)),
      ]);
    }

    process.stdout.write(`\nsearch over ${USERS} users on ${server}; seeded in ${(seedMs / 1000).toFixed(1)} s, indexes built in ${(indexMs / 1000).toFixed(1)} s\n`);
    process.stdout.write(`latency in ms, sequential requests; API = HTTP + auth + indexed query; page = ${PAGE} users\n\n`);
    process.stdout.write(`${table(results)}\n`);

    process.stdout.write('\nexplain() of the indexed queries (and of the $regex one for comparison):\n');
    for (const q of QUERIES) {
      for (const [kind, query] of [
        ['indexed', { ...emailPatternQuery(q.pattern), status: 'active' }],
        ['$regex', { email: { $regex: naiveRegex(q.pattern), $options: 'i' }, status: 'active' }],
      ] as Array<[string, Record<string, unknown>]>) {
        try {
          const plan = (await models.User.find(query).sort({ email: 1 }).limit(PAGE).explain('queryPlanner')) as unknown;
          process.stdout.write(`\n${q.label} ${kind}  filter ${JSON.stringify(query)}\n  ${summarizePlan(plan)}\n`);
        } catch (err) {
          process.stdout.write(`\n${q.label} ${kind}: explain() not supported here (${(err as Error).message.split('\n')[0]})\n`);
        }
      }
    }
    await app.close();
  } finally {
    await conn.dropDatabase().catch(() => undefined);
    await conn.close();
    redis.disconnect();
    await temporal.connection.close();
    await stack.stop();
  }
}

/** The parts of an explain() answer that say whether an index was used. */
function summarizePlan(plan: unknown): string {
  const p = (Array.isArray(plan) ? plan[0] : plan) as Record<string, any>;
  const out: Record<string, unknown> = {};
  const winning = p?.queryPlanner?.winningPlan;
  if (winning) {
    const stages: string[] = [];
    const indexes: string[] = [];
    const walk = (s: any) => {
      if (!s) return;
      stages.push(s.stage);
      if (s.indexName) indexes.push(s.indexName);
      walk(s.inputStage);
      (s.inputStages ?? []).forEach(walk);
    };
    walk(winning.queryPlan ?? winning);
    out.stages = stages.join(' <- ');
    out.indexes = indexes;
  }
  for (const key of ['pushdown', 'filterPushdown', 'sortPushdown', 'limitPushdown', 'unsafeSortPushdown']) if (key in (p ?? {})) out[key] = p[key];
  if (!winning && p?.queryPlanner) out.queryPlanner = JSON.stringify(p.queryPlanner).slice(0, 600);
  return Object.keys(out).length ? JSON.stringify(out) : JSON.stringify(p).slice(0, 800);
}

main().catch((err) => {
  process.stderr.write(`bench:search failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

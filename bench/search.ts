/**
 * `npm run bench:search`: latency of seed 001 email searches over 100,000 users.
 *
 * Starts its own servers (or uses MONGODB_URI / REDIS_URL / TEMPORAL_ADDRESS), seeds a scratch
 * database, serves the real API on a loopback port and measures, side by side:
 *   - the API: GET /v1/users/active?email=PATTERN&limit=50 (indexed query, auth, JSON, HTTP)
 *   - the same indexed query straight through mongoose (find + count)
 *   - the naive query a search box often gets: a case-insensitive $regex on email (find + count)
 * then prints explain() of the indexed queries when the server supports it.
 * Settings: BENCH_USERS (100000), BENCH_REQUESTS (at most 200 per cell), BENCH_SECONDS (a cell stops
 * sampling after 20 s once it has BENCH_MIN_SAMPLES, 3), BENCH_WARMUP (1 unmeasured run per cell).
 * On a server without filter pushdown (FerretDB v1 with SQLite) each query scans the collection,
 * so expect a few samples per cell and minutes of run time; the table prints n per row.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config/env';
import { connectMongo } from '../src/db/connection';
import { createModels, ensureIndexes, type Models } from '../src/db/models';
import { searchTokensFor } from '../src/db/models/user';
import { startStack } from '../src/devstack/stack';
import { buildApp } from '../src/http/app';
import { createRedisConnection } from '../src/jobs/queues';
import { createLogger } from '../src/logger';
import { issueAccessToken } from '../src/security/access-tokens';
import { createTemporalClient } from '../src/temporal/client';
import { emailPatternQuery } from '../src/services/users';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const MIN_SAMPLES = Number(process.env.BENCH_MIN_SAMPLES ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const BATCH = 5_000;
const PAGE = 50;

const DOMAINS = ['acme.test', 'globex.test', 'initech.test', 'umbrella.test', 'hooli.test'];
const FIRST = ['john', 'johnny', 'johanna', 'jane', 'mary', 'peter', 'bengt', 'sven', 'li', 'ana', 'omar', 'yuki', 'eng', 'kofi', 'rosa', 'ivan'];
const LAST = ['smith', 'doe', 'lee', 'garcia', 'engels', 'muller', 'rossi', 'tanaka', 'kim', 'silva', 'strong', 'brown'];
const ROLES = ['ops', 'engineer', 'sales', 'support', 'finance', 'design', 'legal', 'hr'];

const QUERIES = [
  { label: 'email=*@initech.test', pattern: '*@initech.test' },
  { label: 'email=john*', pattern: 'john*' },
  { label: 'email=*eng*@initech.test', pattern: '*eng*@initech.test' },
];

function userDoc(i: number) {
  const first = FIRST[i % FIRST.length]!;
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length]!;
  const role = ROLES[Math.floor(i / 7) % ROLES.length]!;
  const domain = DOMAINS[i % DOMAINS.length]!;
  // e.g. john.smith.engineer.123@acme.test: about 1 in 8 locals holds "engineer", names add "eng" more often.
  const email = `${first}.${last}.${role}.${i}@${domain}`;
  const firstName = first[0]!.toUpperCase() + first.slice(1);
  const lastName = last[0]!.toUpperCase() + last.slice(1);
  const at = new Date(Date.UTC(2020, 0, 1) + i * 60_000);
  return {
    email,
    emailDomain: domain,
    firstName,
    lastName,
    searchTokens: searchTokensFor({ email, firstName, lastName }),
    siteRole: 'Users',
    status: i % 10 === 0 ? 'deactivated' : 'active',
    groups: [],
    applications: [],
    tools: [],
    createdAt: at,
    updatedAt: at,
  };
}

async function seed(models: Models): Promise<number> {
  const started = performance.now();
  for (let from = 0; from < USERS; from += BATCH) {
    const docs = Array.from({ length: Math.min(BATCH, USERS - from) }, (_, k) => userDoc(from + k));
    await models.User.collection.insertMany(docs, { ordered: false });
    process.stderr.write(`\r  seeded ${Math.min(from + BATCH, USERS)} / ${USERS}`);
  }
  process.stderr.write('\n');
  return performance.now() - started;
}

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
    const seedMs = await seed(models);
    const indexStarted = performance.now();
    await ensureIndexes(models);
    const indexMs = performance.now() - indexStarted;
    const admin = await models.User.create({ email: 'bench.admin@bench.test', siteRole: 'Administrators', status: 'active' });
    const { token } = await issueAccessToken(models, admin._id);

    const app = await buildApp({ config, logger, conn, models, redis, temporal });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const serverInfo = (await conn.db!.admin().command({ buildInfo: 1 })) as { version?: string; ferretdbVersion?: string; ferretdb?: { version?: string } };
    const server = serverInfo.ferretdb?.version ?? serverInfo.ferretdbVersion ? `FerretDB ${serverInfo.ferretdb?.version ?? serverInfo.ferretdbVersion} (MongoDB ${serverInfo.version} wire)` : `MongoDB ${serverInfo.version}`;

    const results: string[][] = [['query', 'matches', 'API median', 'API p99', 'indexed median', 'indexed p99', '$regex median', '$regex p99', '$regex/API (median)', '$regex/indexed (median)', 'n']];
    for (const q of QUERIES) {
      const api = await measure(`${q.label} through the API`, async () => {
        const res = await fetch(`${base}/v1/users/active?email=${encodeURIComponent(q.pattern)}&limit=${PAGE}`, { headers: { authorization: `Bearer ${token}` } });
        if (res.status !== 200) throw new Error(`API answered ${res.status}: ${await res.text()}`);
        await res.json();
        return Number(res.headers.get('x-total-count'));
      });
      const indexedQuery: Record<string, unknown> = { ...emailPatternQuery(q.pattern), status: 'active' };
      const indexed = await measure(`${q.label} indexed, through mongoose`, async () => {
        const [count] = await Promise.all([models.User.countDocuments(indexedQuery), models.User.find(indexedQuery).sort({ email: 1 }).limit(PAGE).lean()]);
        return count;
      });
      const regexQuery: Record<string, unknown> = { email: { $regex: naiveRegex(q.pattern), $options: 'i' }, status: 'active' };
      const unindexed = await measure(`${q.label} as $regex, through mongoose`, async () => {
        const [count] = await Promise.all([models.User.countDocuments(regexQuery), models.User.find(regexQuery).sort({ email: 1 }).limit(PAGE).lean()]);
        return count;
      });
      if (api.rows !== unindexed.rows || api.rows !== indexed.rows) throw new Error(`${q.label}: the API found ${api.rows}, the indexed query ${indexed.rows}, the $regex ${unindexed.rows}`);
      results.push([q.label, String(api.rows), ms(api.median), ms(api.p99), ms(indexed.median), ms(indexed.p99), ms(unindexed.median), ms(unindexed.p99), `${(unindexed.median / api.median).toFixed(2)}x`, `${(unindexed.median / indexed.median).toFixed(2)}x`, String(Math.min(api.n, indexed.n, unindexed.n))]);
    }

    process.stdout.write(`\nsearch over ${USERS} users on ${server}; seeded in ${(seedMs / 1000).toFixed(1)} s, indexes built in ${(indexMs / 1000).toFixed(1)} s\n`);
    process.stdout.write(`latency in ms, sequential requests, page of ${PAGE} plus total count; API = HTTP + auth + indexed query\n\n`);
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

/** The parts of an explain() answer that say whether an index was used (MongoDB and FerretDB shapes). */
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

/**
 * `npm run bench:store`: the MongoDB-wire servers side by side, in one run and one table.
 *
 * Servers: the project's default (startMongoServer(): mongod when on PATH, else mongo-java-server
 * in memory), FerretDB v1 with SQLite when it can be found or built (bench/support/ferretdb.ts;
 * a comparison only, never tenure's store), and the server at MONGODB_URI when that is set.
 * Each server is started, measured and stopped in turn, all on loopback.
 *
 *   a. Atomicity under concurrency (as test/store/conformance.test.ts): 20 separate clients (one
 *      connection each) released together on one document, BENCH_TRIALS times:
 *        - conditional findOneAndUpdate pending -> active: winners per trial (want 1)
 *        - one $inc per client: the final n (want 20)
 *        - a claim updateOne({ key, finishedAt: null }) on a unique key: modifiedCount sum (want 1)
 *      Each cell is "min–max over the trials, k/TRIALS right".
 *   b. Latency, sequential, over a users collection shaped like tenure's (email unique index,
 *      { emailDomain, email } index): findOne by email, find by domain with limit 50,
 *      countDocuments by domain, updateOne by _id and findOneAndUpdate by _id.
 *      Each cell is "median / p99 ms, n samples"; the last column is FerretDB / default.
 *
 * Settings: BENCH_USERS (100000 users), BENCH_TRIALS (20 races per check), BENCH_SAMPLES (at most
 * 200 per cell), BENCH_SECONDS (a cell stops sampling after 20 s once it has 3 samples, since
 * FerretDB takes seconds per query), FERRETDB_BIN (a FerretDB v1 binary), MONGODB_URI (an extra
 * column; only a scratch database there is written and dropped).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { mongo } from 'mongoose';
import { startMongoServer } from '../src/devstack/stack';
import { startFerretDbForComparison } from './support/ferretdb';
import { DOMAINS, POPULATION, seedPopulation, userDoc, usersInDomain as inDomain } from './support/population';

const { MongoClient, ObjectId } = mongo;
type Db = mongo.Db;
type MongoClientT = mongo.MongoClient;

const CLIENTS = 20;
const TRIALS = Number(process.env.BENCH_TRIALS ?? 20);
const USERS = POPULATION;
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const MIN_SAMPLES = 3;
const PAGE = 50;

// ---------------------------------------------------------------------------------------------
// Servers

interface Server {
  label: string;
  uri: string;
  stop?: () => Promise<void>;
}

/** Stops of the servers running now, so Ctrl-C (they run in their own process groups) ends them too. */
const running = new Set<() => Promise<void>>();

process.once('SIGINT', () => void interrupted('SIGINT'));
process.once('SIGTERM', () => void interrupted('SIGTERM'));

async function interrupted(signal: string): Promise<void> {
  process.stderr.write(`\n${signal}: stopping the servers…\n`);
  await Promise.allSettled([...running].map((stop) => stop()));
  process.exit(130);
}

async function startDefault(): Promise<Server> {
  const server = await startMongoServer();
  return { label: `default (${server.kind})`, uri: server.uri, stop: server.stop };
}

async function startFerretDb(): Promise<Server | undefined> {
  const ferret = await startFerretDbForComparison();
  return ferret && { label: `FerretDB ${ferret.version}`, uri: ferret.uri, stop: ferret.stop };
}

async function serverIdentity(db: Db): Promise<string> {
  const info = (await db.admin().command({ buildInfo: 1 })) as { version?: string; ferretdbVersion?: string; ferretdb?: { version?: string } };
  const ferret = info.ferretdb?.version ?? info.ferretdbVersion;
  return `buildInfo version ${info.version ?? '?'}${ferret ? `, ferretdbVersion ${ferret}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// a. Atomicity under concurrency

interface RaceSummary {
  min: number;
  max: number;
  right: number;
  errors: number;
}

/** CLIENTS clients with one warmed connection each, so a race is not decided by connection set-up. */
async function raceClients(uri: string, dbName: string): Promise<MongoClientT[]> {
  return Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const client = new MongoClient(uri, { maxPoolSize: 1, minPoolSize: 1, serverSelectionTimeoutMS: 10_000 });
      await client.connect();
      await client.db(dbName).command({ ping: 1 });
      return client;
    }),
  );
}

/** Runs `op` once per client, all released at the same moment; failures are counted, not thrown. */
async function race<T>(dbs: Db[], op: (db: Db, i: number) => Promise<T>): Promise<{ values: T[]; errors: number }> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const runs = dbs.map(async (db, i) => {
    await gate;
    return op(db, i);
  });
  release();
  const settled = await Promise.allSettled(runs);
  return {
    values: settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])),
    errors: settled.filter((s) => s.status === 'rejected').length,
  };
}

/** Runs `trial` TRIALS times; each returns the observed figure and the errors it met. */
async function trials(expected: number, trial: (t: number) => Promise<{ value: number; errors: number }>): Promise<RaceSummary> {
  const values: number[] = [];
  let errors = 0;
  for (let t = 0; t < TRIALS; t++) {
    const r = await trial(t);
    values.push(r.value);
    errors += r.errors;
  }
  return { min: Math.min(...values), max: Math.max(...values), right: values.filter((v) => v === expected).length, errors };
}

async function casWinners(main: Db, dbs: Db[]): Promise<RaceSummary> {
  return trials(1, async (trial) => {
    const { insertedId } = await main.collection('cas').insertOne({ status: 'pending', trial });
    const { values, errors } = await race(dbs, (db, i) =>
      db.collection('cas').findOneAndUpdate({ _id: insertedId, status: 'pending' }, { $set: { status: 'active', by: i } }, { returnDocument: 'after' }),
    );
    return { value: values.filter((doc) => doc !== null).length, errors };
  });
}

async function incTotals(main: Db, dbs: Db[]): Promise<RaceSummary> {
  return trials(CLIENTS, async (trial) => {
    const { insertedId } = await main.collection('counter').insertOne({ n: 0, trial });
    const { errors } = await race(dbs, (db) => db.collection('counter').updateOne({ _id: insertedId }, { $inc: { n: 1 } }));
    const stored = await main.collection('counter').findOne({ _id: insertedId });
    return { value: (stored?.n as number | undefined) ?? -1, errors };
  });
}

async function claimsWon(main: Db, dbs: Db[]): Promise<RaceSummary> {
  await main.collection('claims').createIndex({ key: 1 }, { unique: true });
  return trials(1, async (trial) => {
    const key = `job-${trial}-${randomUUID()}`;
    await main.collection('claims').insertOne({ key, finishedAt: null, claimedBy: null });
    const { values, errors } = await race(dbs, (db, i) => db.collection('claims').updateOne({ key, finishedAt: null }, { $set: { finishedAt: new Date(), claimedBy: i } }));
    return { value: values.reduce((n, r) => n + r.modifiedCount, 0), errors };
  });
}

// ---------------------------------------------------------------------------------------------
// b. Latency over a users collection

/** Inserts USERS users with the indexes tenure declares for lookups by email; returns their _ids. */
async function seedUsers(db: Db, label: string): Promise<mongo.ObjectId[]> {
  const users = db.collection('users');
  await users.createIndex({ email: 1 }, { unique: true });
  await users.createIndex({ emailDomain: 1, email: 1 });
  await users.createIndex({ status: 1, siteRole: 1, createdAt: -1 });
  const ids: mongo.ObjectId[] = [];
  await seedPopulation(users, USERS, label, () => {
    const _id = new ObjectId();
    ids.push(_id);
    return { _id };
  });
  return ids;
}

interface Stats {
  n: number;
  median: number;
  p99: number;
  /** Samples whose answer was not the expected one (a missing user, a wrong count). */
  wrong: number;
}

/** A small seeded PRNG, so every server gets the same sequence of lookups. */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** Runs `fn` sequentially: one warm-up, then up to SAMPLES times, or SECONDS once it has MIN_SAMPLES. */
async function measure(label: string, fn: (pick: (n: number) => number) => Promise<boolean>): Promise<Stats> {
  const pick = prng(42);
  await fn(pick);
  const samples: number[] = [];
  let wrong = 0;
  const deadline = performance.now() + SECONDS * 1000;
  while (samples.length < SAMPLES && (samples.length < MIN_SAMPLES || performance.now() < deadline)) {
    const t = performance.now();
    const ok = await fn(pick);
    samples.push(performance.now() - t);
    if (!ok) wrong++;
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)]!;
  const stats = { n: samples.length, median: at(0.5), p99: at(0.99), wrong };
  process.stderr.write(`    ${label}: n=${stats.n}, median ${fmtMs(stats.median)} ms, p99 ${fmtMs(stats.p99)} ms${wrong ? `, ${wrong} wrong` : ''}\n`);
  return stats;
}

const OPERATIONS: Array<{ label: string; run: (db: Db, ids: mongo.ObjectId[], pick: (n: number) => number) => Promise<boolean> }> = [
  {
    label: 'findOne by email',
    run: async (db, _ids, pick) => {
      const i = pick(USERS);
      return (await db.collection('users').findOne({ email: userDoc(i).email }))?.emailDomain === DOMAINS[i % DOMAINS.length];
    },
  },
  {
    label: `find by emailDomain, limit ${PAGE}`,
    run: async (db, _ids, pick) => {
      const k = pick(DOMAINS.length);
      const page = await db.collection('users').find({ emailDomain: DOMAINS[k] }).limit(PAGE).toArray();
      return page.length === Math.min(PAGE, inDomain(USERS, k));
    },
  },
  {
    label: 'countDocuments by emailDomain',
    run: async (db, _ids, pick) => {
      const k = pick(DOMAINS.length);
      return (await db.collection('users').countDocuments({ emailDomain: DOMAINS[k] })) === inDomain(USERS, k);
    },
  },
  {
    label: 'updateOne by _id ($set)',
    run: async (db, ids, pick) => {
      const now = new Date();
      const r = await db.collection('users').updateOne({ _id: ids[pick(ids.length)] }, { $set: { lastSeenAt: now, updatedAt: now } });
      return r.matchedCount === 1;
    },
  },
  {
    label: 'findOneAndUpdate by _id',
    run: async (db, ids, pick) => {
      const now = new Date();
      const doc = await db.collection('users').findOneAndUpdate({ _id: ids[pick(ids.length)] }, { $set: { title: `t${now.getTime()}`, updatedAt: now } }, { returnDocument: 'after' });
      return doc !== null;
    },
  },
];

// ---------------------------------------------------------------------------------------------
// One server, then the table

interface ServerResult {
  label: string;
  identity: string;
  error?: string;
  atomicity?: { cas: RaceSummary; inc: RaceSummary; claim: RaceSummary };
  seedMs?: number;
  latency: Record<string, Stats>;
}

async function benchServer(server: Server): Promise<ServerResult> {
  process.stderr.write(`${server.label} at ${server.uri}\n`);
  const dbName = `bench_store_${randomUUID().slice(0, 8)}`;
  const result: ServerResult = { label: server.label, identity: '?', latency: {} };
  const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 10_000, socketTimeoutMS: 300_000 });
  let racers: MongoClientT[] = [];
  try {
    await client.connect();
    const main = client.db(dbName);
    result.identity = await serverIdentity(main);

    process.stderr.write(`  ${server.label}: atomicity, ${CLIENTS} clients × ${TRIALS} trials\n`);
    racers = await raceClients(server.uri, dbName);
    const dbs = racers.map((c) => c.db(dbName));
    result.atomicity = { cas: await casWinners(main, dbs), inc: await incTotals(main, dbs), claim: await claimsWon(main, dbs) };

    const seedStarted = performance.now();
    const ids = await seedUsers(main, server.label);
    result.seedMs = performance.now() - seedStarted;
    for (const op of OPERATIONS) result.latency[op.label] = await measure(`${server.label}: ${op.label}`, (pick) => op.run(main, ids, pick));
  } catch (err) {
    result.error = (err as Error).message.split('\n')[0];
    process.stderr.write(`  ${server.label} failed: ${result.error}\n`);
  } finally {
    await client.db(dbName).dropDatabase().catch(() => undefined);
    await Promise.allSettled([client, ...racers].map((c) => c.close()));
  }
  return result;
}

const fmtMs = (x: number) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
const fmtRatio = (x: number) => (x < 10 ? `${x.toFixed(1)}x` : `${Math.round(x)}x`);

function raceCell(r?: RaceSummary): string {
  if (!r) return '—';
  return `${r.min}–${r.max}, ${r.right}/${TRIALS} right${r.errors ? `, ${r.errors} errors` : ''}`;
}

function latencyCell(s?: Stats): string {
  if (!s) return '—';
  return `${fmtMs(s.median)} / ${fmtMs(s.p99)} ms, n=${s.n}${s.wrong ? `, ${s.wrong} wrong` : ''}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('   '), ...rows.slice(1).map(line)].join('\n');
}

function resultTable(results: ServerResult[]): string {
  const base = results.find((r) => r.label.startsWith('default'));
  const ferret = results.find((r) => r.label.startsWith('FerretDB'));
  const compare = !!(base && ferret);
  const ratio = (f: (r: ServerResult) => number | undefined) => {
    const a = ferret && f(ferret);
    const b = base && f(base);
    return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
  };
  const rows: string[][] = [['', ...results.map((r) => r.label), ...(compare ? ['FerretDB/default'] : [])]];
  const atomicRows: Array<[string, 'cas' | 'inc' | 'claim']> = [
    ['conditional findOneAndUpdate: winners (want 1)', 'cas'],
    [`$inc once per client: final n (want ${CLIENTS})`, 'inc'],
    ['claim updateOne on unique key: modified (want 1)', 'claim'],
  ];
  for (const [label, key] of atomicRows) rows.push([label, ...results.map((r) => raceCell(r.atomicity?.[key])), ...(compare ? [''] : [])]);
  const seedRatio = ratio((r) => r.seedMs);
  rows.push([`seed ${USERS} users (s)`, ...results.map((r) => (r.seedMs === undefined ? '—' : (r.seedMs / 1000).toFixed(1))), ...(compare ? [seedRatio ? fmtRatio(seedRatio) : '—'] : [])]);
  for (const op of OPERATIONS) {
    const med = ratio((r) => r.latency[op.label]?.median);
    const p99 = ratio((r) => r.latency[op.label]?.p99);
    rows.push([op.label, ...results.map((r) => latencyCell(r.latency[op.label])), ...(compare ? [med && p99 ? `${fmtRatio(med)} / ${fmtRatio(p99)}` : '—'] : [])]);
  }
  return table(rows);
}

function machineLine(): string {
  const cpus = os.cpus();
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${cpus.length} CPUs (${cpus[0]?.model.trim() ?? '?'}), load average ${load}, ${os.platform()} ${os.release()}, node ${process.version}`;
}

async function main(): Promise<void> {
  const machineAtStart = machineLine();
  const starters: Array<{ label: string; start: () => Promise<Server | undefined> }> = [
    { label: 'default', start: startDefault },
    { label: 'FerretDB', start: startFerretDb },
    ...(process.env.MONGODB_URI ? [{ label: 'MONGODB_URI', start: async (): Promise<Server> => ({ label: 'MONGODB_URI', uri: process.env.MONGODB_URI! }) }] : []),
  ];
  const results: ServerResult[] = [];
  const skipped: string[] = [];
  for (const { label, start } of starters) {
    process.stderr.write(`starting ${label}…\n`);
    const server = await start();
    if (!server) {
      skipped.push(label);
      continue;
    }
    if (server.stop) running.add(server.stop);
    try {
      results.push(await benchServer(server));
    } finally {
      if (server.stop) {
        await server.stop();
        running.delete(server.stop);
      }
    }
  }

  const out = process.stdout;
  out.write(`\nstore benchmark: ${CLIENTS} clients × ${TRIALS} trials per race; ${USERS} users; at most ${SAMPLES} samples or ${SECONDS} s per latency cell\n`);
  out.write(`machine: ${machineAtStart}\n`);
  out.write(`         load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  for (const r of results) out.write(`${r.label}: ${r.identity}${r.error ? `; FAILED: ${r.error}` : ''}\n`);
  for (const label of skipped) out.write(`${label}: not run (the reason is printed above)\n`);
  const compared = results.some((r) => r.label.startsWith('default')) && results.some((r) => r.label.startsWith('FerretDB'));
  out.write(`races: min–max over the trials, trials with the expected figure; latency: median / p99 ms, sequential, n samples${compared ? '; last column: FerretDB ÷ default (median / p99)' : ''}\n\n`);
  out.write(`${resultTable(results)}\n`);
}

main().catch(async (err) => {
  process.stderr.write(`bench:store failed: ${(err as Error).stack ?? String(err)}\n`);
  await Promise.allSettled([...running].map((stop) => stop()));
  process.exit(1);
});

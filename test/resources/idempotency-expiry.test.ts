/**
 * Idempotency-Key expiry on the real servers: a key older than IDEMPOTENCY_KEY_TTL is a new
 * request (same body or not, also when eight race), decided on read whether or not the sweep ran;
 * the sweep (a BullMQ job scheduler) deletes expired keys in batches and keeps fresh ones and
 * claims still at work; a bad IDEMPOTENCY_KEY_TTL stops the processes at start-up.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Queue, Worker } from 'bullmq';
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDEMPOTENCY_SWEEP_SCHEDULER_ID, scheduleIdempotencySweep } from '../../src/jobs/idempotency-sweep';
import { createQueue, QUEUE_NAMES } from '../../src/jobs/queues';
import { startJobWorkers } from '../../src/jobs/workers';
import { deleteExpiredIdempotencyKeys } from '../../src/services/idempotency';
import { eventually } from '../helpers/context';
import { cleanEnv, ROOT } from '../helpers/npm-commands';
import { seedUser, type SeededUser } from '../helpers/users';
import { json, openHarness, type Harness } from '../users/harness';

const DAY = 86_400_000;
let h: Harness;
let admin: SeededUser;
let owner: SeededUser;
let service: { authorization: string };
let queue: Queue;
let jobWorkers: Worker[];

beforeAll(async () => {
  h = await openHarness('idemexpiry');
  admin = await seedUser(h.ctx.models, { siteRole: 'Administrators' });
  owner = await seedUser(h.ctx.models);
  const issued = await h.app.inject({ method: 'POST', url: '/v1/service-credentials', headers: admin.auth, payload: { name: `CI ${randomUUID().slice(0, 4)}` } });
  expect(issued.statusCode, issued.body).toBe(201);
  service = { authorization: `Bearer ${json(issued).credential}` };
  queue = createQueue(QUEUE_NAMES.idempotencySweep, h.ctx.queue);
  jobWorkers = startJobWorkers({ models: h.ctx.models, queue: h.ctx.queue, logger: h.ctx.logger, idempotencySweep: { ttlMs: DAY } });
});

afterAll(async () => {
  await Promise.all((jobWorkers ?? []).map((w) => w.close()));
  await queue?.close();
  await h?.close();
});

const models = () => h.ctx.models;
const ago = (ms: number) => new Date(Date.now() - ms);

function create(payload: object, key: string, headers: Record<string, string> = admin.auth) {
  return h.app.inject({ method: 'POST', url: '/v1/resources', headers: { ...headers, 'idempotency-key': key }, payload });
}

function body(name = `pipe-${randomUUID().slice(0, 6)}`) {
  return { kind: 'pipeline', name, ownerId: String(owner.user._id) };
}

/** Moves a key's first use (and its claim) back, as if it had been used that long ago. */
async function age(key: string, ms: number) {
  const moved = await models().IdempotencyKey.updateOne({ key }, { $set: { createdAt: ago(ms), claimedAt: ago(ms) } });
  expect(moved.modifiedCount).toBe(1);
}

describe('an expired key is a new request', () => {
  it('with the same body: a new resource, not the kept answer; the key is remembered afresh', async () => {
    const key = randomUUID();
    const payload = body();
    const first = await create(payload, key);
    expect(first.statusCode, first.body).toBe(201);
    await age(key, DAY + 60_000);

    const again = await create(payload, key);
    expect(again.statusCode, again.body).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(json(again)._id).not.toBe(json(first)._id);
    expect(await models().Resource.countDocuments({ name: payload.name })).toBe(2);
    expect(await models().AuditEvent.countDocuments({ action: 'resource.created', 'details.name': payload.name })).toBe(2);

    // One record for the key, now about the new resource and fresh: the next retry replays it.
    const records = await models().IdempotencyKey.find({ key }).lean();
    expect(records).toHaveLength(1);
    expect(String(records[0]!.subjectId)).toBe(json(again)._id);
    expect(records[0]!.createdAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    const retry = await create(payload, key);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(json(retry)).toEqual(json(again));
  });

  it('with a different body: done, not 422 idempotency_key_reused', async () => {
    const key = randomUUID();
    expect((await create(body(), key)).statusCode).toBe(201);
    await age(key, DAY + 1_000);
    const other = { ...body(), kind: 'tool' };
    const res = await create(other, key);
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res)).toMatchObject({ kind: 'tool', name: other.name });
    // And now the key is bound to the new request.
    const reused = await create(body(), key);
    expect(reused.statusCode).toBe(422);
    expect(json(reused).error.code).toBe('idempotency_key_reused');
  });

  it('a key younger than the TTL still answers the first result and refuses another body', async () => {
    const key = randomUUID();
    const payload = body();
    const first = await create(payload, key);
    await age(key, DAY - 60_000);
    const retry = await create(payload, key);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(json(retry)).toEqual(json(first));
    const other = await create(body(), key);
    expect(other.statusCode).toBe(422);
    expect(json(other).error.code).toBe('idempotency_key_reused');
    expect(await models().Resource.countDocuments({ name: payload.name })).toBe(1);
  });

  it('8 concurrent requests with an expired key (over HTTP) make exactly one new resource and all get it', async () => {
    const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
    for (let trial = 0; trial < 3; trial++) {
      const key = randomUUID();
      const payload = body();
      const post = () =>
        fetch(`${address}/v1/resources`, { method: 'POST', headers: { ...service, 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(payload) }).then(async (r) => ({
          status: r.status,
          replayed: r.headers.get('idempotent-replayed'),
          body: (await r.json()) as { _id: string },
        }));
      const first = await post();
      expect(first.status).toBe(201);
      await age(key, 2 * DAY);

      const answers = await Promise.all(Array.from({ length: 8 }, post));
      for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(201);
      const ids = new Set(answers.map((a) => a.body._id));
      expect(ids.size).toBe(1);
      expect(ids.has(first.body._id)).toBe(false);
      expect(answers.filter((a) => a.replayed === null)).toHaveLength(1);
      expect(await models().Resource.countDocuments({ name: payload.name })).toBe(2);
      expect(await models().AuditEvent.countDocuments({ action: 'resource.created', 'details.name': payload.name })).toBe(2);
      expect(await models().IdempotencyKey.countDocuments({ key })).toBe(1);
    }
  });

  it('applies to update and delete too: an expired key on another change is done, not refused', async () => {
    const created = json(await create(body(), randomUUID()));
    const url = `/v1/resources/${created._id}`;
    const key = randomUUID();
    const renamed = await h.app.inject({ method: 'PATCH', url, headers: { ...admin.auth, 'idempotency-key': key }, payload: { name: 'first-name' } });
    expect(renamed.statusCode, renamed.body).toBe(200);
    await age(key, DAY + 1_000);
    const again = await h.app.inject({ method: 'PATCH', url, headers: { ...admin.auth, 'idempotency-key': key }, payload: { name: 'second-name' } });
    expect(again.statusCode, again.body).toBe(200);
    expect(json(again).name).toBe('second-name');

    // The same key, expired, on the delete route: the delete is done.
    await age(key, DAY + 1_000);
    const removed = await h.app.inject({ method: 'DELETE', url, headers: { ...admin.auth, 'idempotency-key': key } });
    expect(removed.statusCode, removed.body).toBe(200);
    expect(await models().Resource.countDocuments({ _id: created._id })).toBe(0);
  });

  it('a key stored before keys expired (no first-use time) counts from its id', async () => {
    const key = randomUUID();
    const payload = body();
    const first = await create(payload, key);
    const stored = (await models().IdempotencyKey.findOne({ key }).lean())!;
    // Rewritten as an old record without createdAt, its id made two days ago.
    await models().IdempotencyKey.deleteOne({ _id: stored._id });
    const { createdAt: _dropped, ...legacy } = stored;
    await models().IdempotencyKey.collection.insertOne({ ...legacy, _id: Types.ObjectId.createFromTime(Math.floor((Date.now() - 2 * DAY) / 1000)), claimedAt: ago(2 * DAY) });
    const again = await create(payload, key);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(json(again)._id).not.toBe(json(first)._id);
  });

  it('an old key whose claim is still at work is not taken from under it: a retry waits and gets the answer of that work', async () => {
    const key = randomUUID();
    const payload = body();
    const first = await create(payload, key);
    const kept = (await models().IdempotencyKey.findOne({ key }).lean())!;
    // First used long ago, and a request is at work on it right now (claimed just now, no answer).
    await models().IdempotencyKey.updateOne({ key }, { $unset: { completedAt: '', status: '', body: '' }, $set: { createdAt: ago(2 * DAY), claimedAt: new Date() } });
    const retry = create(payload, key);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await models().IdempotencyKey.updateOne({ key }, { $set: { completedAt: new Date(), status: kept.status, body: kept.body } });
    const answered = await retry;
    expect(answered.headers['idempotent-replayed']).toBe('true');
    expect(json(answered)).toEqual(json(first));
    expect(await models().Resource.countDocuments({ name: payload.name })).toBe(1);
  });
});

/** Stores a key record as the service does, with its times set. */
async function storedKey(fields: { createdAt?: Date; claimedAt: Date; completed: boolean; _id?: Types.ObjectId }) {
  const key = `sweep-${randomUUID()}`;
  const doc = {
    _id: fields._id ?? new Types.ObjectId(),
    scope: `user:${String(admin.user._id)}`,
    key,
    fingerprint: 'f'.repeat(64),
    subjectId: new Types.ObjectId(),
    claimedAt: fields.claimedAt,
    ...(fields.createdAt ? { createdAt: fields.createdAt } : {}),
    ...(fields.completed ? { completedAt: fields.claimedAt, status: 201, body: '{}' } : {}),
  };
  await models().IdempotencyKey.collection.insertOne(doc);
  return key;
}

async function runSweepJob() {
  const job = await queue.add('manual-sweep', {}, { jobId: `manual-${randomUUID()}` });
  return eventually(
    'the sweep job to complete',
    async () => {
      const state = await queue.getJobState(job.id!);
      if (state === 'failed') throw new Error(`sweep failed: ${(await queue.getJob(job.id!))?.failedReason}`);
      return state === 'completed' ? ((await queue.getJob(job.id!))!.returnvalue as { deleted: number; batches: number }) : undefined;
    },
    30_000,
  );
}

describe('expiry sweep', () => {
  it('deletes expired keys (answered, failed, stored before expiry) and keeps fresh ones and claims at work', async () => {
    await models().IdempotencyKey.deleteMany({});
    const expired = [
      await storedKey({ createdAt: ago(DAY + 1_000), claimedAt: ago(DAY + 1_000), completed: true }),
      // A request that failed (its claim left for a retry to take over) a long time ago.
      await storedKey({ createdAt: ago(3 * DAY), claimedAt: new Date(0), completed: false }),
      await storedKey({ _id: Types.ObjectId.createFromTime(Math.floor((Date.now() - 2 * DAY) / 1000)), claimedAt: ago(2 * DAY), completed: true }),
    ];
    const kept = [
      await storedKey({ createdAt: ago(DAY - 60_000), claimedAt: ago(DAY - 60_000), completed: true }),
      await storedKey({ createdAt: new Date(), claimedAt: new Date(), completed: false }),
      // First used long ago, but a request is at work on it now.
      await storedKey({ createdAt: ago(2 * DAY), claimedAt: new Date(), completed: false }),
    ];

    expect(await runSweepJob()).toEqual({ deleted: 3, batches: 1 });
    const left = (await models().IdempotencyKey.find({}, { key: 1 }).lean()).map((k) => k.key).sort();
    expect(left).toEqual([...kept].sort());
    for (const key of expired) expect(left).not.toContain(key);

    // Again: nothing left to delete.
    expect(await runSweepJob()).toEqual({ deleted: 0, batches: 0 });
    expect(await models().IdempotencyKey.countDocuments({})).toBe(3);
  });

  it('deletes in bounded batches, oldest first, and leaves the rest to the next run', async () => {
    await models().IdempotencyKey.deleteMany({});
    const keys: string[] = [];
    for (let i = 0; i < 5; i++) keys.push(await storedKey({ createdAt: ago(10 * DAY - i * 60_000), claimedAt: ago(DAY * 2), completed: true }));
    const fresh = await storedKey({ createdAt: new Date(), claimedAt: new Date(), completed: true });

    expect(await deleteExpiredIdempotencyKeys(models(), DAY, { batchSize: 2, maxBatches: 2 })).toEqual({ deleted: 4, batches: 2 });
    // The oldest four went first.
    expect((await models().IdempotencyKey.find({}, { key: 1 }).lean()).map((k) => k.key).sort()).toEqual([keys[4]!, fresh].sort());
    expect(await deleteExpiredIdempotencyKeys(models(), DAY, { batchSize: 2, maxBatches: 2 })).toEqual({ deleted: 1, batches: 1 });
    expect(await models().IdempotencyKey.countDocuments({})).toBe(1);
  });

  it('a key the sweep deleted is a new request too', async () => {
    const key = randomUUID();
    const payload = body();
    const first = json(await create(payload, key));
    await age(key, DAY + 1_000);
    expect((await runSweepJob()).deleted).toBeGreaterThanOrEqual(1);
    expect(await models().IdempotencyKey.countDocuments({ key })).toBe(0);
    const again = await create(payload, key);
    expect(again.statusCode).toBe(201);
    expect(json(again)._id).not.toBe(first._id);
  });

  it('upserts one scheduler however often it is scheduled, and the scheduler runs the sweep', async () => {
    await scheduleIdempotencySweep(queue, 60_000);
    await scheduleIdempotencySweep(queue, 400);
    await scheduleIdempotencySweep(queue, 400);
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: IDEMPOTENCY_SWEEP_SCHEDULER_ID, every: 400 });
    try {
      const expired = await storedKey({ createdAt: ago(2 * DAY), claimedAt: ago(2 * DAY), completed: true });
      await eventually('a scheduled sweep to delete the expired key', async () => (await models().IdempotencyKey.countDocuments({ key: expired })) === 0, 20_000);
      const runs = (await queue.getJobs(['completed'])).filter((j) => j.repeatJobKey === IDEMPOTENCY_SWEEP_SCHEDULER_ID);
      expect(runs.length).toBeGreaterThanOrEqual(1);
    } finally {
      await queue.removeJobScheduler(IDEMPOTENCY_SWEEP_SCHEDULER_ID);
    }
  });
});

describe('IDEMPOTENCY_KEY_TTL at start-up', () => {
  /** Starts a process with a configuration that needs no server to be refused. */
  async function start(entry: string, env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: ROOT,
      env: { ...cleanEnv({}), MONGODB_URI: 'mongodb://127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1', TEMPORAL_ADDRESS: '127.0.0.1:1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { code, stderr };
  }

  it('the API and the worker refuse a value that is not a positive duration, naming it', async () => {
    for (const [entry, value] of [
      ['src/main/api.ts', 'a day'],
      ['src/main/worker.ts', '0'],
    ] as const) {
      const { code, stderr } = await start(entry, { IDEMPOTENCY_KEY_TTL: value });
      expect(code, stderr).toBe(1);
      expect(stderr).toMatch(new RegExp(`Invalid configuration:\\n\\s+- IDEMPOTENCY_KEY_TTL "${value}" is not a duration such as 30s, 15m, 12h or 7d\\n$`));
    }
  }, 60_000);
});

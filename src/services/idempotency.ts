/**
 * `Idempotency-Key`, as payment APIs have it: the first request with a key does the work and its
 * answer is kept; a retry with the same key and the same request gets that answer again (nothing
 * done twice), the same key with another request is refused (422 `idempotency_key_reused`).
 *
 * Settled by the store alone: the unique index on (scope, key) lets exactly one of racing requests
 * claim the key; the others wait for its answer. The claim records the id the work is about (a
 * create's new resource id, chosen once), so work taken over after a failure or a crash lands on
 * the same document and the document's own unique `_id` keeps it single.
 *
 * - A refusal (4xx) changed nothing: the key is released, and the same request may be sent again
 *   with it once the reason is gone.
 * - Any other failure leaves the claim for the next retry to take over at once (same id).
 * - A claim whose holder died is taken over after CLAIM_STALE_MS; until then retries wait up to
 *   WAIT_MS and then get 409 `idempotency_request_in_progress`.
 * - A key is remembered for IDEMPOTENCY_KEY_TTL from its first use. A request with an older key is
 *   a new request (done again, whatever its body): the stored record is replaced by one
 *   conditional write that re-checks the age, so of racing requests one wins and the others wait
 *   for its answer. This is decided on read; the sweep (`deleteExpiredIdempotencyKeys`) only
 *   keeps the collection small. A claim still at work is never expired under its holder.
 */
import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import type { Models } from '../db/models';
import { AppError, ConflictError, UnprocessableError, ValidationError } from '../errors';

const CLAIM_STALE_MS = 60_000;
const WAIT_MS = 10_000;
const POLL_MS = 50;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export interface IdempotentRequest {
  /** Whose key it is (`user:<id>`, `service:<credential id>`). */
  scope: string;
  key: string;
  /** What was asked: method, route, target and the parsed body. */
  request: unknown;
  /** How long a key is remembered from its first use (IDEMPOTENCY_KEY_TTL), in milliseconds. */
  ttlMs: number;
}

export interface IdempotentResult<T> {
  status: number;
  body: T;
  /** True when this is the kept answer of an earlier request with the same key. */
  replayed: boolean;
}

/** The header's value checked: absent is fine, anything but 1-255 visible ASCII characters is a 400. */
export function parseIdempotencyKey(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) || !KEY_PATTERN.test(value)) {
    throw new ValidationError('Idempotency-Key must be one value of 1 to 255 visible ASCII characters (a UUID, say).', undefined, 'invalid_idempotency_key');
  }
  return value;
}

/** Stable JSON (keys sorted at every depth), hashed. */
function fingerprintOf(request: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object' && !(v instanceof Date) && !(v instanceof Types.ObjectId)) {
      return Object.fromEntries(
        Object.keys(v as object)
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
      );
    }
    return v instanceof Types.ObjectId ? String(v) : v;
  };
  return createHash('sha256').update(JSON.stringify(canonical(request))).digest('hex');
}

/** The stored fields the expiry rule reads. */
interface StoredKey {
  _id: Types.ObjectId;
  createdAt?: Date | null;
  claimedAt: Date;
  completedAt?: Date | null;
}

/**
 * The expiry rule, as a query (for the conditional replacement and the sweep) and as a check on
 * a record read (`isExpired`), side by side: a key is expired once its first use is `ttlMs` old
 * (a key stored before keys expired counts from its `_id`'s time), unless a request is still at
 * work on it (a claim neither completed nor left for CLAIM_STALE_MS).
 */
function expiredKeys(now: Date, ttlMs: number) {
  const cutoff = new Date(now.getTime() - ttlMs);
  return {
    $and: [
      { $or: [{ createdAt: { $lte: cutoff } }, { createdAt: null, _id: { $lt: Types.ObjectId.createFromTime(Math.floor(cutoff.getTime() / 1000) + 1) } }] },
      { $or: [{ completedAt: { $ne: null } }, { claimedAt: { $lte: new Date(now.getTime() - CLAIM_STALE_MS) } }] },
    ],
  };
}

function firstUseOf(held: StoredKey): number {
  return (held.createdAt ?? held._id.getTimestamp()).getTime();
}

function isExpired(held: StoredKey, now: Date, ttlMs: number): boolean {
  const atWork = !held.completedAt && held.claimedAt.getTime() > now.getTime() - CLAIM_STALE_MS;
  return firstUseOf(held) <= now.getTime() - ttlMs && !atWork;
}

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number }).code === 11000;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` once per key. `subjectId` is the id the work is about; when omitted a new one is
 * chosen by whoever claims the key, and every retry gets that same one.
 */
export async function runIdempotent<T>(
  models: Models,
  idem: IdempotentRequest | undefined,
  work: (subjectId: Types.ObjectId) => Promise<{ status: number; body: T }>,
  subjectId?: Types.ObjectId,
): Promise<IdempotentResult<T>> {
  if (!idem) return { ...(await work(subjectId ?? new Types.ObjectId())), replayed: false };
  const fingerprint = fingerprintOf(idem.request);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const claimedAt = new Date();
    const id = subjectId ?? new Types.ObjectId();
    try {
      const claim = await models.IdempotencyKey.create({ scope: idem.scope, key: idem.key, fingerprint, subjectId: id, claimedAt, createdAt: claimedAt });
      return await doWork(models, claim._id, claimedAt, id, work);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    // Someone holds the key: the same request answered or under way, another request, or an expired key.
    // The first use of a claim this request has waited on: that work's answer is this request's
    // answer, even if the key expires meanwhile.
    let awaited: number | undefined;
    for (;;) {
      const held = await models.IdempotencyKey.findOne({ scope: idem.scope, key: idem.key }).lean();
      if (!held) break; // released after a refusal (or swept): claim it afresh
      const now = new Date();
      if (firstUseOf(held) !== awaited && isExpired(held, now, idem.ttlMs)) {
        // Forgotten: this request is new. The write re-checks the age, so it has one winner; the
        // others read again and find the winner's fresh claim.
        const fresh = subjectId ?? new Types.ObjectId();
        const replaced = await models.IdempotencyKey.updateOne(
          { $and: [{ _id: held._id }, expiredKeys(now, idem.ttlMs)] },
          { $set: { fingerprint, subjectId: fresh, claimedAt: now, createdAt: now }, $unset: { completedAt: '', status: '', body: '' } },
        );
        if (replaced.modifiedCount === 1) return await doWork(models, held._id, now, fresh, work);
        continue;
      }
      if (held.fingerprint !== fingerprint) {
        throw new UnprocessableError('This Idempotency-Key was used with a different request; use a new key for a new request.', 'idempotency_key_reused');
      }
      if (held.completedAt) return { status: held.status ?? 200, body: JSON.parse(held.body ?? 'null') as T, replayed: true };
      if (held.claimedAt.getTime() <= Date.now() - CLAIM_STALE_MS) {
        // Take the work over: one conditional write, one winner.
        const mine = new Date();
        const taken = await models.IdempotencyKey.updateOne({ _id: held._id, completedAt: null, claimedAt: held.claimedAt }, { $set: { claimedAt: mine } });
        if (taken.modifiedCount === 1) return await doWork(models, held._id, mine, held.subjectId, work);
        continue;
      }
      if (Date.now() > deadline) {
        throw new ConflictError('A request with this Idempotency-Key is still being processed; retry shortly.', 'idempotency_request_in_progress');
      }
      awaited = firstUseOf(held);
      await sleep(POLL_MS);
    }
  }
}

async function doWork<T>(
  models: Models,
  claimId: Types.ObjectId,
  claimedAt: Date,
  subjectId: Types.ObjectId,
  work: (subjectId: Types.ObjectId) => Promise<{ status: number; body: T }>,
): Promise<IdempotentResult<T>> {
  let result: { status: number; body: T };
  try {
    result = await work(subjectId);
  } catch (err) {
    const mine = { _id: claimId, claimedAt, completedAt: null };
    if (err instanceof AppError && err.status < 500) {
      // A refusal changed nothing: free the key.
      await models.IdempotencyKey.deleteOne(mine).catch(() => undefined);
    } else {
      // Maybe half done: the next retry takes over at once and finishes on the same id.
      await models.IdempotencyKey.updateOne(mine, { $set: { claimedAt: new Date(0) } }).catch(() => undefined);
    }
    throw err;
  }
  await models.IdempotencyKey.updateOne({ _id: claimId, completedAt: null }, { $set: { completedAt: new Date(), status: result.status, body: JSON.stringify(result.body) } });
  return { ...result, replayed: false };
}

export interface IdempotencySweepResult {
  deleted: number;
  batches: number;
}

/**
 * Deletes expired keys, oldest first, `batchSize` at a time and at most `maxBatches` batches per
 * call (the rest waits for the next run). Each delete re-checks the rule, so a key replaced by a
 * request in between is kept. Safe to run on several workers at once.
 */
export async function deleteExpiredIdempotencyKeys(models: Models, ttlMs: number, options: { batchSize?: number; maxBatches?: number } = {}): Promise<IdempotencySweepResult> {
  const now = new Date();
  const batchSize = options.batchSize ?? 1000;
  const maxBatches = options.maxBatches ?? 100;
  const result: IdempotencySweepResult = { deleted: 0, batches: 0 };
  while (result.batches < maxBatches) {
    const ids = (await models.IdempotencyKey.find(expiredKeys(now, ttlMs), { _id: 1 }).sort({ createdAt: 1 }).limit(batchSize).lean()).map((k) => k._id);
    if (ids.length === 0) break;
    result.batches += 1;
    const deleted = await models.IdempotencyKey.deleteMany({ $and: [{ _id: { $in: ids } }, expiredKeys(now, ttlMs)] });
    result.deleted += deleted.deletedCount;
    if (ids.length < batchSize) break;
  }
  return result;
}

import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * One `Idempotency-Key` a caller sent, with a fingerprint of the request it came with and, once
 * done, the answer given. The unique index on (scope, key) decides which of racing requests does
 * the work; the others answer what it answered. A key is remembered for IDEMPOTENCY_KEY_TTL from
 * `createdAt`: an older one is taken as new by the next request with it, and swept away.
 */
const idempotencyKeySchema = new Schema(
  {
    /** Whose key: `user:<id>` or `service:<credential id>` (keys of different callers never meet). */
    scope: { type: String, required: true },
    key: { type: String, required: true },
    /** SHA-256 of the method, route, target and body: the same key with another request is refused. */
    fingerprint: { type: String, required: true },
    /** The id the operation works on, chosen once (a create's new resource id), so a retry reuses it. */
    subjectId: { type: Schema.Types.ObjectId, required: true },
    /** When the request doing the work claimed the key; a claim left this long is taken over. */
    claimedAt: { type: Date, required: true },
    /** When the key was first used (kept through takeovers): its age decides whether it is still remembered. Unset on keys stored before keys expired: their `_id`'s time stands in. */
    createdAt: { type: Date },
    completedAt: { type: Date },
    status: { type: Number },
    body: { type: Schema.Types.Mixed },
  },
  { collection: 'idempotency_keys', versionKey: false },
);
idempotencyKeySchema.index({ scope: 1, key: 1 }, { unique: true });
/** The expiry sweep reads the oldest keys first, a batch at a time (a plain index: no TTL index, which not every MongoDB-wire server implements). */
idempotencyKeySchema.index({ createdAt: 1 });

type IdempotencyKey = InferSchemaType<typeof idempotencyKeySchema>;
export type IdempotencyKeyModel = Model<IdempotencyKey>;

export function idempotencyKeyModel(conn: Connection): IdempotencyKeyModel {
  return (conn.models.IdempotencyKey as IdempotencyKeyModel | undefined) ?? conn.model<IdempotencyKey>('IdempotencyKey', idempotencyKeySchema);
}

import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

const ACTOR_TYPES = ['user', 'system', 'hr', 'scim', 'slack', 'service'] as const;

/** Append-only: who did what to whom, when, from where, with which process. */
const auditEventSchema = new Schema(
  {
    at: { type: Date, required: true },
    action: { type: String, required: true },
    actorType: { type: String, enum: ACTOR_TYPES, required: true },
    actorId: { type: Schema.Types.ObjectId },
    actorEmail: { type: String },
    targetUserId: { type: Schema.Types.ObjectId },
    targetEmail: { type: String },
    processId: { type: String },
    ip: { type: String },
    /** Idempotency key for events written by retried activities. */
    eventKey: { type: String },
    details: { type: Schema.Types.Mixed },
  },
  { collection: 'audit_events', versionKey: false },
);
auditEventSchema.index({ targetUserId: 1, at: -1 });
auditEventSchema.index({ actorId: 1, at: -1 });
auditEventSchema.index({ processId: 1, at: 1 });
// The webhook outbox reads lifecycle entries in time order past its cursor.
auditEventSchema.index({ at: 1, _id: 1 });
// Events written by retried activities carry a key and are written once: the unique index is the
// guard (an upsert alone may insert twice when two retries race). Sparse: most events have no key.
auditEventSchema.index({ eventKey: 1 }, { unique: true, sparse: true, name: 'eventKey_unique' });

class AppendOnlyError extends Error {
  override readonly name = 'AppendOnlyError';
}
const refuse = () => {
  throw new AppendOnlyError('The audit log is append-only.');
};
for (const op of ['updateOne', 'updateMany', 'findOneAndUpdate', 'replaceOne', 'deleteOne', 'deleteMany', 'findOneAndDelete', 'findOneAndReplace'] as const) {
  auditEventSchema.pre(op, refuse);
}

export type AuditEvent = InferSchemaType<typeof auditEventSchema>;
export type AuditEventModel = Model<AuditEvent>;

export function auditEventModel(conn: Connection): AuditEventModel {
  return (conn.models.AuditEvent as AuditEventModel | undefined) ?? conn.model<AuditEvent>('AuditEvent', auditEventSchema);
}

import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * HR events the intake could not apply (unknown employee, unknown manager, refused start): kept
 * for an Administrator to look at, one document per intake job however often it is retried.
 */
const hrDeadLetterSchema = new Schema(
  {
    jobId: { type: String, required: true },
    provider: { type: String, required: true },
    eventId: { type: String, required: true },
    eventType: { type: String, required: true },
    /** When it happened in the HR system (dead letters stored before it was kept replay with receivedAt). */
    occurredAt: { type: String },
    employee: { type: Schema.Types.Mixed },
    /** Stable machine code: unknown_employee, unknown_manager, start_refused. */
    reason: { type: String, required: true },
    message: { type: String, required: true },
    receivedAt: { type: Date },
    at: { type: Date, required: true },
    /** Replays by an Administrator: how many, the last one's time and intake job. */
    replays: { type: Number },
    replayedAt: { type: Date },
    replayJobId: { type: String },
  },
  { collection: 'hr_dead_letters', versionKey: false },
);
hrDeadLetterSchema.index({ jobId: 1 }, { unique: true });
hrDeadLetterSchema.index({ at: -1 });

export type HrDeadLetter = InferSchemaType<typeof hrDeadLetterSchema>;
export type HrDeadLetterModel = Model<HrDeadLetter>;

export function hrDeadLetterModel(conn: Connection): HrDeadLetterModel {
  return (conn.models.HrDeadLetter as HrDeadLetterModel | undefined) ?? conn.model<HrDeadLetter>('HrDeadLetter', hrDeadLetterSchema);
}

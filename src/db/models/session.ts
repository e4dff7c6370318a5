import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * A login session. Only the one named by the user's `activeSessionId` is valid, so a new login
 * ends the previous one even when two logins race.
 */
const sessionSchema = new Schema(
  {
    userId: { type: Schema.Types.ObjectId, required: true },
    /** SHA-256 of the session secret. */
    tokenHash: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastSeenAt: { type: Date },
    endedAt: { type: Date },
    endedReason: { type: String, enum: ['superseded', 'logout', 'lockout', 'offboarding', 'deactivated', 'admin'] },
    ip: { type: String },
    userAgent: { type: String },
  },
  { collection: 'sessions', versionKey: false },
);
sessionSchema.index({ userId: 1, endedAt: 1 });
sessionSchema.index({ tokenHash: 1 }, { unique: true });

export type Session = InferSchemaType<typeof sessionSchema>;
export type SessionModel = Model<Session>;

export function sessionModel(conn: Connection): SessionModel {
  return (conn.models.Session as SessionModel | undefined) ?? conn.model<Session>('Session', sessionSchema);
}

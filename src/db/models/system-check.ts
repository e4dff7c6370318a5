import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * One end-to-end check of the running system: a workflow's activity records it and enqueues
 * a job; the job's processor marks it completed. Operators run it with `npm run system-check`.
 */
const systemCheckSchema = new Schema(
  {
    checkId: { type: String, required: true, unique: true },
    workflowId: { type: String, required: true },
    recordedAt: { type: Date, required: true },
    jobId: { type: String, required: true },
    jobCompletedAt: { type: Date },
  },
  { collection: 'system_checks', versionKey: false },
);

type SystemCheck = InferSchemaType<typeof systemCheckSchema>;
export type SystemCheckModel = Model<SystemCheck>;

export function systemCheckModel(conn: Connection): SystemCheckModel {
  return (conn.models.SystemCheck as SystemCheckModel | undefined) ?? conn.model<SystemCheck>('SystemCheck', systemCheckSchema);
}

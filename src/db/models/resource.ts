import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

export const RESOURCE_KINDS = ['pipeline', 'task', 'tool'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

const transferSchema = new Schema(
  {
    /** Idempotency key: a retried transfer with the same id is recorded once. */
    transferId: { type: String, required: true },
    fromUserId: { type: Schema.Types.ObjectId, required: true },
    toUserId: { type: Schema.Types.ObjectId, required: true },
    at: { type: Date, required: true },
    byUserId: { type: Schema.Types.ObjectId },
    processId: { type: String },
    reason: { type: String },
  },
  { _id: false },
);

/** A pipeline, task or tool with exactly one owner and the history of its transfers. */
const resourceSchema = new Schema(
  {
    kind: { type: String, enum: RESOURCE_KINDS, required: true },
    name: { type: String, required: true },
    description: { type: String },
    /** The id the platform service that registered it knows it by (its pipeline id, say). */
    externalId: { type: String },
    ownerId: { type: Schema.Types.ObjectId, required: true },
    /** Who made it; null once that user is permanently deleted ("Deleted User"). */
    createdBy: { type: Schema.Types.ObjectId, default: null },
    /** The service credential that registered it, when a platform service did. */
    createdByService: { type: Schema.Types.ObjectId },
    transfers: { type: [transferSchema], default: [] },
  },
  { collection: 'resources', timestamps: true, versionKey: false },
);
resourceSchema.index({ ownerId: 1, kind: 1 });
resourceSchema.index({ createdBy: 1 });
// An undo finds the resources one offboarding moved: multikey IXSCAN on the transfer history.
resourceSchema.index({ 'transfers.processId': 1 });

export type Resource = InferSchemaType<typeof resourceSchema>;
export type ResourceModel = Model<Resource>;

export function resourceModel(conn: Connection): ResourceModel {
  return (conn.models.Resource as ResourceModel | undefined) ?? conn.model<Resource>('Resource', resourceSchema);
}

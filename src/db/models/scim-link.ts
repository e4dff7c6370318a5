import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * What SCIM keeps beside a user, so the user store stays provider-neutral: the identity
 * provider's own id (`externalId`) and whether the provider deprovisioned (active=false) or
 * deleted the account. A deprovisioned user reads `active: false` at once, while the
 * offboarding it started is still running; a deleted one is gone from SCIM (404).
 */
const scimLinkSchema = new Schema(
  {
    userId: { type: Schema.Types.ObjectId, required: true },
    externalId: { type: String },
    deprovisionedAt: { type: Date },
    deletedAt: { type: Date },
  },
  { collection: 'scim_links', versionKey: false },
);
scimLinkSchema.index({ userId: 1 }, { unique: true });
scimLinkSchema.index({ externalId: 1 });

export type ScimLink = InferSchemaType<typeof scimLinkSchema>;
export type ScimLinkModel = Model<ScimLink>;

export function scimLinkModel(conn: Connection): ScimLinkModel {
  return (conn.models.ScimLink as ScimLinkModel | undefined) ?? conn.model<ScimLink>('ScimLink', scimLinkSchema);
}

import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * A platform service's credential (a CI system, a workflow tool): it may read, create, update
 * and delete resources and nothing else. Only a hash of its secret is stored.
 */
const serviceCredentialSchema = new Schema(
  {
    /** Public identifier, also the credential's visible prefix (`tsc_<credentialId>_<secret>`). */
    credentialId: { type: String, required: true },
    name: { type: String, required: true },
    /** SHA-256 of the secret part, compared in constant time. */
    hash: { type: String, required: true },
    createdAt: { type: Date, required: true },
    createdBy: { type: Schema.Types.ObjectId, required: true },
    lastUsedAt: { type: Date },
    revokedAt: { type: Date },
    revokedBy: { type: Schema.Types.ObjectId },
  },
  { collection: 'service_credentials', versionKey: false },
);
serviceCredentialSchema.index({ credentialId: 1 }, { unique: true });
serviceCredentialSchema.index({ createdAt: -1 });

type ServiceCredential = InferSchemaType<typeof serviceCredentialSchema>;
export type ServiceCredentialModel = Model<ServiceCredential>;

export function serviceCredentialModel(conn: Connection): ServiceCredentialModel {
  return (conn.models.ServiceCredential as ServiceCredentialModel | undefined) ?? conn.model<ServiceCredential>('ServiceCredential', serviceCredentialSchema);
}

import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/** An API access token. Only a hash of its secret is stored. */
const accessTokenSchema = new Schema(
  {
    /** Public identifier, also the token's visible prefix (`tnr_<tokenId>_<secret>`). */
    tokenId: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, default: 'API token' },
    scope: { type: [String], default: ['api'] },
    /** SHA-256 of the secret part, compared in constant time. */
    hash: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date },
    revokedAt: { type: Date },
    revokedReason: { type: String },
    expiresAt: { type: Date },
  },
  { collection: 'access_tokens', versionKey: false },
);
accessTokenSchema.index({ tokenId: 1 }, { unique: true });
accessTokenSchema.index({ userId: 1, revokedAt: 1 });

/** One use of a token: the usage log admins, auditors and security managers read. */
const tokenUsageSchema = new Schema(
  {
    tokenId: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    at: { type: Date, required: true },
    method: { type: String },
    path: { type: String },
    ip: { type: String },
    status: { type: Number },
  },
  { collection: 'token_usage', versionKey: false },
);
tokenUsageSchema.index({ userId: 1, at: -1 });
tokenUsageSchema.index({ tokenId: 1, at: -1 });

export type AccessToken = InferSchemaType<typeof accessTokenSchema>;
export type AccessTokenModel = Model<AccessToken>;
export type TokenUsage = InferSchemaType<typeof tokenUsageSchema>;
export type TokenUsageModel = Model<TokenUsage>;

export function accessTokenModel(conn: Connection): AccessTokenModel {
  return (conn.models.AccessToken as AccessTokenModel | undefined) ?? conn.model<AccessToken>('AccessToken', accessTokenSchema);
}

export function tokenUsageModel(conn: Connection): TokenUsageModel {
  return (conn.models.TokenUsage as TokenUsageModel | undefined) ?? conn.model<TokenUsage>('TokenUsage', tokenUsageSchema);
}

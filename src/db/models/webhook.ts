import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * Outbound webhooks: subscriptions of the platform's services, the outbox of lifecycle events
 * read from the audit log, one delivery per (event, subscription), and the dead letters of
 * deliveries that failed every attempt.
 */

/** A value sealed by security/encryption.ts (base64 fields). */
const sealedSchema = new Schema(
  {
    keyId: { type: String, required: true },
    iv: { type: String, required: true },
    tag: { type: String, required: true },
    data: { type: String, required: true },
  },
  { _id: false },
);

const subscriptionSchema = new Schema(
  {
    url: { type: String, required: true },
    events: { type: [String], required: true },
    description: { type: String },
    enabled: { type: Boolean, required: true, default: true },
    /**
     * The signing secret (`whsec_…`), sealed with AES-256-GCM under TENURE_ENCRYPTION_KEY (security/encryption.ts;
     * the key's id beside it): never selected unless asked for, never returned after creation or rotation.
     */
    secretSealed: { type: sealedSchema, select: false },
    /** A signing secret stored in clear by an earlier version: still read, sealed by the worker at its start. */
    secret: { type: String, select: false },
    secretRotatedAt: { type: Date },
    createdBy: { type: Schema.Types.ObjectId },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'webhook_subscriptions', versionKey: false },
);
subscriptionSchema.index({ enabled: 1, events: 1 });
subscriptionSchema.index({ createdAt: -1 });

/** One lifecycle event, keyed by the audit entry it was read from (so it is recorded once). */
const eventSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    /** The `webhook-id` every delivery of this event carries. */
    webhookId: { type: String, required: true },
    type: { type: String, required: true },
    at: { type: Date, required: true },
    /** The exact body sent (signed per attempt), so every attempt sends the same bytes. */
    payload: { type: String, required: true },
    /** Set once a delivery exists and is queued for every subscription it matched. */
    fannedOutAt: { type: Date, default: null },
  },
  { collection: 'webhook_events', versionKey: false },
);
eventSchema.index({ fannedOutAt: 1, at: 1 });

export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead_lettered', 'cancelled'] as const;

const deliverySchema = new Schema(
  {
    eventId: { type: Schema.Types.ObjectId, required: true },
    subscriptionId: { type: Schema.Types.ObjectId, required: true },
    webhookId: { type: String, required: true },
    type: { type: String, required: true },
    /** The BullMQ job id of the current delivery job (a replay's differs). */
    jobId: { type: String, required: true },
    status: { type: String, enum: DELIVERY_STATUSES, required: true },
    attempts: { type: Number, required: true, default: 0 },
    /** The latest attempts, newest last (bounded): {at, status?, error?, durationMs}. */
    lastAttempts: { type: Schema.Types.Mixed },
    lastStatus: { type: Number },
    lastError: { type: String },
    createdAt: { type: Date, required: true },
    enqueuedAt: { type: Date },
    deliveredAt: { type: Date },
    finishedReason: { type: String },
  },
  { collection: 'webhook_deliveries', versionKey: false },
);
// Exactly one delivery per (event, subscription): the unique index decides a race of two relays.
deliverySchema.index({ eventId: 1, subscriptionId: 1 }, { unique: true });
deliverySchema.index({ subscriptionId: 1, createdAt: -1 });
deliverySchema.index({ status: 1, enqueuedAt: 1 });

/** Deliveries that failed every attempt: one per delivery job, listed and replayed like the HR intake's. */
const deadLetterSchema = new Schema(
  {
    jobId: { type: String, required: true },
    deliveryId: { type: Schema.Types.ObjectId, required: true },
    subscriptionId: { type: Schema.Types.ObjectId, required: true },
    webhookId: { type: String, required: true },
    type: { type: String, required: true },
    url: { type: String, required: true },
    attempts: { type: Number, required: true },
    lastStatus: { type: Number },
    lastError: { type: String },
    at: { type: Date, required: true },
    replays: { type: Number },
    replayedAt: { type: Date },
    replayJobId: { type: String },
  },
  { collection: 'webhook_dead_letters', versionKey: false },
);
deadLetterSchema.index({ jobId: 1 }, { unique: true });
deadLetterSchema.index({ at: -1 });

/** Where the outbox has read the audit log up to (one document). */
const cursorSchema = new Schema(
  {
    _id: { type: String, required: true },
    through: { type: Date, required: true },
  },
  { collection: 'webhook_outbox_cursor', versionKey: false },
);

type WebhookSubscription = InferSchemaType<typeof subscriptionSchema>;
type WebhookEvent = InferSchemaType<typeof eventSchema>;
type WebhookDelivery = InferSchemaType<typeof deliverySchema>;
export type WebhookDeadLetter = InferSchemaType<typeof deadLetterSchema>;
type WebhookCursor = InferSchemaType<typeof cursorSchema>;
export type WebhookSubscriptionModel = Model<WebhookSubscription>;
export type WebhookEventModel = Model<WebhookEvent>;
export type WebhookDeliveryModel = Model<WebhookDelivery>;
export type WebhookDeadLetterModel = Model<WebhookDeadLetter>;
export type WebhookCursorModel = Model<WebhookCursor>;

export function webhookSubscriptionModel(conn: Connection): WebhookSubscriptionModel {
  return (conn.models.WebhookSubscription as WebhookSubscriptionModel | undefined) ?? conn.model<WebhookSubscription>('WebhookSubscription', subscriptionSchema);
}
export function webhookEventModel(conn: Connection): WebhookEventModel {
  return (conn.models.WebhookEvent as WebhookEventModel | undefined) ?? conn.model<WebhookEvent>('WebhookEvent', eventSchema);
}
export function webhookDeliveryModel(conn: Connection): WebhookDeliveryModel {
  return (conn.models.WebhookDelivery as WebhookDeliveryModel | undefined) ?? conn.model<WebhookDelivery>('WebhookDelivery', deliverySchema);
}
export function webhookDeadLetterModel(conn: Connection): WebhookDeadLetterModel {
  return (conn.models.WebhookDeadLetter as WebhookDeadLetterModel | undefined) ?? conn.model<WebhookDeadLetter>('WebhookDeadLetter', deadLetterSchema);
}
export function webhookCursorModel(conn: Connection): WebhookCursorModel {
  return (conn.models.WebhookCursor as WebhookCursorModel | undefined) ?? conn.model<WebhookCursor>('WebhookCursor', cursorSchema);
}

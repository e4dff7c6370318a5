/**
 * Webhook subscriptions of the platform's services (Administrators manage them through the API):
 * create (the `whsec_` signing secret is returned once), list, read, update, delete, rotate the
 * secret, and read a subscription's recent deliveries. Every change is audited; secrets are never
 * returned after creation or rotation, never audited, never logged, and stored sealed
 * (AES-256-GCM under TENURE_ENCRYPTION_KEY, bound to their subscription). A receiver must be on a
 * public address unless WEBHOOK_ALLOWED_PRIVATE_NETWORKS lists it: literal addresses and loopback
 * names are checked here, every name again when a delivery connects (jobs/webhook-post.ts).
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { Types } from 'mongoose';
import type { Config } from '../config/env';
import type { LifecycleEventType } from '../domain/lifecycle-events';
import { isLoopbackName, literalAddress, LOCAL_DEVELOPMENT_NETWORKS, parseReceiverAllowList, receiverAddressRefusal, type ReceiverAllowList } from '../domain/receiver-address';
import type { Models } from '../db/models';
import { NotFoundError, ServiceUnavailableError, UnprocessableError, ValidationError } from '../errors';
import type { Logger } from '../logger';
import { createKeyring, UnsealError, type Keyring, type SealedValue } from '../security/encryption';
import { recordAudit, type Actor } from './audit';

/** What guards webhooks: the keyring that seals signing secrets and the private networks receivers may be on. */
export interface WebhookProtection {
  keyring: Keyring;
  receivers: ReceiverAllowList;
}

/** From the configuration: WEBHOOK_ALLOWED_PRIVATE_NETWORKS when set, else nothing in production and loopback elsewhere. */
export function webhookProtectionFrom(config: Pick<Config, 'NODE_ENV' | 'WEBHOOK_ALLOWED_PRIVATE_NETWORKS' | 'TENURE_ENCRYPTION_KEY' | 'TENURE_ENCRYPTION_KEYS_PREVIOUS'>): WebhookProtection {
  const allowed = config.WEBHOOK_ALLOWED_PRIVATE_NETWORKS ?? (config.NODE_ENV === 'production' ? [] : LOCAL_DEVELOPMENT_NETWORKS);
  return {
    keyring: createKeyring({ current: config.TENURE_ENCRYPTION_KEY, previous: config.TENURE_ENCRYPTION_KEYS_PREVIOUS }),
    receivers: parseReceiverAllowList(allowed),
  };
}

/** The associated data of a subscription's sealed secret: it opens only in its own document. */
const secretContext = (id: Types.ObjectId | string) => `webhook-subscription:${String(id)}`;

function sealSecret(keyring: Keyring, id: Types.ObjectId, secret: string): SealedValue {
  if (!keyring.currentKeyId) {
    throw new ServiceUnavailableError('Webhook signing secrets are stored encrypted and TENURE_ENCRYPTION_KEY is not set on this server; an operator must set it first.', 'encryption_key_missing');
  }
  return keyring.seal(secret, secretContext(id));
}

/** A subscription's signing secret as stored: sealed, or in clear from an earlier version. */
export interface StoredSigningSecret {
  _id: Types.ObjectId;
  secretSealed?: SealedValue | null;
  secret?: string | null;
}

/** The signing secret in clear; throws UnsealError when it cannot be opened, an Error when none is stored. */
export function signingSecretOf(subscription: StoredSigningSecret, keyring: Keyring): string {
  if (subscription.secretSealed) return keyring.open(subscription.secretSealed, secretContext(subscription._id));
  if (subscription.secret) return subscription.secret;
  throw new Error('the subscription has no signing secret');
}

/**
 * The start-up migration (the worker runs it): every signing secret stored in clear, or sealed
 * with a key other than the current one, is sealed with the current key. Each write is
 * conditional on the value read, so two workers starting together, or a rotation meanwhile, never
 * overwrite a newer secret. Without a key nothing is sealed, and the clear ones are counted.
 */
export async function sealStoredSigningSecrets(models: Models, keyring: Keyring, logger: Logger): Promise<{ sealed: number; resealed: number; unreadable: number; clear: number }> {
  const result = { sealed: 0, resealed: 0, unreadable: 0, clear: 0 };
  const current = keyring.currentKeyId;
  const inClear = { secret: { $exists: true, $ne: null } };
  const cursor = models.WebhookSubscription.find(current ? { $or: [inClear, { secretSealed: { $exists: true }, 'secretSealed.keyId': { $ne: current } }] } : inClear).select('+secret +secretSealed').lean<StoredSigningSecret[]>().cursor();
  for await (const sub of cursor) {
    if (!current) {
      result.clear += 1;
      continue;
    }
    let plain: string;
    try {
      plain = signingSecretOf(sub, keyring);
    } catch (err) {
      if (!(err instanceof UnsealError)) throw err;
      result.unreadable += 1;
      logger.error({ subscriptionId: String(sub._id), keyId: err.keyId }, `a webhook signing secret cannot be re-sealed: ${err.message}`);
      continue;
    }
    const sealed = keyring.seal(plain, secretContext(sub._id));
    const unchanged = sub.secretSealed ? { 'secretSealed.data': sub.secretSealed.data } : { secret: sub.secret };
    const updated = await models.WebhookSubscription.updateOne({ _id: sub._id, ...unchanged }, { $set: { secretSealed: sealed }, $unset: { secret: '' } });
    if (updated.modifiedCount === 1) result[sub.secretSealed ? 'resealed' : 'sealed'] += 1;
  }
  if (result.sealed || result.resealed) logger.info({ ...result, keyId: current }, 'webhook signing secrets sealed with the current encryption key');
  if (result.clear) logger.warn({ clear: result.clear }, 'webhook signing secrets are stored in clear: set TENURE_ENCRYPTION_KEY so the worker seals them');
  return result;
}

export interface SubscriptionInput {
  url: string;
  events: LifecycleEventType[];
  description?: string;
  enabled?: boolean;
}

export interface SubscriptionView {
  id: string;
  url: string;
  events: string[];
  description?: string;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  secretRotatedAt?: string;
}

/** A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64. */
function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

/**
 * The one rule for a receiver's address: an absolute https URL without credentials in it; plain
 * http only to a loopback host (localhost, 127.0.0.0/8, ::1) and only outside production, for
 * local development and tests. Returns the problem, or undefined when the URL is acceptable.
 */
function webhookUrlProblem(url: string, production: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.username || parsed.password) return 'must not contain credentials';
  if (parsed.hash) return 'must not contain a fragment';
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:') {
    if (production) return 'must use https';
    return isLoopbackHost(parsed.hostname) ? undefined : 'must use https (plain http is accepted only to a loopback host outside production)';
  }
  return 'must use https';
}

/**
 * Why the receiver's host is refused before any DNS: a literal address that is not public, or a
 * loopback name, unless WEBHOOK_ALLOWED_PRIVATE_NETWORKS lists it. Other names are checked at
 * each delivery, on the addresses the connection uses.
 */
function receiverHostRefusal(url: string, receivers: ReceiverAllowList): string | undefined {
  const { hostname } = new URL(url);
  const literal = literalAddress(hostname);
  if (literal) return receiverAddressRefusal(literal, hostname, receivers);
  if (isLoopbackName(hostname)) {
    const refusals = ['127.0.0.1', '::1'].map((address) => receiverAddressRefusal(address, hostname, receivers));
    return refusals.some((refusal) => refusal === undefined) ? undefined : `${hostname} is a loopback name and WEBHOOK_ALLOWED_PRIVATE_NETWORKS does not list it`;
  }
  return undefined;
}

function assertUrl(url: string, options: SubscriptionOptions): void {
  const problem = webhookUrlProblem(url, options.production);
  if (problem) throw new ValidationError(`The webhook URL ${problem}.`, [{ path: 'url', message: problem }], 'invalid_webhook_url');
  const refusal = receiverHostRefusal(url, options.protection.receivers);
  if (refusal) {
    throw new UnprocessableError(`The webhook receiver is refused: ${refusal}. Receivers must be on public addresses (private, loopback, link-local, unique-local, carrier-grade NAT and metadata addresses are refused).`, 'private_webhook_receiver', { url });
  }
}

export interface SubscriptionOptions {
  production: boolean;
  protection: WebhookProtection;
}

function parseId(id: string): Types.ObjectId {
  if (!Types.ObjectId.isValid(id) || !/^[0-9a-fA-F]{24}$/.test(id)) throw new NotFoundError(`No webhook subscription with id ${id}.`, 'webhook_subscription_not_found');
  return new Types.ObjectId(id);
}

type StoredSubscription = { _id: Types.ObjectId; url: string; events: string[]; description?: string | null; enabled: boolean; createdAt: Date; updatedAt: Date; secretRotatedAt?: Date | null };

function view(s: StoredSubscription): SubscriptionView {
  return {
    id: String(s._id),
    url: s.url,
    events: [...s.events],
    ...(s.description ? { description: s.description } : {}),
    enabled: s.enabled,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
    ...(s.secretRotatedAt ? { secretRotatedAt: s.secretRotatedAt.toISOString() } : {}),
  };
}

const auditTarget = (s: StoredSubscription) => ({ subscriptionId: String(s._id), url: s.url, events: [...s.events], enabled: s.enabled });

export async function createSubscription(models: Models, input: SubscriptionInput, actor: Actor, options: SubscriptionOptions): Promise<SubscriptionView & { secret: string }> {
  assertUrl(input.url, options);
  const secret = newSigningSecret();
  const _id = new Types.ObjectId();
  const secretSealed = sealSecret(options.protection.keyring, _id, secret);
  const now = new Date();
  const created = await models.WebhookSubscription.create({
    _id,
    url: input.url,
    events: [...new Set(input.events)],
    description: input.description,
    enabled: input.enabled ?? true,
    secretSealed,
    createdBy: actor.id ? new Types.ObjectId(String(actor.id)) : undefined,
    createdAt: now,
    updatedAt: now,
  });
  const stored = created.toObject() as StoredSubscription;
  await recordAudit(models, { action: 'webhook.subscription_created', actor, details: auditTarget(stored) });
  return { ...view(stored), secret };
}

export async function listSubscriptions(models: Models): Promise<SubscriptionView[]> {
  const items = await models.WebhookSubscription.find({}).sort({ createdAt: -1 }).limit(1000).lean<StoredSubscription[]>();
  return items.map(view);
}

export async function getSubscription(models: Models, id: string): Promise<SubscriptionView> {
  const found = await models.WebhookSubscription.findById(parseId(id)).lean<StoredSubscription>();
  if (!found) throw new NotFoundError(`No webhook subscription with id ${id}.`, 'webhook_subscription_not_found');
  return view(found);
}

export async function updateSubscription(models: Models, id: string, input: Partial<SubscriptionInput>, actor: Actor, options: SubscriptionOptions): Promise<SubscriptionView> {
  const _id = parseId(id);
  if (input.url !== undefined) assertUrl(input.url, options);
  const set: Record<string, unknown> = { updatedAt: new Date() };
  if (input.url !== undefined) set.url = input.url;
  if (input.events !== undefined) set.events = [...new Set(input.events)];
  if (input.description !== undefined) set.description = input.description;
  if (input.enabled !== undefined) set.enabled = input.enabled;
  const before = await models.WebhookSubscription.findOneAndUpdate({ _id }, { $set: set }, { returnDocument: 'before' }).lean<StoredSubscription>();
  if (!before) throw new NotFoundError(`No webhook subscription with id ${id}.`, 'webhook_subscription_not_found');
  const after = await models.WebhookSubscription.findById(_id).lean<StoredSubscription>();
  if (!after) throw new NotFoundError(`No webhook subscription with id ${id}.`, 'webhook_subscription_not_found');
  await recordAudit(models, { action: 'webhook.subscription_updated', actor, details: { ...auditTarget(after), before: auditTarget(before) } });
  return view(after);
}

/** Deletes the subscription; its pending deliveries are cancelled when their job runs. */
export async function deleteSubscription(models: Models, id: string, actor: Actor): Promise<void> {
  const deleted = await models.WebhookSubscription.findOneAndDelete({ _id: parseId(id) }).lean<StoredSubscription>();
  if (!deleted) throw new NotFoundError(`No webhook subscription with id ${id}.`, 'webhook_subscription_not_found');
  await recordAudit(models, { action: 'webhook.subscription_deleted', actor, details: auditTarget(deleted) });
}

/** A new signing secret, returned once and stored sealed (a secret kept in clear goes); deliveries from now on are signed with it. */
export async function rotateSubscriptionSecret(models: Models, id: string, actor: Actor, protection: WebhookProtection): Promise<SubscriptionView & { secret: string }> {
  const _id = parseId(id);
  // An unknown subscription is a 404 whatever this server's key: looked up before sealing.
  if (!(await models.WebhookSubscription.exists({ _id }))) throw new NotFoundError(`No webhook subscription with id ${id}.`, 'webhook_subscription_not_found');
  const secret = newSigningSecret();
  const secretSealed = sealSecret(protection.keyring, _id, secret);
  const now = new Date();
  const updated = await models.WebhookSubscription.findOneAndUpdate({ _id }, { $set: { secretSealed, secretRotatedAt: now, updatedAt: now }, $unset: { secret: '' } }, { returnDocument: 'after' }).lean<StoredSubscription>();
  if (!updated) throw new NotFoundError(`No webhook subscription with id ${id}.`, 'webhook_subscription_not_found');
  await recordAudit(models, { action: 'webhook.secret_rotated', actor, details: auditTarget(updated) });
  return { ...view(updated), secret };
}

export interface DeliveryView {
  id: string;
  webhookId: string;
  type: string;
  status: string;
  attempts: number;
  lastStatus?: number;
  lastError?: string;
  createdAt: string;
  deliveredAt?: string;
  recentAttempts: Array<{ at: string; status?: number; error?: string; durationMs?: number }>;
}

/** A subscription's deliveries, newest first. */
export async function listSubscriptionDeliveries(models: Models, id: string, options: { limit: number; status?: string }): Promise<DeliveryView[]> {
  const _id = parseId(id);
  if (!(await models.WebhookSubscription.exists({ _id }))) throw new NotFoundError(`No webhook subscription with id ${id}.`, 'webhook_subscription_not_found');
  const query: Record<string, unknown> = { subscriptionId: _id };
  if (options.status) query.status = options.status;
  const items = await models.WebhookDelivery.find(query).sort({ createdAt: -1 }).limit(options.limit).lean();
  return items.map((d) => ({
    id: String(d._id),
    webhookId: d.webhookId,
    type: d.type,
    status: d.status,
    attempts: d.attempts,
    ...(d.lastStatus != null ? { lastStatus: d.lastStatus } : {}),
    ...(d.lastError ? { lastError: d.lastError } : {}),
    createdAt: d.createdAt.toISOString(),
    ...(d.deliveredAt ? { deliveredAt: d.deliveredAt.toISOString() } : {}),
    recentAttempts: ((d.lastAttempts as Array<{ at: Date; status?: number; error?: string; durationMs?: number }> | undefined) ?? []).map((a) => ({
      at: new Date(a.at).toISOString(),
      ...(a.status != null ? { status: a.status } : {}),
      ...(a.error ? { error: a.error } : {}),
      ...(a.durationMs != null ? { durationMs: a.durationMs } : {}),
    })),
  }));
}

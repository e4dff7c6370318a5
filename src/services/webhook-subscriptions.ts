/**
 * Webhook subscriptions of the platform's services (Administrators manage them through the API):
 * create (the `whsec_` signing secret is returned once), list, read, update, delete, rotate the
 * secret, and read a subscription's recent deliveries. Every change is audited; secrets are never
 * returned after creation or rotation, never audited, never logged.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { Types } from 'mongoose';
import type { LifecycleEventType } from '../domain/lifecycle-events';
import type { Models } from '../db/models';
import { NotFoundError, ValidationError } from '../errors';
import { recordAudit, type Actor } from './audit';

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

function assertUrl(url: string, production: boolean): void {
  const problem = webhookUrlProblem(url, production);
  if (problem) throw new ValidationError(`The webhook URL ${problem}.`, [{ path: 'url', message: problem }], 'invalid_webhook_url');
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

export async function createSubscription(models: Models, input: SubscriptionInput, actor: Actor, options: { production: boolean }): Promise<SubscriptionView & { secret: string }> {
  assertUrl(input.url, options.production);
  const secret = newSigningSecret();
  const now = new Date();
  const created = await models.WebhookSubscription.create({
    url: input.url,
    events: [...new Set(input.events)],
    description: input.description,
    enabled: input.enabled ?? true,
    secret,
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

export async function updateSubscription(models: Models, id: string, input: Partial<SubscriptionInput>, actor: Actor, options: { production: boolean }): Promise<SubscriptionView> {
  const _id = parseId(id);
  if (input.url !== undefined) assertUrl(input.url, options.production);
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

/** A new signing secret, returned once; deliveries from now on are signed with it. */
export async function rotateSubscriptionSecret(models: Models, id: string, actor: Actor): Promise<SubscriptionView & { secret: string }> {
  const secret = newSigningSecret();
  const now = new Date();
  const updated = await models.WebhookSubscription.findOneAndUpdate({ _id: parseId(id) }, { $set: { secret, secretRotatedAt: now, updatedAt: now } }, { returnDocument: 'after' }).lean<StoredSubscription>();
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

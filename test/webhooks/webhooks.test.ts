/**
 * Outbound webhooks on real Redis, MongoDB-wire and Temporal: a local HTTP receiver is the
 * subscriber and verifies every signature with the standardwebhooks library. Lifecycle changes
 * are made through the services every way in uses, so the audit log is the outbox's only input.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Queue, Worker } from 'bullmq';
import { Types } from 'mongoose';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lifecycleEventOf } from '../../src/domain/lifecycle-events';
import type { App } from '../../src/http/app';
import { createQueue, QUEUE_NAMES } from '../../src/jobs/queues';
import { keepWebhookOutboxScheduled, runWebhookOutbox, type WebhookDeliveryJob } from '../../src/jobs/webhooks';
import { startJobWorkers } from '../../src/jobs/workers';
import { recordAudit } from '../../src/services/audit';
import { deactivateUser, reactivateUser } from '../../src/services/users';
import { createSubscription, sealStoredSigningSecrets, signingSecretOf, webhookProtectionFrom, type StoredSigningSecret, type WebhookProtection } from '../../src/services/webhook-subscriptions';
import { parseReceiverAllowList } from '../../src/domain/receiver-address';
import { createKeyring } from '../../src/security/encryption';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp, TEST_ALLOWED_PRIVATE_NETWORKS, TEST_ENCRYPTION_KEY } from '../helpers/http';
import { createClient } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';

type Mode = 'ok' | 'down';
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

let ctx: TestContext;
let client: Client;
let app: App;
let workers: Worker[];
let outboxQueue: Queue;
let deliveryQueue: Queue<WebhookDeliveryJob>;
let stopScheduling: () => void;
let receiver: Server;
let base: string;
let admin: SeededUser;
const received: Received[] = [];
const modes = new Map<string, Mode>();
const SETTINGS = { attempts: 4, backoffMs: 150, timeoutMs: 3000 };
/** What the test app uses too: the run's encryption key, receivers on loopback allowed. */
const PROTECTION: WebhookProtection = webhookProtectionFrom({
  NODE_ENV: 'test',
  TENURE_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
  TENURE_ENCRYPTION_KEYS_PREVIOUS: undefined,
  WEBHOOK_ALLOWED_PRIVATE_NETWORKS: TEST_ALLOWED_PRIVATE_NETWORKS.split(','),
});

beforeAll(async () => {
  ctx = await createTestContext('webhooks');
  client = await createClient(ctx);
  app = await createTestApp(ctx, client, { WEBHOOK_ATTEMPTS: SETTINGS.attempts, WEBHOOK_BACKOFF: SETTINGS.backoffMs, WEBHOOK_TIMEOUT: SETTINGS.timeoutMs });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const answered = (modes.get(path) ?? 'ok') === 'ok' ? 204 : 503;
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered });
      res.statusCode = answered;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  deliveryQueue = createQueue<WebhookDeliveryJob>(QUEUE_NAMES.webhookDelivery, ctx.queue);
  outboxQueue = createQueue(QUEUE_NAMES.webhookOutbox, ctx.queue);
  workers = startJobWorkers({ models: ctx.models, queue: ctx.queue, logger: ctx.logger, webhooks: { settings: SETTINGS, deliveryQueue, protection: PROTECTION } });
  stopScheduling = await keepWebhookOutboxScheduled(outboxQueue, 200, ctx.redis, ctx.logger);
  admin = await seedUser(ctx.models, { siteRole: 'Administrators' });
});

afterAll(async () => {
  stopScheduling?.();
  await Promise.all((workers ?? []).map((w) => w.close()));
  await outboxQueue?.close();
  await deliveryQueue?.close();
  await app?.close();
  await new Promise((resolve) => receiver?.close(resolve));
  await client?.connection.close();
  await ctx?.close();
});

async function subscribe(path: string, events: string[] = ['user.created', 'user.activated', 'user.deactivated', 'user.deleted', 'offboarding.completed'], extra: Record<string, unknown> = {}) {
  const res = await app.inject({ method: 'POST', url: '/v1/webhook-subscriptions', headers: admin.auth, payload: { url: `${base}${path}`, events, ...extra } });
  expect(res.statusCode, res.body).toBe(201);
  const body = res.json() as { id: string; secret: string };
  expect(body.secret).toMatch(/^whsec_/);
  return body;
}

const acceptedAt = (path: string) => received.filter((r) => r.path === path && r.answered === 204);
const attemptsAt = (path: string) => received.filter((r) => r.path === path);

/** Verifies with the library, as a receiver does; throws on a bad signature. */
function verified(secret: string, r: Received): { type: string; timestamp: string; data: Record<string, unknown> } {
  const headers = { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) };
  return new Webhook(secret).verify(r.body, headers) as { type: string; timestamp: string; data: Record<string, unknown> };
}

describe('delivery', () => {
  it('delivers a lifecycle event signed: the receiver verifies it with the library; the delivery is listed as delivered with its response code', async () => {
    const sub = await subscribe('/signed');
    const leaver = await seedUser(ctx.models, { email: 'signed.leaver@example.com' });
    await deactivateUser(ctx.models, leaver.user._id, { type: 'user', id: admin.user._id, email: admin.user.email });

    const [got] = await eventually('the delivery', async () => (acceptedAt('/signed').length ? acceptedAt('/signed') : undefined));
    const payload = verified(sub.secret, got!);
    expect(payload).toMatchObject({ type: 'user.deactivated', data: { userId: String(leaver.user._id), email: 'signed.leaver@example.com', via: 'deactivated' } });
    expect(got!.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{24}$/);
    // Another secret does not verify it.
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(got!.body, got!.headers as Record<string, string>)).toThrow();

    const deliveries = await eventually('the delivery recorded', async () => {
      const res = await app.inject({ method: 'GET', url: `/v1/webhook-subscriptions/${sub.id}/deliveries`, headers: admin.auth });
      const list = res.json().deliveries as Array<{ status: string; lastStatus?: number; webhookId: string }>;
      return list.length && list[0]!.status === 'delivered' ? list : undefined;
    });
    expect(deliveries).toMatchObject([{ status: 'delivered', lastStatus: 204, type: 'user.deactivated', webhookId: got!.headers['webhook-id'] }]);
    await app.inject({ method: 'DELETE', url: `/v1/webhook-subscriptions/${sub.id}`, headers: admin.auth });
  });

  it('a receiver that is down gets the event once it is back, exactly once per subscription (one webhook-id each), however often the outbox runs', async () => {
    modes.set('/flaky', 'down');
    const flaky = await subscribe('/flaky', ['user.activated']);
    const steady = await subscribe('/steady', ['user.activated']);
    const returning = await seedUser(ctx.models, { email: 'returning@example.com', status: 'deactivated' });
    await reactivateUser(ctx.models, returning.user._id, { type: 'system' });

    await eventually('two refused attempts', async () => attemptsAt('/flaky').length >= 2);
    expect(acceptedAt('/flaky')).toHaveLength(0);
    modes.set('/flaky', 'ok');
    await eventually('the retry to get through', async () => acceptedAt('/flaky').length >= 1);
    await eventually('the other subscription', async () => acceptedAt('/steady').length >= 1);

    // The outbox read again (as after a crash) queues nothing new.
    for (let i = 0; i < 3; i += 1) {
      expect(await runWebhookOutbox({ models: ctx.models, deliveryQueue, settings: SETTINGS, logger: ctx.logger })).toMatchObject({ recorded: 0, deliveriesQueued: 0 });
    }
    const flakyDelivery = await eventually('the delivery to settle', async () => {
      const d = await ctx.models.WebhookDelivery.findOne({ subscriptionId: flaky.id }).lean();
      return d?.status === 'delivered' ? d : undefined;
    });
    expect(flakyDelivery.attempts).toBeGreaterThanOrEqual(3);
    expect((flakyDelivery.lastAttempts as Array<{ status?: number }>).map((a) => a.status)).toContain(503);

    expect(acceptedAt('/flaky')).toHaveLength(1);
    expect(acceptedAt('/steady')).toHaveLength(1);
    const a = verified(flaky.secret, acceptedAt('/flaky')[0]!);
    const b = verified(steady.secret, acceptedAt('/steady')[0]!);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ type: 'user.activated', data: { email: 'returning@example.com', via: 'reactivated' } });
    // Every attempt of the one event carried the same webhook-id.
    expect(new Set(attemptsAt('/flaky').map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(await ctx.models.WebhookDelivery.countDocuments({ subscriptionId: { $in: [flaky.id, steady.id] } })).toBe(2);
    for (const s of [flaky, steady]) await app.inject({ method: 'DELETE', url: `/v1/webhook-subscriptions/${s.id}`, headers: admin.auth });
  });

  it('a receiver that always fails ends in the dead-letter list, and a replay delivers it with the same webhook-id', async () => {
    modes.set('/dead', 'down');
    const sub = await subscribe('/dead', ['user.deleted']);
    const gone = await seedUser(ctx.models, { email: 'gone@example.com' });
    await recordAudit(ctx.models, { action: 'user.deleted', actor: { type: 'system' }, target: { id: gone.user._id, email: 'gone@example.com' } });

    const letters = await eventually('the dead letter', async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/webhook-dead-letters', headers: admin.auth });
      const list = res.json().deadLetters as Array<{ jobId: string; subscriptionId: string; attempts: number; lastStatus?: number; webhookId: string }>;
      const mine = list.filter((d) => d.subscriptionId === sub.id);
      return mine.length ? mine : undefined;
    }, 30_000);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ attempts: SETTINGS.attempts, lastStatus: 503, type: 'user.deleted' });
    expect(attemptsAt('/dead')).toHaveLength(SETTINGS.attempts);
    expect(await ctx.models.AuditEvent.countDocuments({ action: 'webhook.delivery_dead_lettered' })).toBeGreaterThanOrEqual(1);

    modes.set('/dead', 'ok');
    const replay = await app.inject({ method: 'POST', url: `/v1/webhook-dead-letters/${letters[0]!.jobId}/replay`, headers: admin.auth });
    expect(replay.statusCode, replay.body).toBe(202);
    expect(replay.json()).toMatchObject({ jobId: letters[0]!.jobId, replayJobId: `${letters[0]!.jobId}-replay-1` });
    const [got] = await eventually('the replayed delivery', async () => (acceptedAt('/dead').length ? acceptedAt('/dead') : undefined));
    expect(got!.headers['webhook-id']).toBe(letters[0]!.webhookId);
    expect(verified(sub.secret, got!)).toMatchObject({ type: 'user.deleted', data: { email: 'gone@example.com' } });
    expect(await ctx.models.AuditEvent.countDocuments({ action: 'webhook.dead_letter_replayed' })).toBe(1);

    const unknown = await app.inject({ method: 'POST', url: '/v1/webhook-dead-letters/webhook-nothing/replay', headers: admin.auth });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('dead_letter_not_found');
    await app.inject({ method: 'DELETE', url: `/v1/webhook-subscriptions/${sub.id}`, headers: admin.auth });
  }, 60_000);

  it('a disabled subscription is sent nothing while an enabled one gets the event', async () => {
    const off = await subscribe('/off', ['user.created']);
    const patched = await app.inject({ method: 'PATCH', url: `/v1/webhook-subscriptions/${off.id}`, headers: admin.auth, payload: { enabled: false } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ enabled: false });
    const on = await subscribe('/on', ['user.created']);
    await recordAudit(ctx.models, { action: 'user.created', actor: { type: 'system' }, target: { email: 'new.hire@example.com' }, details: { siteRole: 'Users' } });

    await eventually('the enabled subscription', async () => acceptedAt('/on').length >= 1);
    expect(verified(on.secret, acceptedAt('/on')[0]!)).toMatchObject({ type: 'user.created', data: { email: 'new.hire@example.com', siteRole: 'Users' } });
    expect(attemptsAt('/off')).toHaveLength(0);
    expect(await ctx.models.WebhookDelivery.countDocuments({ subscriptionId: off.id })).toBe(0);
    for (const s of [off, on]) await app.inject({ method: 'DELETE', url: `/v1/webhook-subscriptions/${s.id}`, headers: admin.auth });
  });

  it('an offboarding that left access behind is delivered as offboarding.completed naming the systems', async () => {
    const sub = await subscribe('/offboarding', ['offboarding.completed']);
    await recordAudit(ctx.models, {
      action: 'offboarding.access_left_behind',
      actor: { type: 'system' },
      target: { email: 'leaver@example.com' },
      processId: 'offboarding-x',
      eventKey: 'test:access-left-behind',
      details: { clean: false, systems: [{ system: 'keycloak', label: 'Keycloak (realm acme)', clean: false, remaining: ['session 1'] }, { system: 'gitea', label: 'Gitea (git.example.com)', clean: true, remaining: [] }] },
    });
    const [got] = await eventually('the delivery', async () => (acceptedAt('/offboarding').length ? acceptedAt('/offboarding') : undefined));
    expect(verified(sub.secret, got!)).toMatchObject({
      type: 'offboarding.completed',
      data: { email: 'leaver@example.com', processId: 'offboarding-x', outcome: 'completed_with_access_left_behind', accessLeftBehind: true, systemsLeftBehind: ['keycloak'] },
    });
    await app.inject({ method: 'DELETE', url: `/v1/webhook-subscriptions/${sub.id}`, headers: admin.auth });
  });
});

describe('subscriptions API', () => {
  it('refuses callers without a token (401) and roles other than Administrators (403), before validating', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/webhook-subscriptions' })).statusCode).toBe(401);
    for (const siteRole of ['SecurityManagers', 'Auditors', 'PowerUsers', 'Users'] as const) {
      const caller = await seedUser(ctx.models, { siteRole });
      const list = await app.inject({ method: 'GET', url: '/v1/webhook-subscriptions', headers: caller.auth });
      expect(list.statusCode, siteRole).toBe(403);
      const create = await app.inject({ method: 'POST', url: '/v1/webhook-subscriptions', headers: caller.auth, payload: { url: 'nonsense' } });
      expect(create.statusCode, siteRole).toBe(403);
      const letters = await app.inject({ method: 'GET', url: '/v1/webhook-dead-letters', headers: caller.auth });
      expect(letters.statusCode, siteRole).toBe(403);
    }
    expect(await ctx.models.WebhookSubscription.countDocuments({ url: 'nonsense' })).toBe(0);
  });

  it('bad input is a 400 with a code; an unknown subscription a 404', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ url: 'http://example.com/hook', events: ['user.created'] }, 'invalid_webhook_url'],
      [{ url: 'ftp://127.0.0.1/hook', events: ['user.created'] }, 'invalid_webhook_url'],
      [{ url: 'https://user:pw@example.com/hook', events: ['user.created'] }, 'invalid_webhook_url'],
      [{ url: 'not a url at all', events: ['user.created'] }, 'invalid_webhook_url'],
      [{ url: 'https://example.com/hook', events: ['user.renamed'] }, 'invalid_request'],
      [{ url: 'https://example.com/hook', events: [] }, 'invalid_request'],
      [{ url: 'https://example.com/hook' }, 'invalid_request'],
      [{ url: 'https://example.com/hook', events: ['user.created'], secret: 'mine' }, 'invalid_request'],
    ];
    for (const [payload, code] of cases) {
      const res = await app.inject({ method: 'POST', url: '/v1/webhook-subscriptions', headers: admin.auth, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error, JSON.stringify(payload)).toMatchObject({ code });
      expect(res.json().error.message).toEqual(expect.any(String));
    }
    expect((await app.inject({ method: 'GET', url: '/v1/webhook-subscriptions/zzz', headers: admin.auth })).statusCode).toBe(400);
    const missing = await app.inject({ method: 'GET', url: '/v1/webhook-subscriptions/0123456789abcdef01234567', headers: admin.auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('webhook_subscription_not_found');
    const emptyPatch = await app.inject({ method: 'PATCH', url: '/v1/webhook-subscriptions/0123456789abcdef01234567', headers: admin.auth, payload: {} });
    expect(emptyPatch.statusCode).toBe(400);
    expect(await ctx.models.WebhookSubscription.countDocuments({ url: /example\.com/ })).toBe(0);
  });

  it('create, read, list, update, rotate and delete, audited; the secret is returned only at creation and rotation', async () => {
    const created = await subscribe('/crud', ['user.created'], { description: 'HR mirror' });
    const one = await app.inject({ method: 'GET', url: `/v1/webhook-subscriptions/${created.id}`, headers: admin.auth });
    expect(one.json()).toMatchObject({ id: created.id, url: `${base}/crud`, events: ['user.created'], enabled: true, description: 'HR mirror' });
    expect(one.json()).not.toHaveProperty('secret');
    const list = await app.inject({ method: 'GET', url: '/v1/webhook-subscriptions', headers: admin.auth });
    expect(list.body).not.toContain(created.secret);
    expect(list.json().subscriptions.map((s: { id: string }) => s.id)).toContain(created.id);

    const updated = await app.inject({ method: 'PATCH', url: `/v1/webhook-subscriptions/${created.id}`, headers: admin.auth, payload: { events: ['user.deleted', 'user.created'], url: 'https://hooks.example.com/tenure' } });
    expect(updated.json()).toMatchObject({ events: ['user.deleted', 'user.created'], url: 'https://hooks.example.com/tenure' });
    const rotated = await app.inject({ method: 'POST', url: `/v1/webhook-subscriptions/${created.id}/rotate-secret`, headers: admin.auth });
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json().secret).toMatch(/^whsec_/);
    expect(rotated.json().secret).not.toBe(created.secret);

    const deleted = await app.inject({ method: 'DELETE', url: `/v1/webhook-subscriptions/${created.id}`, headers: admin.auth });
    expect(deleted.statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: `/v1/webhook-subscriptions/${created.id}`, headers: admin.auth })).statusCode).toBe(404);

    const audit = await ctx.models.AuditEvent.find({ 'details.subscriptionId': created.id }).sort({ at: 1 }).lean();
    expect(audit.map((a) => a.action)).toEqual(['webhook.subscription_created', 'webhook.subscription_updated', 'webhook.secret_rotated', 'webhook.subscription_deleted']);
    expect(JSON.stringify(audit)).not.toContain(created.secret);
    expect(JSON.stringify(audit)).not.toContain(rotated.json().secret);
  });
});

describe('lifecycle events from audit entries', () => {
  it('maps each lifecycle audit action, and nothing else', () => {
    const at = new Date('2026-01-02T03:04:05Z');
    const of = (action: string, details?: unknown) => lifecycleEventOf({ action, at, actorType: 'system', targetUserId: 'u1', targetEmail: 'a@example.com', details });
    expect(of('invitation.accepted')?.type).toBe('user.activated');
    expect(of('registration.completed')?.type).toBe('user.activated');
    expect(of('invitation.cancelled')?.type).toBe('user.deactivated');
    expect(of('user.bootstrapped', { created: true })?.type).toBe('user.created');
    expect(of('user.bootstrapped', { created: false })).toBeUndefined();
    expect(of('offboarding.completed')).toMatchObject({ type: 'offboarding.completed', timestamp: at.toISOString(), data: { accessLeftBehind: false } });
    expect(of('offboarding.access_left_behind', { systems: [{ system: 'gitea', clean: false, remaining: [] }, { system: 'keycloak', clean: true, remaining: [] }] })?.data).toMatchObject({ accessLeftBehind: true, systemsLeftBehind: ['gitea'] });
    expect(of('user.role_changed')).toBeUndefined();
    expect(of('webhook.subscription_created')).toBeUndefined();
  });
});

const rawSubscriptions = () => ctx.conn.collection('webhook_subscriptions');
const deadLetterOf = (models: TestContext['models'], subscriptionId: string) => models.WebhookDeadLetter.findOne({ subscriptionId: new Types.ObjectId(subscriptionId) }).lean();

describe('signing secrets at rest', () => {
  it('the stored subscription holds its secret sealed (key id, IV, tag), never in clear, before and after a rotation; the receiver verifies with the library', async () => {
    const sub = await subscribe('/sealed', ['user.deactivated']);
    const stored = await rawSubscriptions().findOne({ _id: new Types.ObjectId(sub.id) });
    expect(stored).not.toHaveProperty('secret');
    expect(stored!.secretSealed).toMatchObject({ keyId: PROTECTION.keyring.currentKeyId, iv: expect.any(String), tag: expect.any(String), data: expect.any(String) });
    const key = sub.secret.slice('whsec_'.length);
    for (const form of [sub.secret, key, Buffer.from(key, 'base64').toString('hex'), Buffer.from(sub.secret).toString('base64')]) expect(JSON.stringify(stored)).not.toContain(form);

    await recordAudit(ctx.models, { action: 'user.deactivated', actor: { type: 'system' }, target: { email: 'sealed@example.com' } });
    const [got] = await eventually('the delivery', async () => (acceptedAt('/sealed').length ? acceptedAt('/sealed') : undefined));
    expect(verified(sub.secret, got!)).toMatchObject({ type: 'user.deactivated', data: { email: 'sealed@example.com' } });

    const rotated = (await app.inject({ method: 'POST', url: `/v1/webhook-subscriptions/${sub.id}/rotate-secret`, headers: admin.auth })).json() as { secret: string };
    const after = await rawSubscriptions().findOne({ _id: new Types.ObjectId(sub.id) });
    expect(after).not.toHaveProperty('secret');
    expect(after!.secretSealed.data).not.toBe(stored!.secretSealed.data);
    expect(JSON.stringify(after)).not.toContain(rotated.secret.slice('whsec_'.length));
    await recordAudit(ctx.models, { action: 'user.deactivated', actor: { type: 'system' }, target: { email: 'sealed.again@example.com' } });
    const second = await eventually('the second delivery', async () => acceptedAt('/sealed').find((r) => r.body.includes('sealed.again@example.com')));
    expect(verified(rotated.secret, second)).toMatchObject({ data: { email: 'sealed.again@example.com' } });
    expect(() => verified(sub.secret, second)).toThrow();
    await app.inject({ method: 'DELETE', url: `/v1/webhook-subscriptions/${sub.id}`, headers: admin.auth });
  });

  it('a tampered sealed secret, or one sealed with a key the worker does not hold, is dead-lettered at once with the reason; nothing is sent', async () => {
    const tampered = await subscribe('/tampered', ['user.deleted']);
    const foreign = await subscribe('/foreign', ['user.deleted']);
    const doc = await rawSubscriptions().findOne({ _id: new Types.ObjectId(tampered.id) });
    const bytes = Buffer.from(doc!.secretSealed.data as string, 'base64');
    bytes[3] = bytes[3]! ^ 0x20;
    await rawSubscriptions().updateOne({ _id: doc!._id }, { $set: { 'secretSealed.data': bytes.toString('base64') } });
    const otherKeyring = createKeyring({ current: randomBytes(32).toString('base64') });
    await rawSubscriptions().updateOne({ _id: new Types.ObjectId(foreign.id) }, { $set: { secretSealed: otherKeyring.seal(foreign.secret, `webhook-subscription:${foreign.id}`) } });

    await recordAudit(ctx.models, { action: 'user.deleted', actor: { type: 'system' }, target: { email: 'tampered@example.com' } });
    const [a, b] = await eventually('both dead letters', async () => {
      const letters = await Promise.all([deadLetterOf(ctx.models, tampered.id), deadLetterOf(ctx.models, foreign.id)]);
      return letters.every(Boolean) ? letters : undefined;
    });
    expect(a).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/^the signing secret could not be decrypted: .*failed authentication under key /) });
    expect(b).toMatchObject({ attempts: 1, lastError: `the signing secret could not be decrypted: it was sealed with key ${otherKeyring.currentKeyId}, which is neither TENURE_ENCRYPTION_KEY nor one of TENURE_ENCRYPTION_KEYS_PREVIOUS` });
    expect(await ctx.models.WebhookDelivery.find({ subscriptionId: { $in: [tampered.id, foreign.id] } }).distinct('status')).toEqual(['dead_lettered']);
    expect(attemptsAt('/tampered')).toHaveLength(0);
    expect(attemptsAt('/foreign')).toHaveLength(0);
    for (const s of [tampered, foreign]) await app.inject({ method: 'DELETE', url: `/v1/webhook-subscriptions/${s.id}`, headers: admin.auth });
  });

  it('a subscription whose secret an earlier version stored in clear still delivers; the start-up migration seals it, and re-seals it under a rotated key', async () => {
    const clearSecret = `whsec_${randomBytes(32).toString('base64')}`;
    const _id = new Types.ObjectId();
    const now = new Date();
    await rawSubscriptions().insertOne({ _id, url: `${base}/legacy`, events: ['user.activated'], enabled: true, secret: clearSecret, createdAt: new Date(now.getTime() - 1000), updatedAt: now });
    await recordAudit(ctx.models, { action: 'user.reactivated', actor: { type: 'system' }, target: { email: 'legacy.one@example.com' } });
    const first = await eventually('the delivery signed with the clear secret', async () => acceptedAt('/legacy').find((r) => r.body.includes('legacy.one@')));
    expect(verified(clearSecret, first)).toMatchObject({ type: 'user.activated' });

    const sealed = await sealStoredSigningSecrets(ctx.models, PROTECTION.keyring, ctx.logger);
    expect(sealed.sealed).toBeGreaterThanOrEqual(1);
    const stored = await rawSubscriptions().findOne({ _id });
    expect(stored).not.toHaveProperty('secret');
    expect(JSON.stringify(stored)).not.toContain(clearSecret.slice('whsec_'.length));
    expect(stored!.secretSealed.keyId).toBe(PROTECTION.keyring.currentKeyId);
    // Run again: nothing left to seal.
    expect(await sealStoredSigningSecrets(ctx.models, PROTECTION.keyring, ctx.logger)).toMatchObject({ sealed: 0, resealed: 0 });

    await recordAudit(ctx.models, { action: 'user.reactivated', actor: { type: 'system' }, target: { email: 'legacy.two@example.com' } });
    const second = await eventually('the delivery signed with the sealed secret', async () => acceptedAt('/legacy').find((r) => r.body.includes('legacy.two@')));
    expect(verified(clearSecret, second)).toMatchObject({ type: 'user.activated' });

    // Key rotation: the new key seals, the retired one still opens until the migration re-seals.
    const newKey = randomBytes(32).toString('base64');
    const rotated = createKeyring({ current: newKey, previous: [TEST_ENCRYPTION_KEY] });
    expect((await sealStoredSigningSecrets(ctx.models, rotated, ctx.logger)).resealed).toBeGreaterThanOrEqual(1);
    const resealed = (await rawSubscriptions().findOne({ _id })) as unknown as StoredSigningSecret & { secretSealed: { keyId: string } };
    expect(resealed.secretSealed.keyId).toBe(rotated.currentKeyId);
    expect(signingSecretOf(resealed, rotated)).toBe(clearSecret);
    expect(() => signingSecretOf(resealed, PROTECTION.keyring)).toThrow(/neither TENURE_ENCRYPTION_KEY/);
    // And back, so the file's worker opens every secret again.
    await sealStoredSigningSecrets(ctx.models, createKeyring({ current: TEST_ENCRYPTION_KEY, previous: [newKey] }), ctx.logger);
    expect(signingSecretOf((await rawSubscriptions().findOne({ _id })) as unknown as StoredSigningSecret, PROTECTION.keyring)).toBe(clearSecret);
    await app.inject({ method: 'DELETE', url: `/v1/webhook-subscriptions/${String(_id)}`, headers: admin.auth });
  });

  it('without TENURE_ENCRYPTION_KEY no secret is stored: subscribing and rotating answer 503 encryption_key_missing', async () => {
    const keyless = await createTestApp(ctx, client, { TENURE_ENCRYPTION_KEY: undefined });
    try {
      const before = await ctx.models.WebhookSubscription.countDocuments({});
      const created = await keyless.inject({ method: 'POST', url: '/v1/webhook-subscriptions', headers: admin.auth, payload: { url: `${base}/keyless`, events: ['user.created'] } });
      expect(created.statusCode, created.body).toBe(503);
      expect(created.json().error).toMatchObject({ code: 'encryption_key_missing', message: expect.stringContaining('TENURE_ENCRYPTION_KEY') });
      expect(await ctx.models.WebhookSubscription.countDocuments({})).toBe(before);
      const sub = await subscribe('/keyless-rotate', ['user.created']);
      const rotate = await keyless.inject({ method: 'POST', url: `/v1/webhook-subscriptions/${sub.id}/rotate-secret`, headers: admin.auth });
      expect(rotate.statusCode).toBe(503);
      // An unknown subscription is still a 404, whatever the server's key.
      const unknown = await keyless.inject({ method: 'POST', url: `/v1/webhook-subscriptions/${String(new Types.ObjectId())}/rotate-secret`, headers: admin.auth });
      expect(unknown.statusCode, unknown.body).toBe(404);
      expect(unknown.json().error.code).toBe('webhook_subscription_not_found');
      expect(signingSecretOf((await rawSubscriptions().findOne({ _id: new Types.ObjectId(sub.id) })) as unknown as StoredSigningSecret, PROTECTION.keyring)).toBe(sub.secret);
      await app.inject({ method: 'DELETE', url: `/v1/webhook-subscriptions/${sub.id}`, headers: admin.auth });
    } finally {
      await keyless.close();
    }
  });
});

describe('receivers on private addresses', () => {
  it('subscribing or moving a subscription to a private, loopback, link-local, unique-local, CGNAT or metadata address is a 422 with a code; an allowed network and a public address are accepted', async () => {
    const strict = await createTestApp(ctx, client, { WEBHOOK_ALLOWED_PRIVATE_NETWORKS: ['10.9.0.0/16'] });
    try {
      const refused = [
        'https://10.0.0.1/hook', 'https://127.0.0.1/', 'https://[::1]/', 'https://169.254.169.254/latest/meta-data/', 'https://172.16.0.5/hook',
        'https://192.168.0.10/hook', 'https://100.64.1.1/hook', 'https://[fd00::1]/hook', 'https://[fe80::1]/hook', 'https://[::ffff:127.0.0.1]/hook',
        'https://0x7f.1/hook', 'https://2130706433/hook', 'https://0.0.0.0/hook', 'https://localhost/hook', 'https://api.localhost/hook', `http://127.0.0.1:${new URL(base).port}/hook`,
      ];
      for (const url of refused) {
        const res = await strict.inject({ method: 'POST', url: '/v1/webhook-subscriptions', headers: admin.auth, payload: { url, events: ['user.created'] } });
        expect(res.statusCode, url).toBe(422);
        expect(res.json().error, url).toMatchObject({ code: 'private_webhook_receiver', message: expect.stringMatching(/^The webhook receiver is refused: /) });
      }
      expect(await ctx.models.WebhookSubscription.countDocuments({ url: { $in: refused } })).toBe(0);

      const accepted: string[] = [];
      for (const url of ['https://10.9.1.2/hook', 'https://93.184.216.34/hook']) {
        const res = await strict.inject({ method: 'POST', url: '/v1/webhook-subscriptions', headers: admin.auth, payload: { url, events: ['user.created'], enabled: false } });
        expect(res.statusCode, `${url}: ${res.body}`).toBe(201);
        accepted.push(res.json().id);
      }
      const moved = await strict.inject({ method: 'PATCH', url: `/v1/webhook-subscriptions/${accepted[0]}`, headers: admin.auth, payload: { url: 'https://169.254.169.254/' } });
      expect(moved.statusCode).toBe(422);
      expect(moved.json().error.code).toBe('private_webhook_receiver');
      expect((await ctx.models.WebhookSubscription.findById(accepted[0]).lean())?.url).toBe('https://10.9.1.2/hook');
      for (const id of accepted) await app.inject({ method: 'DELETE', url: `/v1/webhook-subscriptions/${id}`, headers: admin.auth });
    } finally {
      await strict.close();
    }
  });

  it('a receiver named by a host name is reached on the addresses it resolves to when their network is allowed', async () => {
    const sub = await subscribe(`/by-name`, ['user.deactivated'], { url: `http://localhost:${new URL(base).port}/by-name` });
    await recordAudit(ctx.models, { action: 'user.deactivated', actor: { type: 'system' }, target: { email: 'by.name@example.com' } });
    const [got] = await eventually('the delivery', async () => (acceptedAt('/by-name').length ? acceptedAt('/by-name') : undefined));
    expect(verified(sub.secret, got!)).toMatchObject({ data: { email: 'by.name@example.com' } });
    await app.inject({ method: 'DELETE', url: `/v1/webhook-subscriptions/${sub.id}`, headers: admin.auth });
  });

  it('at delivery, a host name that resolves to a refused address (or a literal one no longer allowed) is dead-lettered at once with the reason; nothing is sent', async () => {
    // A worker whose setting allows no private network, on a database and queues of its own.
    const strict = await createTestContext('webhooksstrict');
    const strictQueue = createQueue<WebhookDeliveryJob>(QUEUE_NAMES.webhookDelivery, strict.queue);
    const strictWorkers = startJobWorkers({
      models: strict.models,
      queue: strict.queue,
      logger: strict.logger,
      webhooks: { settings: SETTINGS, deliveryQueue: strictQueue, protection: { keyring: PROTECTION.keyring, receivers: parseReceiverAllowList([]) } },
    });
    try {
      const port = new URL(base).port;
      // Accepted when subscribed (as a name that then resolved to a public address would be).
      const byName = await createSubscription(strict.models, { url: `http://localhost:${port}/strict-name`, events: ['user.deleted'] }, { type: 'system' }, { production: false, protection: PROTECTION });
      const literal = await createSubscription(strict.models, { url: `http://127.0.0.1:${port}/strict-literal`, events: ['user.deleted'] }, { type: 'system' }, { production: false, protection: PROTECTION });
      await recordAudit(strict.models, { action: 'user.deleted', actor: { type: 'system' }, target: { email: 'strict@example.com' } });
      await runWebhookOutbox({ models: strict.models, deliveryQueue: strictQueue, settings: SETTINGS, logger: strict.logger });
      const [named, literally] = await eventually('both dead letters', async () => {
        const letters = await Promise.all([deadLetterOf(strict.models, byName.id), deadLetterOf(strict.models, literal.id)]);
        return letters.every(Boolean) ? letters : undefined;
      });
      expect(named).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/^the receiver's address is refused: localhost resolves to no acceptable address: 127\.0\.0\.1 is not a public address \(loopback\)/) });
      expect(literally).toMatchObject({ attempts: 1, lastError: "the receiver's address is refused: 127.0.0.1 is not a public address (loopback) and WEBHOOK_ALLOWED_PRIVATE_NETWORKS does not list it" });
      expect(attemptsAt('/strict-name')).toHaveLength(0);
      expect(attemptsAt('/strict-literal')).toHaveLength(0);
      expect(await strict.models.AuditEvent.countDocuments({ action: 'webhook.delivery_dead_lettered' })).toBe(2);
    } finally {
      await Promise.all(strictWorkers.map((w) => w.close()));
      await strictQueue.close();
      await strict.close();
    }
  });
});

describe('an invitation whose onboarding cannot start', () => {
  it('deletes its pending user and tells subscribers: user.created is followed by user.deleted (reason onboarding_not_started)', async () => {
    const sub = await subscribe('/rollback', ['user.created', 'user.deleted']);
    const unreachable = await createClient(ctx);
    await unreachable.connection.close();
    const broken = await createTestApp(ctx, unreachable);
    try {
      const res = await broken.inject({ method: 'POST', url: '/v1/users', headers: admin.auth, payload: { email: 'rollback.hire@example.com' } });
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json().error.code).toBe('process_unavailable');
    } finally {
      await broken.close();
    }
    expect(await ctx.models.User.exists({ email: 'rollback.hire@example.com' })).toBeNull();
    const audit = await ctx.models.AuditEvent.find({ targetEmail: 'rollback.hire@example.com' }).sort({ at: 1, _id: 1 }).lean();
    expect(audit.map((a) => a.action)).toEqual(['user.created', 'user.deleted']);
    expect(String(audit[1]!.targetUserId)).toBe(String(audit[0]!.targetUserId));

    const got = await eventually('both events', async () => (acceptedAt('/rollback').length >= 2 ? acceptedAt('/rollback') : undefined));
    const events = got.map((r) => verified(sub.secret, r));
    expect(events.map((e) => e.type).sort()).toEqual(['user.created', 'user.deleted']);
    const deleted = events.find((e) => e.type === 'user.deleted')!;
    expect(deleted.data).toMatchObject({ email: 'rollback.hire@example.com', userId: String(audit[0]!.targetUserId), reason: 'onboarding_not_started' });
    await app.inject({ method: 'DELETE', url: `/v1/webhook-subscriptions/${sub.id}`, headers: admin.auth });
  });
});

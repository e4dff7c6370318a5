/**
 * An audit event with an eventKey (written by retried activities) is stored once, even when
 * retries race from separate connections: the unique eventKey index decides, not the upsert.
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../src/db/connection';
import { createModels, type Models } from '../../src/db/models';
import { recordAudit } from '../../src/services/audit';
import { createTestContext, type TestContext } from '../helpers/context';

const WRITERS = 8;
const TRIALS = 10;

let ctx: TestContext;
let conns: Connection[] = [];
let writers: Models[] = [];

beforeAll(async () => {
  ctx = await createTestContext('auditonce');
  conns = await Promise.all(Array.from({ length: WRITERS }, () => connectMongo(ctx.stack.mongoUri, ctx.dbName)));
  writers = conns.map(createModels);
});

afterAll(async () => {
  await Promise.all(conns.map((c) => c.close()));
  await ctx?.close();
});

describe('audit events keyed for retries', () => {
  it(`are stored once when ${WRITERS} writers race, in each of ${TRIALS} trials`, async () => {
    const stored: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const eventKey = `race:${randomUUID()}`;
      await Promise.all(writers.map((models, i) => recordAudit(models, { action: 'offboarding.locked_out', actor: { type: 'system' }, processId: `p-${trial}`, eventKey, details: { writer: i } })));
      stored.push(await ctx.models.AuditEvent.countDocuments({ eventKey }));
    }
    expect(stored).toEqual(Array(TRIALS).fill(1));
  });

  it('still stores every event without a key', async () => {
    const processId = `nokey-${randomUUID()}`;
    await Promise.all(writers.map((models) => recordAudit(models, { action: 'user.role_changed', actor: { type: 'system' }, processId })));
    expect(await ctx.models.AuditEvent.countDocuments({ processId })).toBe(WRITERS);
  });
});

/**
 * Proves the parts are real: a workflow on the real Temporal server runs an activity that
 * writes through mongoose to the MongoDB-wire server and enqueues a BullMQ job on the real
 * Redis, which a BullMQ worker completes.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCheckWorkflow } from '../../workflows';
import { createQueue, QUEUE_NAMES } from '../../src/jobs/queues';
import { startJobWorkers } from '../../src/jobs/workers';
import { checkAll } from '../../src/health/checks';
import { freePort } from '../../src/devstack/ports';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createClient, withWorker } from '../helpers/temporal';

let ctx: TestContext;
let client: Client;

/** Fails with one sentence per unreachable server, naming it. */
async function assertReachable(addresses: { mongoUri: string; redisUrl: string; temporalAddress: string }): Promise<void> {
  const down = (await checkAll(addresses)).filter((s) => !s.ok);
  if (down.length) throw new Error(down.map((s) => s.error).join('\n'));
}

beforeAll(async () => {
  ctx = await createTestContext('smoke');
  await assertReachable(ctx.stack);
  client = await createClient(ctx);
});

afterAll(async () => {
  await client?.connection.close();
  await ctx?.close();
});

describe('system check', () => {
  it('runs a workflow whose activity writes a document and enqueues a job that a BullMQ worker completes', async () => {
    const jobWorkers = startJobWorkers({ models: ctx.models, queue: ctx.queue, logger: ctx.logger });
    const queue = createQueue(QUEUE_NAMES.systemCheck, ctx.queue);
    try {
      const checkId = randomUUID();
      const result = await withWorker(ctx, () =>
        client.workflow.execute(systemCheckWorkflow, {
          taskQueue: ctx.taskQueue,
          workflowId: `system-check:${checkId}`,
          args: [{ checkId }],
        }),
      );
      expect(result.checkId).toBe(checkId);

      const doc = await eventually('the job to mark the check completed', () =>
        ctx.models.SystemCheck.findOne({ checkId, jobCompletedAt: { $exists: true } }).lean(),
      );
      expect(doc.workflowId).toBe(`system-check:${checkId}`);
      expect(doc.jobId).toBe(result.jobId);
      expect(doc.jobCompletedAt!.getTime()).toBeGreaterThanOrEqual(doc.recordedAt.getTime());
      expect(await queue.getJobState(result.jobId)).toBe('completed');
      expect((await queue.getJob(result.jobId))?.returnvalue).toEqual({ checkId });
    } finally {
      await queue.close();
      await Promise.all(jobWorkers.map((w) => w.close()));
    }
  });
});

describe('an unreachable server', () => {
  for (const service of ['mongodb', 'redis', 'temporal'] as const) {
    it(`fails the smoke test with a message naming ${service}`, async () => {
      const dead = `127.0.0.1:${await freePort()}`;
      const addresses = {
        mongoUri: service === 'mongodb' ? `mongodb://${dead}` : ctx.stack.mongoUri,
        redisUrl: service === 'redis' ? `redis://${dead}` : ctx.stack.redisUrl,
        temporalAddress: service === 'temporal' ? dead : ctx.stack.temporalAddress,
      };
      const label = { mongodb: 'MongoDB', redis: 'Redis', temporal: 'Temporal' }[service];
      const error = await assertReachable(addresses).then(() => undefined, (err: Error) => err);
      expect(error?.message).toMatch(new RegExp(`^${label} is unreachable at .*${dead.replace(/\./g, '\\.')}`));
      // Exactly one line: only the dead server is reported.
      expect(error!.message.split('\n')).toHaveLength(1);
    });
  }
});

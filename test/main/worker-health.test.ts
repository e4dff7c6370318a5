/**
 * The worker's health endpoint (WORKER_HEALTH_PORT), the one its container health check asks:
 * 200 while the real worker process polls Temporal and reaches Redis, 503 naming Redis while its
 * Redis is down, 200 again once Redis is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/devstack/ports';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createPrivateRedis, type PrivateRedis } from '../helpers/private-redis';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

let ctx: TestContext;
let redis: PrivateRedis;
let worker: WorkerProcess | undefined;
let healthUrl: string;

interface HealthAnswer {
  status: number;
  body: { status: string; checks: Array<{ name: string; ok: boolean; error?: string }> };
}

/** Asks the worker's health endpoint; the answer's status and body. */
async function health(): Promise<HealthAnswer> {
  const res = await fetch(healthUrl);
  return { status: res.status, body: (await res.json()) as HealthAnswer['body'] };
}

const failing = (answer: HealthAnswer) => answer.body.checks.filter((c) => !c.ok).map((c) => c.name);

beforeAll(async () => {
  ctx = await createTestContext('workerhealth');
  redis = await createPrivateRedis();
  await redis.start();
  const port = await freePort();
  healthUrl = `http://127.0.0.1:${port}/healthz`;
  worker = await startWorkerProcess(ctx, { env: { REDIS_URL: redis.url, WORKER_HEALTH_PORT: String(port) } });
}, 90_000);

afterAll(async () => {
  await worker?.kill();
  await redis?.close();
  await ctx?.close();
});

describe('worker health endpoint', () => {
  it('answers 200 while the worker polls and reaches its servers, 503 naming Redis while Redis is down', async () => {
    const up = await health();
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    expect(up.body.status).toBe('ok');
    expect(up.body.checks.map((c) => c.name).sort()).toEqual(['mongodb', 'redis', 'temporal', 'temporal-worker']);
    expect(failing(up)).toEqual([]);

    await redis.stop();
    const down = await eventually('the health check to see Redis down', async () => {
      const answer = await health();
      return answer.status === 503 ? answer : undefined;
    });
    expect(down.body.status).toBe('unavailable');
    expect(failing(down)).toEqual(['redis']);

    await redis.start();
    await eventually('the health check to see Redis back', async () => (await health()).status === 200);
  }, 90_000);

  it('answers 404 with an error body on any other path', async () => {
    const res = await fetch(new URL('/other', healthUrl));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});

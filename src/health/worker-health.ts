/**
 * The worker process's health endpoint (setting WORKER_HEALTH_PORT), for container health checks:
 * `GET /healthz` on loopback answers 200 when the Temporal worker is running and the process's own
 * connections reach Temporal, Redis and MongoDB, else 503 naming what fails. `GET /metrics` serves
 * the process's metrics in the Prometheus text format, without a token: the port is for the
 * operator's network only (loopback unless WORKER_HEALTH_HOST says otherwise).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConnectionLike as TemporalConnection } from '@temporalio/client';
import type { Worker as TemporalWorker } from '@temporalio/worker';
import type { Redis } from 'ioredis';
import type { Connection as MongoConnection } from 'mongoose';

const PROBE_TIMEOUT_MS = 2_000;

interface WorkerHealthSources {
  temporalWorker: Pick<TemporalWorker, 'getState'>;
  temporal: Pick<TemporalConnection, 'workflowService' | 'withDeadline'>;
  redis: Pick<Redis, 'status' | 'ping'>;
  mongo: Pick<MongoConnection, 'readyState'>;
  /** The process's metrics in the Prometheus text format, with their content type. */
  metrics?: { contentType: string; render(): Promise<string> };
}

interface WorkerCheck {
  name: 'temporal-worker' | 'temporal' | 'redis' | 'mongodb';
  ok: boolean;
  error?: string;
}

function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => {
    setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref();
  });
}

async function probe(name: WorkerCheck['name'], check: () => Promise<void>): Promise<WorkerCheck> {
  try {
    await check();
    return { name, ok: true };
  } catch (err) {
    return { name, ok: false, error: (err as Error).message };
  }
}

/** The worker's checks, each answered within PROBE_TIMEOUT_MS. */
function checkWorker(sources: WorkerHealthSources): Promise<WorkerCheck[]> {
  return Promise.all([
    probe('temporal-worker', async () => {
      const state = sources.temporalWorker.getState();
      if (state !== 'RUNNING') throw new Error(`the Temporal worker is ${state}`);
    }),
    probe('temporal', async () => {
      await sources.temporal.withDeadline(Date.now() + PROBE_TIMEOUT_MS, () => sources.temporal.workflowService.getSystemInfo({}));
    }),
    probe('redis', async () => {
      // The worker's connection queues commands while disconnected, so its state is asked first.
      if (sources.redis.status !== 'ready') throw new Error(`the Redis connection is ${sources.redis.status}`);
      await Promise.race([sources.redis.ping(), timeout(PROBE_TIMEOUT_MS, 'Redis')]);
    }),
    probe('mongodb', async () => {
      if (sources.mongo.readyState !== 1) throw new Error('the MongoDB connection is not open');
    }),
  ]);
}

/** Serves `GET /healthz` (and `GET /metrics`) on host:port (default 127.0.0.1); resolves once listening. */
export async function serveWorkerHealth(port: number, sources: WorkerHealthSources, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const metrics = sources.metrics;
    if (req.method === 'GET' && req.url === '/metrics' && metrics) {
      metrics.render().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
          res.end(text);
        },
        (err: Error) => answer(500, { error: { code: 'metrics_failed', message: `The metrics could not be read: ${err.message}` } }),
      );
      return;
    }
    if (req.method !== 'GET' || req.url !== '/healthz') {
      answer(404, { error: { code: 'not_found', message: `The worker answers GET /healthz${metrics ? ' and GET /metrics' : ''} only.` } });
      return;
    }
    checkWorker(sources).then(
      (checks) => {
        const ok = checks.every((c) => c.ok);
        answer(ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', checks });
      },
      (err: Error) => answer(503, { status: 'unavailable', checks: [], error: err.message }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

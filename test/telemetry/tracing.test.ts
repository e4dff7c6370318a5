/**
 * Tracing end to end: an HR webhook (HTTP span) queues the event with its trace context, the
 * intake job's span continues it, the workflow start carries it to Temporal, and the workflow's
 * and the activities' spans join it — one trace id from the caller's `traceparent` to the
 * activities, as received by a real OTLP/HTTP collector (a local server reading the JSON export).
 * Real API, Redis, BullMQ worker, Temporal server and worker.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env';
import type { App } from '../../src/http/app';
import { createQueue, QUEUE_NAMES } from '../../src/jobs/queues';
import { startJobWorkers } from '../../src/jobs/workers';
import { offboardingWorkflowId } from '../../src/processes/offboarding';
import { flushTracing, startTracing, tracingEnabled } from '../../src/telemetry/tracing';
import { createTemporalClient } from '../../src/temporal/client';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { withWorker } from '../helpers/temporal';
import { seedUser } from '../helpers/users';
import { HR_TEST_CONFIG, hrEvent, signedGeneric } from '../hr/hr-test-kit';

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  service: string;
}

/** The settings every process needs (never connected to here). */
const REQUIRED = { MONGODB_URI: 'mongodb://127.0.0.1:9/unused', REDIS_URL: 'redis://127.0.0.1:9', TEMPORAL_ADDRESS: '127.0.0.1:9' };

let collector: Server;
let endpoint: string;
const received: ReceivedSpan[] = [];
const exportPaths: string[] = [];
let stopTracing: () => Promise<void>;
let ctx: TestContext;
let client: Client;
let app: App;
let workers: Worker[];

/** A minimal OTLP/HTTP collector: takes JSON trace exports and keeps their spans. */
async function startCollector(): Promise<void> {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      exportPaths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: Omit<ReceivedSpan, 'service'>[] }> }>;
      };
      for (const rs of body.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans) for (const span of ss.spans) received.push({ ...span, service });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  await startCollector();
  // Off until an endpoint is configured.
  expect(tracingEnabled()).toBe(false);
  stopTracing = startTracing(loadConfig({ ...REQUIRED, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'tenure-test' }), 'tenure');
  expect(tracingEnabled()).toBe(true);
  ctx = await createTestContext('tracing');
  client = await createTemporalClient({ address: ctx.stack.temporalAddress, namespace: 'default' });
  app = await createTestApp(ctx, client, { ...HR_TEST_CONFIG, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
  workers = startJobWorkers({ models: ctx.models, queue: ctx.queue, logger: ctx.logger, hr: { temporal: client, taskQueue: ctx.taskQueue, terminationLockout: true } });
});

afterAll(async () => {
  await Promise.all((workers ?? []).map((w) => w.close()));
  await app?.close();
  await client?.connection.close();
  await ctx?.close();
  await stopTracing?.();
  collector?.close();
});

describe('tracing', () => {
  it('follows an HR termination from the webhook through the intake job to the offboarding activities in one trace', async () => {
    await seedUser(ctx.models, { siteRole: 'Administrators' });
    const leaver = await seedUser(ctx.models, { email: 'traced.leaver@example.com', hrEmployeeId: 'HR-TRACE-1' });
    const event = hrEvent('employee.terminated', { id: 'HR-TRACE-1', email: leaver.user.email, lastDay: '2031-06-30' });
    const workflowId = offboardingWorkflowId(String(leaver.user._id));
    // The HR system's own trace: the webhook's span continues it.
    const callerTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';
    const request = signedGeneric(event);

    await withWorker(ctx, async () => {
      const res = await app.inject({ ...request, headers: { ...request.headers, traceparent: `00-${callerTraceId}-${callerSpanId}-01` } });
      expect(res.statusCode).toBe(202);
      const jobId = res.json().events[0].jobId as string;
      const queue = createQueue(QUEUE_NAMES.hrIntake, ctx.queue);
      try {
        await eventually('the intake job to complete', async () => (await queue.getJobState(jobId)) === 'completed', 20_000);
        // The job carried the request's context in its data.
        expect(((await queue.getJob(jobId))!.data as { trace?: Record<string, string> }).trace?.traceparent).toMatch(new RegExp(`^00-${callerTraceId}-[0-9a-f]{16}-01$`));
      } finally {
        await queue.close();
      }
      // The activity's own span ends when it finishes on the worker; the workflow's span for it
      // ends only in the next workflow task, when the result comes back, and leaves the sandbox
      // through the sink after that: wait for both before the workflow is terminated.
      await eventually(
        'the spans of an offboarding activity, run and scheduled, to reach the collector',
        async () => {
          await flushTracing();
          return received.some((s) => s.name.startsWith('RunActivity:')) && received.some((s) => s.name.startsWith('StartActivity:'));
        },
        30_000,
      );
    });
    await client.workflow.getHandle(workflowId).terminate('test over');
    await flushTracing();

    const inTrace = received.filter((s) => s.traceId === callerTraceId);
    const named = (prefix: string) => inTrace.filter((s) => s.name.startsWith(prefix));
    const http = named('POST /webhooks/hr/:provider');
    expect(http).toHaveLength(1);
    expect(http[0]!.parentSpanId).toBe(callerSpanId);
    expect(http[0]!.kind).toBe(2); // SERVER
    const job = named(`${QUEUE_NAMES.hrIntake} process`);
    expect(job).toHaveLength(1);
    expect(job[0]!.parentSpanId).toBe(http[0]!.spanId);
    const start = named('StartWorkflow:');
    expect(start.length).toBeGreaterThanOrEqual(1);
    expect(start.map((s) => s.parentSpanId)).toContain(job[0]!.spanId);
    expect(named('RunActivity:').length).toBeGreaterThanOrEqual(1);
    expect(named('StartActivity:').length).toBeGreaterThanOrEqual(1);
    // Every span tenure made for this event is in the caller's trace.
    const elsewhere = received.filter((s) => s.traceId !== callerTraceId && /^(POST \/webhooks|hr-intake|StartWorkflow|RunWorkflow|StartActivity|RunActivity)/.test(s.name));
    expect(elsewhere.map((s) => s.name)).toEqual([]);
    expect(new Set(received.map((s) => s.service))).toEqual(new Set(['tenure-test']));
    expect(exportPaths.every((p) => p.startsWith('POST /v1/traces application/json'))).toBe(true);
  }, 90_000);

  it('refuses an endpoint that is not an http(s) URL at start-up', () => {
    expect(() => loadConfig({ ...REQUIRED, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => loadConfig({ ...REQUIRED, OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});

/**
 * Tracing with OpenTelemetry, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set. When on, one trace
 * follows an HR event from the webhook to the process's activities:
 *
 * - the API's requests are server spans (http/tracing.ts), continuing a caller's `traceparent`;
 * - an HR event queued by the webhook carries the request's context in its job data (`trace`,
 *   W3C trace context), and the intake job's span continues it (`withJobTrace`);
 * - the Temporal client passes the context to the workflow in its headers, and the worker's
 *   interceptors (@temporalio/interceptors-opentelemetry) make the workflow's and the activities'
 *   spans children of it (workflow spans leave the sandbox through the `exporter` sink).
 *
 * Spans are exported as OTLP over HTTP (JSON) in batches; the process flushes them on shutdown.
 * The setup is process-wide (the global tracer provider), started once by each process's main.
 */
import { fileURLToPath } from 'node:url';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';
import type { Config } from '../config/env';

/** The tracer tenure's own spans come from. */
const TRACER_NAME = 'tenure';

/** W3C trace context of a span, as carried in job data: `traceparent` (and `tracestate`). */
export type TraceCarrier = Record<string, string>;

interface ActiveTracing {
  provider: NodeTracerProvider;
  spanProcessor: SpanProcessor;
  resource: Resource;
}

let active: ActiveTracing | undefined;

/** Whether this process traces (startTracing found an endpoint). */
export function tracingEnabled(): boolean {
  return active !== undefined;
}

/**
 * Starts tracing for this process when the configuration names an OTLP endpoint; otherwise does
 * nothing. Returns the shutdown that flushes the spans still buffered.
 */
export function startTracing(config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME'>, defaultServiceName: string): () => Promise<void> {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || active) return async () => undefined;
  const resource = new Resource({ 'service.name': config.OTEL_SERVICE_NAME ?? defaultServiceName });
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` });
  const spanProcessor = new BatchSpanProcessor(exporter);
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // The global provider, the AsyncLocalStorage context manager and the W3C propagators.
  provider.register();
  active = { provider, spanProcessor, resource };
  return async () => {
    if (active?.provider !== provider) return;
    active = undefined;
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  };
}

/** Sends the spans buffered so far (tests, before reading the collector). */
export async function flushTracing(): Promise<void> {
  await active?.provider.forceFlush();
}

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** The current context as W3C headers, or undefined when nothing is traced. */
export function currentTraceCarrier(ctx: Context = context.active()): TraceCarrier | undefined {
  if (!active) return undefined;
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  return Object.keys(carrier).length ? carrier : undefined;
}

/**
 * Runs a job's work in a consumer span that continues the trace its data carries (a new trace
 * when it carries none); without tracing, just runs it.
 */
export async function withJobTrace<T>(queue: string, jobName: string, carrier: TraceCarrier | undefined, fn: () => Promise<T>): Promise<T> {
  if (!active) return fn();
  const parent = carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
  return tracer().startActiveSpan(`${queue} process`, { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'bullmq', 'messaging.destination.name': queue, 'messaging.operation': 'process', 'tenure.job.name': jobName } }, parent, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The Temporal client's interceptors: the trace goes to the workflow in its headers. */
export function temporalClientInterceptors(): { workflow: WorkflowClientInterceptor[] } | undefined {
  return active ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}

/**
 * The worker's interceptors and sinks. The workflow bundle always holds the workflow
 * interceptors (temporal/bundle.ts), so the `exporter` sink is always given: the real one when
 * tracing is on, one that drops the spans when it is off.
 */
export function temporalWorkerTracing(): { interceptors?: WorkerInterceptors; sinks: InjectedSinks<Record<string, never>> } {
  if (!active) return { sinks: { exporter: { export: { fn: () => undefined, callDuringReplay: false } } } as never };
  return {
    interceptors: {
      client: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
    },
    sinks: { exporter: makeWorkflowExporter(active.spanProcessor, active.resource) } as never,
  };
}

/** The module the workflow bundle adds as its interceptors. */
export const WORKFLOW_TRACING_INTERCEPTORS = fileURLToPath(new URL('./workflow-interceptors.ts', import.meta.url));

/**
 * The API's requests as OpenTelemetry server spans, when tracing is on (telemetry/tracing.ts):
 * one span per request, named by method and route pattern (never the URL with its ids or
 * tokens), continuing the caller's W3C `traceparent`, with the status code; a 5xx marks it
 * failed. The span is the active context from the first hook on and again from preHandler on
 * (reading the body leaves it), so what a handler starts (a queued HR event, a workflow) is its child.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tracer } from '../telemetry/tracing';

const kSpan = Symbol('tenure.span');
const kContext = Symbol('tenure.traceContext');

type TracedRequest = FastifyRequest & { [kSpan]?: Span; [kContext]?: Context };

export function installHttpTracing(app: FastifyInstance): void {
  app.addHook('onRequest', (request: TracedRequest, _reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = request.routeOptions.url;
    const span = tracer().startSpan(
      `${request.method} ${route ?? '(unmatched)'}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, ...(route ? { 'http.route': route } : {}) } },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    request[kSpan] = span;
    request[kContext] = ctx;
    context.with(ctx, done);
  });
  app.addHook('preHandler', (request: TracedRequest, _reply, done) => {
    const ctx = request[kContext];
    if (ctx) context.with(ctx, done);
    else done();
  });
  const end = (request: TracedRequest, status: number | undefined) => {
    const span = request[kSpan];
    if (!span) return;
    request[kSpan] = undefined;
    if (status !== undefined) span.setAttribute('http.response.status_code', status);
    if (status === undefined || status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  app.addHook('onResponse', async (request: TracedRequest, reply) => end(request, reply.statusCode));
  app.addHook('onRequestAbort', async (request: TracedRequest) => end(request, undefined));
}

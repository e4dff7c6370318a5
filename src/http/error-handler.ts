import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError } from '../errors';
import { answerMethodNotAllowed } from './method-not-allowed';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/**
 * One error handler for the whole API: typed AppErrors keep their status and code; fastify's
 * own 4xx (malformed JSON, oversized body, wrong content type) get a stable code; anything else
 * is a 500 whose message stays in the log.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof AppError) {
      return reply.status(err.status).send(body(err.code, err.message, err.details));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const details = err.validation.map((v) => ({
        in: err.validationContext,
        path: v.instancePath.replace(/^\//, '').replace(/\//g, '.'),
        message: v.message,
      }));
      const first = details[0];
      const where = first?.path ? `${first.in} field "${first.path}"` : String(first?.in ?? 'request');
      return reply.status(400).send(body('invalid_request', `Invalid ${where}: ${first?.message ?? 'invalid value'}.`, details));
    }
    const mapped = FASTIFY_CODES[err.code];
    if (mapped) {
      return reply.status(mapped.status).send(body(mapped.code, mapped.message));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.status(err.statusCode).send(body('bad_request', err.message));
    }
    if (isDependencyDown(err)) {
      request.log.warn({ err }, 'a server the API depends on is unreachable');
      return reply.status(503).send(body('dependency_unavailable', 'A server this API depends on cannot be reached; retry later.'));
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send(body('internal_error', 'Something went wrong on our side; the error has been logged.'));
  });

  // A path a route serves with other methods is 405 with Allow (method-not-allowed.ts).
  app.setNotFoundHandler((request, reply) => {
    const refused = answerMethodNotAllowed(request, reply);
    if (refused) return reply.send(body('method_not_allowed', refused.message));
    return reply.status(404).send(body('route_not_found', `No route ${request.method} ${request.url.split('?')[0]}.`));
  });
}

/** gRPC status codes of a Temporal call that did not reach the server: UNAVAILABLE, DEADLINE_EXCEEDED. */
const GRPC_UNREACHABLE = new Set([14, 4]);

/**
 * Whether `err` (or an error it wraps) says MongoDB, Redis or Temporal could not be reached, as
 * opposed to a fault of the request or of this code: such a request gets 503, not 500.
 */
function isDependencyDown(err: unknown): boolean {
  let e = err as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++, e = e.cause as typeof e) {
    const name = String(e.name ?? '');
    // MongoDB driver and mongoose: no server selectable, network failure, commands buffered too long.
    if (/^Mongo(ose)?(ServerSelection|Network|NetworkTimeout|NotConnected|TopologyClosed)Error$/.test(name)) return true;
    if (name === 'MongooseError' && /buffering timed out/.test(String(e.message))) return true;
    // ioredis: the connection is down and the command was given up.
    if (name === 'MaxRetriesPerRequestError' || (name === 'Error' && e.message === 'Connection is closed.')) return true;
    // Temporal: a ServiceError wrapping a gRPC error that never reached the server.
    if (name === 'ServiceError' && typeof (e.cause as { code?: unknown })?.code === 'number' && GRPC_UNREACHABLE.has((e.cause as { code: number }).code)) return true;
  }
  return false;
}

/** Answers of fastify's router before any route runs (bad %-encoding, overlong path parameter). */
export function frameworkError(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
  reply
    .status(tooLong ? 414 : 400)
    .send(tooLong ? body('uri_too_long', 'A path parameter is longer than this server accepts.') : body('bad_url', 'The URL is not validly encoded.'));
}

/** Request lines longer than this count as a too-long URL (414) when Node's header limit is hit. */
const LONG_REQUEST_LINE = 8 * 1024;

/**
 * Requests Node's HTTP parser refuses before fastify sees them (bytes not allowed in a URL,
 * malformed request lines or headers, conflicting framing, headers past the size limit, a
 * client too slow to send its request) get the API's error body too. Nothing of the request
 * is logged: its URL and headers may hold credentials.
 */
export function handleClientError(this: FastifyInstance, err: ConnectionError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, code, message } = describeClientError(err);
  this.log.debug({ code: err.code, status }, 'refused a request the HTTP parser could not read');
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const payload = JSON.stringify(body(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`,
  );
}

function describeClientError(err: ConnectionError): { status: number; code: string; message: string } {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT') {
    return { status: 408, code: 'request_timeout', message: 'The request was not received in time.' };
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    // The packet that overflowed: when it starts with the request line, that line says whether
    // the URL itself is what is too long.
    const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket.toString('latin1') : '';
    const startsRequest = /^[A-Z]+ /.test(raw);
    const lineEnd = raw.indexOf('\r\n');
    if (startsRequest && (lineEnd < 0 || lineEnd > LONG_REQUEST_LINE)) {
      return { status: 414, code: 'uri_too_long', message: 'The URL is longer than this server accepts.' };
    }
    return { status: 431, code: 'headers_too_large', message: 'The request headers are larger than this server accepts.' };
  }
  return { status: 400, code: 'bad_request', message: 'The request is not valid HTTP (request line, a header or the body framing is malformed).' };
}

function body(code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

const FASTIFY_CODES: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'malformed_json', message: 'The request body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'malformed_json', message: 'The request body is empty but its Content-Type says JSON.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large', message: 'The request body is larger than this server accepts.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', message: 'This Content-Type is not accepted here; send application/json.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_request', message: 'The Content-Length header does not match the body.' },
};

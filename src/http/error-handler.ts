import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError } from '../errors';

export interface ErrorBody {
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
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send(body('internal_error', 'Something went wrong on our side; the error has been logged.'));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(body('route_not_found', `No route ${request.method} ${request.url.split('?')[0]}.`));
  });
}

export function body(code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

const FASTIFY_CODES: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'malformed_json', message: 'The request body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'malformed_json', message: 'The request body is empty but its Content-Type says JSON.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large', message: 'The request body is larger than this server accepts.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', message: 'This Content-Type is not accepted here; send application/json.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_request', message: 'The Content-Length header does not match the body.' },
};

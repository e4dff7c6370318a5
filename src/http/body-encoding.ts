/**
 * Request bodies are UTF-8. A body that declares another charset is refused with 415 before it
 * is read; a body whose bytes are not valid UTF-8 (overlong forms, truncated sequences, stray
 * bytes, encoded surrogates) is refused with 400 instead of being decoded to U+FFFD.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, ValidationError } from '../errors';

const UTF8_NAMES = new Set(['utf-8', 'utf8']);

/** The charset parameter of a Content-Type header, lower-cased, or undefined. */
function charsetOf(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    return param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  }
  return undefined;
}

/** Refuses a request whose body declares a charset other than UTF-8. */
function assertUtf8Charset(request: FastifyRequest): void {
  const charset = charsetOf(request.headers['content-type']);
  if (charset !== undefined && !UTF8_NAMES.has(charset)) {
    throw new AppError(415, 'unsupported_media_type', 'Request bodies must be UTF-8; this one declares another charset.');
  }
}

/** The body's text, or a 400 when its bytes are not valid UTF-8. */
export function decodeUtf8(body: Buffer): string {
  if (!isUtf8(body)) throw new ValidationError('The request body is not valid UTF-8.', undefined, 'invalid_encoding');
  return body.toString('utf8');
}

/**
 * Installs the rules on the root instance: the charset check for every route, and a JSON parser
 * that decodes strictly before fastify's own (prototype-poisoning-safe) JSON parser runs. The
 * text/plain parser goes: JSON is the API's only body type (the bulk offboarding adds CSV).
 */
export function installBodyEncoding(app: FastifyInstance): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    assertUtf8Charset(request);
    return payload;
  });
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, strictJsonParser(app));
}

/** fastify's JSON parser behind a strict UTF-8 decode; for `application/json` and SCIM's `application/scim+json`. */
export function strictJsonParser(app: FastifyInstance): ContentTypeParserFn {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  return (request, body, done) => {
    let text: string;
    try {
      text = decodeUtf8(body as Buffer);
    } catch (err) {
      done(err as Error, undefined);
      return;
    }
    parseJson(request, text, done);
  };
}

type ContentTypeParserFn = (request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => void;

/**
 * What the request log may say about a URL. Credentials travel in URLs more often than they
 * should (an invitation link's token in the path, `access_token` or a signature in a query
 * string); the log keeps the shape of every request and none of those values.
 */
import type { FastifyRequest } from 'fastify';

const REDACTED = '[redacted]';

/**
 * Path parameters that carry a secret. A route whose template names one of these
 * (`/v1/invitations/:token/accept`) logs `[redacted]` in its place.
 */
const SECRET_PATH_PARAMS: ReadonlySet<string> = new Set(['token', 'secret', 'code', 'key', 'signature', 'password']);

/**
 * Query parameters whose value is treated as a secret: any whose name, lower-cased without
 * separators, contains one of these (`access_token`, `X-Amz-Signature`, `client_secret`,
 * `apiKey`, `code`, `sig`…).
 */
const SECRET_QUERY_NAME_PARTS: readonly string[] = ['token', 'secret', 'passw', 'pwd', 'signature', 'sig', 'key', 'code', 'session', 'auth', 'credential', 'cookie', 'jwt', 'assertion', 'otp'];

/**
 * In a path that matched no route there is no template to go by: a segment that looks like a
 * generated secret (32 or more URL-safe characters, as invitation tokens and API tokens are)
 * is redacted. Ids (24 hexadecimal characters) and email addresses stay readable.
 */
const SECRET_LOOKING_SEGMENT = /^[A-Za-z0-9_-]{32,}$/;

function isSecretQueryName(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    // A malformed escape: judge the name as written.
  }
  const compact = decoded.toLowerCase().replace(/[^a-z0-9]/g, '');
  // An id names a secret without being one (tokenId, sessionId, client_id).
  if (compact.endsWith('id')) return false;
  return SECRET_QUERY_NAME_PARTS.some((part) => compact.includes(part));
}

function redactQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return isSecretQueryName(name) && eq >= 0 ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
}

function redactPath(path: string, template: string | undefined): string {
  const segments = path.split('/');
  if (template) {
    const parts = template.split('/');
    if (parts.length === segments.length) {
      return segments.map((segment, i) => (parts[i]!.startsWith(':') && SECRET_PATH_PARAMS.has(parts[i]!.slice(1)) ? REDACTED : segment)).join('/');
    }
  }
  return segments.map((segment) => (SECRET_LOOKING_SEGMENT.test(segment) && !/^[0-9a-f]+$/i.test(segment) ? REDACTED : segment)).join('/');
}

/**
 * The URL as the log may show it. `template` is the matched route's path (`request.routeOptions.url`);
 * without it (no route matched) secret-looking segments are redacted instead.
 */
function redactUrl(url: string, template?: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const redactedPath = redactPath(path, template);
  return q < 0 ? redactedPath : `${redactedPath}?${redactQuery(url.slice(q + 1))}`;
}

/** The matched route's template, when a route matched. */
function templateOf(request: FastifyRequest): string | undefined {
  try {
    return request.is404 ? undefined : request.routeOptions?.url;
  } catch {
    return undefined;
  }
}

/** The request's path without query, as the log and the token usage record may show it. */
export function loggablePath(request: FastifyRequest): string {
  return redactUrl(request.url.split('?')[0]!, templateOf(request));
}

/** pino serializer of `req` in the request log: fastify's fields, with the URL redacted. */
export function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactUrl(request.url ?? '', templateOf(request)),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

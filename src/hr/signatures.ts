/** HMAC signatures and replay windows of HR webhooks. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../errors';

/** Deliveries older than this are refused as possible replays. */
const MAX_TIMESTAMP_AGE_MS = 5 * 60_000;
/** Clocks differ a little; a timestamp this far in the future is still accepted. */
const MAX_FUTURE_SKEW_MS = 30_000;

export function hmacSha256Hex(secret: string, ...parts: Array<string | Buffer>): string {
  const mac = createHmac('sha256', secret);
  for (const part of parts) mac.update(part);
  return mac.digest('hex');
}

/** Compares a presented hex digest with the expected one in constant time. */
export function signatureMatches(presentedHex: string, expectedHex: string): boolean {
  const presented = /^[0-9a-f]+$/i.test(presentedHex) ? Buffer.from(presentedHex.toLowerCase(), 'hex') : Buffer.alloc(0);
  const expected = Buffer.from(expectedHex, 'hex');
  if (presented.length !== expected.length) {
    timingSafeEqual(expected, expected);
    return false;
  }
  return timingSafeEqual(presented, expected);
}

/**
 * Parses a timestamp header (Unix seconds, Unix milliseconds or ISO 8601) and refuses one
 * outside the replay window.
 */
export function assertFreshTimestamp(header: string | undefined, now = Date.now()): number {
  if (!header) throw new UnauthorizedError('The request has no timestamp header.', 'missing_timestamp');
  const value = header.trim();
  let ms: number;
  if (/^\d{1,11}$/.test(value)) ms = Number(value) * 1000;
  else if (/^\d{12,14}$/.test(value)) ms = Number(value);
  else ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new UnauthorizedError('The timestamp header is not a Unix time or an ISO date.', 'invalid_timestamp');
  if (now - ms > MAX_TIMESTAMP_AGE_MS) throw new UnauthorizedError('The request timestamp is more than five minutes old; replays are refused.', 'stale_timestamp');
  if (ms - now > MAX_FUTURE_SKEW_MS) throw new UnauthorizedError('The request timestamp is in the future.', 'invalid_timestamp');
  return ms;
}

export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

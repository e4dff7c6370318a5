/**
 * The generic provider: tenure's documented JSON event, signed with HMAC-SHA256 over
 * `${X-Tenure-Timestamp}.${rawBody}` and sent as `X-Tenure-Signature: sha256=<hex>`.
 */
import { UnauthorizedError } from '../../errors';
import { hrEventSchema } from '../events';
import { assertFreshTimestamp, headerValue, hmacSha256Hex, signatureMatches } from '../signatures';
import { parseJsonBody, validateBody } from './parse-json';
import type { HrProviderAdapter } from './types';

const GENERIC_TIMESTAMP_HEADER = 'x-tenure-timestamp';
const GENERIC_SIGNATURE_HEADER = 'x-tenure-signature';

/** What a sender computes (exported for tests, the bench and integrators' reference). */
export function signGeneric(secret: string, timestamp: string, rawBody: string | Buffer): string {
  return `sha256=${hmacSha256Hex(secret, `${timestamp}.`, rawBody)}`;
}

export const genericProvider: HrProviderAdapter = {
  name: 'generic',
  secret: (config) => config.HR_GENERIC_SECRET,
  authenticate({ headers, rawBody, now }, secret) {
    const timestamp = headerValue(headers, GENERIC_TIMESTAMP_HEADER);
    const signature = headerValue(headers, GENERIC_SIGNATURE_HEADER);
    if (!signature) throw new UnauthorizedError('The request has no X-Tenure-Signature header.', 'missing_signature');
    // The signature is checked before the timestamp, so an old but authentic delivery is told apart from a forged one.
    const presented = /^sha256=([0-9a-fA-F]{64})$/.exec(signature.trim())?.[1] ?? '';
    if (!signatureMatches(presented, hmacSha256Hex(secret, `${timestamp ?? ''}.`, rawBody))) {
      throw new UnauthorizedError('The X-Tenure-Signature does not match the body and timestamp.', 'invalid_signature');
    }
    assertFreshTimestamp(timestamp, now);
  },
  parse({ rawBody }) {
    return [validateBody(hrEventSchema, parseJsonBody(rawBody), 'HR event')];
  },
};

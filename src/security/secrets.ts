import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random URL-safe secret (256 bits by default). */
export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256 hex digest: how tokens, invitation links and session secrets are stored. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares two strings in constant time (for equal lengths; different lengths are unequal). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) {
    // Still spend the comparison so timing does not reveal the length check.
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

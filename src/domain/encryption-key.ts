/**
 * What a data-encryption key looks like in configuration: exactly 32 bytes (AES-256), written in
 * base64 (standard or URL-safe). Pure: configuration checks it at start-up, and the keyring
 * (src/security/encryption.ts) uses the bytes.
 */

const ENCRYPTION_KEY_BYTES = 32;

/** The 32 bytes of a key given in base64, or undefined when it is not exactly that. */
export function decodeEncryptionKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return undefined;
  const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === ENCRYPTION_KEY_BYTES ? bytes : undefined;
}

/**
 * Secrets tenure must read back (webhook signing secrets): sealed at rest with AES-256-GCM under
 * TENURE_ENCRYPTION_KEY. Each value gets a random 12-byte IV, its 16-byte authentication tag is
 * checked on opening, and the id of the key that sealed it is stored beside it, so the key can be
 * rotated: the new key seals, the keys in TENURE_ENCRYPTION_KEYS_PREVIOUS still open, and the
 * worker re-seals what an older key sealed when it starts. A key id is derived from the key
 * (a hash prefix: it names the key without revealing it). The associated data binds a sealed value
 * to the document it belongs to, so a value copied into another document does not open.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { decodeEncryptionKey } from '../domain/encryption-key';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed value as stored: base64 fields and the id of the key that sealed it. */
export interface SealedValue {
  keyId: string;
  iv: string;
  tag: string;
  data: string;
}

export type UnsealFailure = 'no_key_configured' | 'unknown_key' | 'not_authentic';

/** A sealed value that cannot be opened: the reason names the key id, never a key or the value. */
export class UnsealError extends Error {
  override readonly name = 'UnsealError';
  constructor(
    readonly reason: UnsealFailure,
    readonly keyId: string,
  ) {
    super(
      reason === 'no_key_configured'
        ? `it was sealed with key ${keyId} and TENURE_ENCRYPTION_KEY is not set`
        : reason === 'unknown_key'
          ? `it was sealed with key ${keyId}, which is neither TENURE_ENCRYPTION_KEY nor one of TENURE_ENCRYPTION_KEYS_PREVIOUS`
          : `it failed authentication under key ${keyId} (altered, or sealed for another document)`,
    );
  }
}

/** The id stored beside each value a key sealed. */
function encryptionKeyId(key: Buffer): string {
  return createHash('sha256').update('tenure-encryption-key-id\0').update(key).digest('base64url').slice(0, 16);
}

export interface Keyring {
  /** The id of the key new values are sealed with, or undefined when no key is configured. */
  readonly currentKeyId: string | undefined;
  /** Seals `plain` for `context` (e.g. the owning document's id) with the current key; throws without one. */
  seal(plain: string, context: string): SealedValue;
  /** Opens a value sealed for `context`; throws UnsealError when the key is missing or the value not authentic. */
  open(sealed: SealedValue, context: string): string;
}

class EncryptionKeyMissing extends Error {
  override readonly name = 'EncryptionKeyMissing';
  constructor() {
    super('TENURE_ENCRYPTION_KEY is not set, so no secret can be stored.');
  }
}

/** A keyring from the configured keys (base64, validated by the configuration). */
export function createKeyring(keys: { current?: string; previous?: readonly string[] }): Keyring {
  const byId = new Map<string, Buffer>();
  let currentKeyId: string | undefined;
  let currentKey: Buffer | undefined;
  for (const text of keys.previous ?? []) {
    const key = decodeEncryptionKey(text);
    if (!key) throw new Error('an encryption key is not 32 bytes in base64');
    byId.set(encryptionKeyId(key), key);
  }
  if (keys.current) {
    currentKey = decodeEncryptionKey(keys.current);
    if (!currentKey) throw new Error('the encryption key is not 32 bytes in base64');
    currentKeyId = encryptionKeyId(currentKey);
    byId.set(currentKeyId, currentKey);
  }
  return {
    currentKeyId,
    seal(plain, context) {
      if (!currentKey || !currentKeyId) throw new EncryptionKeyMissing();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, currentKey, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return { keyId: currentKeyId, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
    },
    open(sealed, context) {
      const key = byId.get(sealed.keyId);
      if (!key) throw new UnsealError(byId.size === 0 ? 'no_key_configured' : 'unknown_key', sealed.keyId);
      const iv = Buffer.from(sealed.iv, 'base64');
      const tag = Buffer.from(sealed.tag, 'base64');
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new UnsealError('not_authentic', sealed.keyId);
      try {
        const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
      } catch {
        throw new UnsealError('not_authentic', sealed.keyId);
      }
    },
  };
}

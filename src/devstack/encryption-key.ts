/**
 * The encryption key of `npm start` (TENURE_ENCRYPTION_KEY when the operator sets none): made once
 * and kept in the data directory (`encryption.key`, readable by its owner only), so what one run
 * sealed (webhook signing secrets) still opens in the next.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStackError } from '../errors';
import { decodeEncryptionKey } from '../domain/encryption-key';

export function localEncryptionKey(dataDir: string): string {
  const path = join(dataDir, 'encryption.key');
  mkdirSync(dataDir, { recursive: true });
  try {
    // Exclusive create: of two starts racing, one writes and both read the same key.
    writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = readFileSync(path, 'utf8').trim();
  if (!decodeEncryptionKey(key)) throw new LocalStackError(`${path} does not hold 32 bytes in base64; remove it (the webhook signing secrets it sealed are then lost) or set TENURE_ENCRYPTION_KEY.`);
  return key;
}

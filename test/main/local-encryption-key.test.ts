/** `npm start`'s encryption key: made once in the data directory, the same on every later start. */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env';
import { localEncryptionKey } from '../../src/devstack/encryption-key';
import { LocalStackError } from '../../src/errors';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the local encryption key', () => {
  it('is made on the first start, readable by its owner only, kept for the next starts, and passes the configuration rule', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tenure-key-')), 'data');
    dirs.push(dir);
    const first = localEncryptionKey(dir);
    expect(statSync(join(dir, 'encryption.key')).mode & 0o777).toBe(0o600);
    expect(localEncryptionKey(dir)).toBe(first);
    const base = { MONGODB_URI: 'mongodb://127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1', TEMPORAL_ADDRESS: '127.0.0.1:1' };
    expect(loadConfig({ ...base, TENURE_ENCRYPTION_KEY: first }).TENURE_ENCRYPTION_KEY).toBe(first);
    const other = join(mkdtempSync(join(tmpdir(), 'tenure-key-')), 'data');
    dirs.push(other);
    expect(localEncryptionKey(other)).not.toBe(first);
  });

  it('refuses a damaged key file with one sentence instead of making a new key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenure-key-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'encryption.key'), 'not a key\n');
    expect(() => localEncryptionKey(dir)).toThrow(LocalStackError);
    expect(() => localEncryptionKey(dir)).toThrow(/does not hold 32 bytes in base64/);
  });
});

/**
 * The two rules under outbound webhooks, without servers: which receiver addresses are refused
 * (domain/receiver-address.ts) and how signing secrets are sealed (security/encryption.ts).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseReceiverAllowList, receiverAddressRefusal } from '../../src/domain/receiver-address';
import { createKeyring, UnsealError } from '../../src/security/encryption';

const none = parseReceiverAllowList([]);

describe('receiver addresses', () => {
  it('refuses every private, loopback, link-local, unique-local, CGNAT, metadata and special address, and accepts public ones', () => {
    const refused = [
      '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '127.0.0.1', '127.8.9.10', '0.0.0.0', '169.254.169.254', '169.254.0.1',
      '100.64.0.1', '100.127.255.254', '100.100.100.200', '224.0.0.1', '255.255.255.255', '192.0.2.10', '198.18.0.1', '240.0.0.1',
      '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.1.2.3', '::ffff:169.254.169.254', '64:ff9b::a00:1', '2002:a00:1::1', '2001::1',
    ];
    for (const address of refused) expect(receiverAddressRefusal(address, 'hooks.example.com', none), address).toMatch(/not a public address .* WEBHOOK_ALLOWED_PRIVATE_NETWORKS/);
    for (const address of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect(receiverAddressRefusal(address, 'hooks.example.com', none), address).toBeUndefined();
    }
    expect(receiverAddressRefusal('not-an-ip', 'x', none)).toMatch(/not an IP address/);
  });

  it('accepts a private receiver whose network or host name the allow-list names, and only that one', () => {
    const allow = parseReceiverAllowList(['10.20.0.0/16', 'fd00:1::/32', '192.168.1.7', ' hooks.corp.example. ', '']);
    expect(receiverAddressRefusal('10.20.3.4', 'a.example', allow)).toBeUndefined();
    expect(receiverAddressRefusal('::ffff:10.20.3.4', 'a.example', allow)).toBeUndefined();
    expect(receiverAddressRefusal('fd00:1:2::3', 'a.example', allow)).toBeUndefined();
    expect(receiverAddressRefusal('192.168.1.7', 'a.example', allow)).toBeUndefined();
    expect(receiverAddressRefusal('10.10.0.1', 'HOOKS.corp.example', allow)).toBeUndefined();
    expect(receiverAddressRefusal('10.21.0.1', 'a.example', allow)).toBeDefined();
    expect(receiverAddressRefusal('192.168.1.8', 'a.example', allow)).toBeDefined();
    expect(receiverAddressRefusal('fd00:2::1', 'a.example', allow)).toBeDefined();
    expect(receiverAddressRefusal('127.0.0.1', 'other.corp.example', allow)).toBeDefined();
    expect(() => parseReceiverAllowList(['10.0.0.0/8', '10.0.0.0/40', 'two words'])).toThrow(/"10.0.0.0\/40", "two words" are neither/);
  });
});

describe('sealed secrets', () => {
  const key = randomBytes(32).toString('base64');

  it('opens what it sealed, with a fresh IV each time, only for the same context', () => {
    const keyring = createKeyring({ current: key });
    const a = keyring.seal('whsec_secret', 'webhook-subscription:1');
    const b = keyring.seal('whsec_secret', 'webhook-subscription:1');
    expect(a.keyId).toBe(keyring.currentKeyId);
    expect(Buffer.from(a.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(a.tag, 'base64')).toHaveLength(16);
    expect(a.iv).not.toBe(b.iv);
    expect(a.data).not.toBe(b.data);
    expect(JSON.stringify(a)).not.toContain('whsec_secret');
    expect(keyring.open(a, 'webhook-subscription:1')).toBe('whsec_secret');
    expect(() => keyring.open(a, 'webhook-subscription:2')).toThrow(UnsealError);
  });

  it('refuses an altered value, tag or IV, and names a key it does not hold', () => {
    const keyring = createKeyring({ current: key });
    const sealed = keyring.seal('whsec_secret', 'c');
    const flip = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[0] = bytes[0]! ^ 1;
      return bytes.toString('base64');
    };
    for (const altered of [{ ...sealed, data: flip(sealed.data) }, { ...sealed, tag: flip(sealed.tag) }, { ...sealed, iv: flip(sealed.iv) }, { ...sealed, tag: '' }]) {
      expect(() => keyring.open(altered, 'c')).toThrow(expect.objectContaining({ reason: 'not_authentic' }));
    }
    const other = createKeyring({ current: randomBytes(32).toString('base64') });
    expect(() => other.open(sealed, 'c')).toThrow(expect.objectContaining({ reason: 'unknown_key', message: expect.stringContaining(sealed.keyId) }));
    expect(() => createKeyring({}).open(sealed, 'c')).toThrow(expect.objectContaining({ reason: 'no_key_configured' }));
    expect(() => createKeyring({}).seal('x', 'c')).toThrow(/TENURE_ENCRYPTION_KEY is not set/);
  });

  it('after a rotation seals with the new key and still opens what the retired one sealed', () => {
    const old = createKeyring({ current: key });
    const sealed = old.seal('whsec_before', 'c');
    const next = randomBytes(32).toString('base64');
    const rotated = createKeyring({ current: next, previous: [key] });
    expect(rotated.currentKeyId).not.toBe(old.currentKeyId);
    expect(rotated.open(sealed, 'c')).toBe('whsec_before');
    expect(rotated.seal('whsec_after', 'c').keyId).toBe(rotated.currentKeyId);
  });
});

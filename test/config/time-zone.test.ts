/**
 * The organization's time zone: a validated setting, and a last working day that ends at the end
 * of that day there — across daylight-saving changes and far from UTC.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env';
import { endOfDayIn, isLastDay, lastDayToEffectiveDate, startOfDayIn } from '../../src/domain/time-zone';
import { ConfigError } from '../../src/errors';

const base = { MONGODB_URI: 'mongodb://127.0.0.1:27017', REDIS_URL: 'redis://127.0.0.1:6379', TEMPORAL_ADDRESS: '127.0.0.1:7233' };

describe('ORGANIZATION_TIME_ZONE', () => {
  it('hardening #17: defaults to UTC, takes an IANA name (canonically spelled) and refuses anything else at start-up', () => {
    expect(loadConfig(base).ORGANIZATION_TIME_ZONE).toBe('UTC');
    expect(loadConfig({ ...base, ORGANIZATION_TIME_ZONE: 'America/Los_Angeles' }).ORGANIZATION_TIME_ZONE).toBe('America/Los_Angeles');
    expect(loadConfig({ ...base, ORGANIZATION_TIME_ZONE: 'europe/berlin' }).ORGANIZATION_TIME_ZONE).toBe('Europe/Berlin');
    for (const bad of ['Mars/Olympus_Mons', 'CEST+2', 'Europe/', '../../etc/passwd', 'x'.repeat(100)]) {
      let problems: string[] = [];
      try {
        loadConfig({ ...base, ORGANIZATION_TIME_ZONE: bad });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        problems = (err as ConfigError).problems;
      }
      expect(problems, bad).toEqual([expect.stringMatching(/^ORGANIZATION_TIME_ZONE must be an IANA time zone/)]);
    }
  });
});

describe('the end of a last working day', () => {
  it('hardening #17: is the last millisecond of that day in the zone, not its first instant in UTC', () => {
    expect(lastDayToEffectiveDate('2026-11-26', 'UTC')).toBe('2026-11-26T23:59:59.999Z');
    expect(lastDayToEffectiveDate('2026-11-26', 'America/Los_Angeles')).toBe('2026-11-27T07:59:59.999Z');
    expect(lastDayToEffectiveDate('2026-11-26', 'Asia/Kolkata')).toBe('2026-11-26T18:29:59.999Z');
  });

  it('hardening #17: holds far from UTC, on both sides of the date line', () => {
    // UTC+14: the day is over before it ends in London.
    expect(endOfDayIn('2026-11-26', 'Pacific/Kiritimati').toISOString()).toBe('2026-11-26T09:59:59.999Z');
    // UTC-11: it ends late the next morning, UTC.
    expect(endOfDayIn('2026-11-26', 'Pacific/Pago_Pago').toISOString()).toBe('2026-11-27T10:59:59.999Z');
    expect(startOfDayIn('2026-11-26', 'Pacific/Kiritimati').toISOString()).toBe('2026-11-25T10:00:00.000Z');
  });

  it('hardening #17: follows daylight-saving changes (23- and 25-hour days, a 30-minute shift, a midnight that does not exist)', () => {
    // Berlin springs forward on 2026-03-29 (02:00 → 03:00) and falls back on 2026-10-25 (03:00 → 02:00).
    expect(endOfDayIn('2026-03-28', 'Europe/Berlin').toISOString()).toBe('2026-03-28T22:59:59.999Z');
    expect(endOfDayIn('2026-03-29', 'Europe/Berlin').toISOString()).toBe('2026-03-29T21:59:59.999Z');
    expect(endOfDayIn('2026-10-24', 'Europe/Berlin').toISOString()).toBe('2026-10-24T21:59:59.999Z');
    expect(endOfDayIn('2026-10-25', 'Europe/Berlin').toISOString()).toBe('2026-10-25T22:59:59.999Z');
    expect(endOfDayIn('2026-03-29', 'Europe/Berlin').getTime() - startOfDayIn('2026-03-29', 'Europe/Berlin').getTime() + 1).toBe(23 * 3_600_000);
    expect(endOfDayIn('2026-10-25', 'Europe/Berlin').getTime() - startOfDayIn('2026-10-25', 'Europe/Berlin').getTime() + 1).toBe(25 * 3_600_000);
    // New York: 2026-03-08 and 2026-11-01.
    expect(endOfDayIn('2026-03-08', 'America/New_York').toISOString()).toBe('2026-03-09T03:59:59.999Z');
    expect(endOfDayIn('2026-11-01', 'America/New_York').toISOString()).toBe('2026-11-02T04:59:59.999Z');
    // Santiago moves its clocks at midnight: 2026-09-06 begins at 01:00, so 2026-09-05 ends at 23:59:59.999 (-04:00).
    expect(endOfDayIn('2026-09-05', 'America/Santiago').toISOString()).toBe('2026-09-06T03:59:59.999Z');
    expect(startOfDayIn('2026-09-06', 'America/Santiago').toISOString()).toBe('2026-09-06T04:00:00.000Z');
    // …and on 2026-04-04 midnight comes twice: the day ends at the second one.
    expect(endOfDayIn('2026-04-04', 'America/Santiago').toISOString()).toBe('2026-04-05T03:59:59.999Z');
    // Lord Howe Island shifts by 30 minutes (2026-04-05, 02:00 → 01:30).
    expect(endOfDayIn('2026-04-05', 'Australia/Lord_Howe').toISOString()).toBe('2026-04-05T13:29:59.999Z');
  });

  it('hardening #17: reads a date-time without offset as wall time in the zone, keeps an explicit offset, and refuses what is not a date', () => {
    expect(lastDayToEffectiveDate('2026-11-26T17:00', 'Europe/Berlin')).toBe('2026-11-26T16:00:00.000Z');
    expect(lastDayToEffectiveDate('2026-07-01T17:30:15.5', 'Europe/Berlin')).toBe('2026-07-01T15:30:15.500Z');
    // 02:30 does not exist in Berlin on 2026-03-29: the first instant after the gap.
    expect(lastDayToEffectiveDate('2026-03-29T02:30', 'Europe/Berlin')).toBe('2026-03-29T01:30:00.000Z');
    expect(lastDayToEffectiveDate('2026-11-26T17:00:00+05:00', 'Europe/Berlin')).toBe('2026-11-26T12:00:00.000Z');
    expect(lastDayToEffectiveDate('2026-11-26T17:00:00Z', 'Pacific/Kiritimati')).toBe('2026-11-26T17:00:00.000Z');
    for (const bad of ['2026-02-30', '2026-13-01', '2026-11-26T24:00', '2026-11-26T17', 'tomorrow', '26.11.2026']) expect(isLastDay(bad), bad).toBe(false);
    expect(isLastDay('2028-02-29')).toBe(true);
  });
});

/** The rules of src/domain on their own: role matrix, state machine, plan limits, email patterns. */
import { describe, expect, it } from 'vitest';
import { domainOf, escapeRegex, normalizeEmail, parseEmailPattern, PatternError } from '../../src/domain/email';
import { ACTIVE_USER_LIMITS, remainingSeats, withinPlan } from '../../src/domain/plans';
import { can, isSiteRole, PERMISSIONS, readableStatuses, SITE_ROLES, type SiteRole } from '../../src/domain/roles';
import { allowedFrom, nextStatus, targetOf, USER_STATUSES, type Transition } from '../../src/domain/user-state';
import { searchTokensFor } from '../../src/db/models/user';
import { csvSafeCell } from '../../src/services/user-export';
import { textSearchFilter } from '../../src/services/user-queries';
import { emailPatternQuery } from '../../src/services/users';

describe('role matrix', () => {
  const READ_ONLY = ['users:read-active', 'users:read-pending', 'tokens:read-activity', 'settings:read'];

  it('gives Administrators every permission', () => {
    for (const p of PERMISSIONS) expect(can('Administrators', p), p).toBe(true);
  });

  it.each(['SecurityManagers', 'Auditors'] as SiteRole[])('lets %s read active and pending users, token activity and the settings, nothing else', (role) => {
    for (const p of PERMISSIONS) expect(can(role, p), `${role} ${p}`).toBe(READ_ONLY.includes(p));
  });

  it.each(['PowerUsers', 'Users'] as SiteRole[])('lets %s manage no one', (role) => {
    for (const p of PERMISSIONS) expect(can(role, p), `${role} ${p}`).toBe(false);
  });

  it('lists the readable account states per role', () => {
    expect(readableStatuses('Administrators')).toEqual(['active', 'pending', 'deactivated']);
    expect(readableStatuses('Auditors')).toEqual(['active', 'pending']);
    expect(readableStatuses('SecurityManagers')).toEqual(['active', 'pending']);
    expect(readableStatuses('PowerUsers')).toEqual([]);
    expect(readableStatuses('Users')).toEqual([]);
  });

  it('knows the five site roles and nothing else', () => {
    expect(SITE_ROLES).toEqual(['Administrators', 'PowerUsers', 'Users', 'Auditors', 'SecurityManagers']);
    expect(isSiteRole('Auditors')).toBe(true);
    for (const v of ['auditors', 'Root', '', null, { $gt: '' }, ['Users']]) expect(isSiteRole(v)).toBe(false);
    expect(can('Nobody' as SiteRole, 'users:read-active')).toBe(false);
  });
});

describe('account state machine', () => {
  const table: Array<[Transition, string, string | undefined]> = [
    ['accept-invitation', 'pending', 'active'],
    ['accept-invitation', 'active', undefined],
    ['accept-invitation', 'deactivated', undefined],
    ['complete-registration', 'pending', 'active'],
    ['complete-registration', 'active', undefined],
    ['deactivate', 'active', 'deactivated'],
    ['deactivate', 'pending', 'deactivated'],
    ['deactivate', 'deactivated', undefined],
    ['reactivate', 'deactivated', 'active'],
    ['reactivate', 'active', undefined],
    ['reactivate', 'pending', undefined],
    ['reinvite', 'deactivated', 'pending'],
    ['reinvite', 'active', undefined],
  ];
  it.each(table)('%s from %s → %s', (move, from, to) => {
    expect(nextStatus(from as never, move)).toBe(to);
  });

  it('every move lands in a known state from known states', () => {
    for (const [move] of table) {
      expect(USER_STATUSES).toContain(targetOf(move));
      for (const s of allowedFrom(move)) expect(USER_STATUSES).toContain(s);
    }
  });
});

describe('plan limits', () => {
  it('allows Starter 5, Professional 25, Enterprise unlimited', () => {
    expect(ACTIVE_USER_LIMITS.Starter).toBe(5);
    expect(withinPlan('Starter', 4)).toBe(true);
    expect(withinPlan('Starter', 5)).toBe(false);
    expect(withinPlan('Starter', 3, 2)).toBe(true);
    expect(withinPlan('Starter', 3, 3)).toBe(false);
    expect(withinPlan('Professional', 24)).toBe(true);
    expect(withinPlan('Professional', 25)).toBe(false);
    expect(withinPlan('Enterprise', 1_000_000)).toBe(true);
    expect(remainingSeats('Starter', 2)).toBe(3);
    expect(remainingSeats('Starter', 9)).toBe(0);
    expect(remainingSeats('Enterprise', 10)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('emails and email patterns', () => {
  it('normalises case and whitespace and splits the domain', () => {
    expect(normalizeEmail('  John.Doe@Example.COM ')).toBe('john.doe@example.com');
    expect(domainOf('a@B.io')).toBe('b.io');
    expect(domainOf('nodomain')).toBe('');
  });

  it('parses exact, domain, prefix and infix patterns', () => {
    expect(parseEmailPattern('John@Example.com')).toMatchObject({ exact: 'john@example.com', domain: 'example.com' });
    expect(parseEmailPattern('*@example.com')).toMatchObject({ domain: 'example.com', regex: '^.*@example\\.com$', prefix: '' });
    expect(parseEmailPattern('john*')).toMatchObject({ domain: undefined, regex: '^john.*$', prefix: 'john' });
    expect(parseEmailPattern('*engineer*@example.com')).toMatchObject({ domain: 'example.com', regex: '^.*engineer.*@example\\.com$' });
    expect(parseEmailPattern('j***n*@x.io').regex).toBe('^j.*n.*@x\\.io$');
  });

  it('builds queries that narrow on the indexed domain field', () => {
    expect(emailPatternQuery('*@Example.com')).toEqual({ emailDomain: 'example.com' });
    expect(emailPatternQuery('*eng*@example.com')).toEqual({ emailDomain: 'example.com', email: /^.*eng.*@example\.com$/ });
    expect(emailPatternQuery('john*')).toEqual({ email: /^john.*$/ });
    expect(emailPatternQuery('a@b.io')).toEqual({ email: 'a@b.io' });
  });

  it.each(['(a+)+$', '.*.*.*.*', '*', '*@*', '[a-z]*', 'a b', '', 'a*b*c*d*e*@x.io', `${'a'.repeat(255)}`, 'a@b@c*', '^x*', 'x\\*y'])('refuses %s', (p) => {
    expect(() => parseEmailPattern(p)).toThrow(PatternError);
  });

  it('escapes every regular-expression metacharacter', () => {
    const hostile = '.*+?^${}()|[]\\/-';
    const re = new RegExp(`^${escapeRegex(hostile)}$`);
    expect(re.test(hostile)).toBe(true);
    expect(re.test('x')).toBe(false);
  });
});

describe('text search and CSV safety', () => {
  it('turns words into anchored, escaped prefix matches on searchTokens', () => {
    expect(textSearchFilter('John  D.')).toEqual({ $and: [{ searchTokens: /^john/ }, { searchTokens: /^d\./ }] });
    expect(textSearchFilter('   ')).toBeUndefined();
    expect(() => textSearchFilter('a b c d e f')).toThrow(/at most 5 words/);
  });

  it('indexes the words of names and email', () => {
    const tokens = searchTokensFor({ email: 'mary-jane.watson@daily.test', firstName: 'Mary Jane', lastName: 'Watson' });
    expect(tokens).toEqual(expect.arrayContaining(['mary', 'jane', 'watson', 'mary-jane.watson', 'mary-jane.watson@daily.test']));
  });

  it.each([
    ['=SUM(A1)', "'=SUM(A1)"],
    ['+1', "'+1"],
    ['-2', "'-2"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['plain', 'plain'],
    ['a=b', 'a=b'],
    ['', ''],
  ])('csvSafeCell(%j) is %j', (input, output) => {
    expect(csvSafeCell(input)).toBe(output);
  });
});

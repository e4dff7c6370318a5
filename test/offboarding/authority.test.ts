/**
 * The one rule of who may start, read and act on an offboarding (src/domain/authority.ts), which
 * the API, the Slack commands and the workflow's validators all ask.
 */
import { describe, expect, it } from 'vitest';
import { isOffboardingRefusal, offboardingAuthority } from '../../src/domain/authority';

const leaver = { id: 'leaver', managerId: 'manager' };

describe('offboarding authority', () => {
  it('lets an Administrator and the leaver\'s manager act', () => {
    expect(offboardingAuthority({ actor: { id: 'admin', siteRole: 'Administrators' }, leaver })).toBe('admin');
    expect(offboardingAuthority({ actor: { id: 'manager', siteRole: 'Users' }, leaver })).toBe('manager');
    // a manager who is also an Administrator acts as an Administrator
    expect(offboardingAuthority({ actor: { id: 'manager', siteRole: 'Administrators' }, leaver })).toBe('admin');
  });

  it('never lets the leaver act, not even an Administrator offboarding themself', () => {
    for (const siteRole of ['Administrators', 'Users', 'PowerUsers']) {
      for (const permission of ['processes:start', 'processes:read', 'processes:act'] as const) {
        expect(offboardingAuthority({ actor: { id: 'leaver', siteRole }, leaver, permission })).toBe('own_offboarding');
      }
    }
    // the leaver named as their own manager is still the leaver
    expect(offboardingAuthority({ actor: { id: 'leaver', siteRole: 'Users' }, leaver: { id: 'leaver', managerId: 'leaver' } })).toBe('own_offboarding');
  });

  it('refuses everyone else by the role matrix, and a caller with no identity', () => {
    for (const siteRole of ['PowerUsers', 'Users', 'Auditors', 'SecurityManagers', 'administrators', 'Root', undefined]) {
      expect(offboardingAuthority({ actor: { id: 'other', siteRole }, leaver })).toBe('not_an_approver');
    }
    expect(offboardingAuthority({ actor: { id: 'other', siteRole: 'Users' }, leaver: { id: 'leaver', managerId: null } })).toBe('not_an_approver');
    expect(offboardingAuthority({ actor: { id: undefined, siteRole: 'Administrators' }, leaver })).toBe('caller_unknown');
    expect(offboardingAuthority({ actor: { id: '', siteRole: 'Administrators' }, leaver })).toBe('caller_unknown');
  });

  it('answers "not known yet" for a non-Administrator while the manager is unknown, and refuses the leaver even then', () => {
    const unknown = { id: 'leaver', managerId: null, managerKnown: false };
    expect(offboardingAuthority({ actor: { id: 'manager', siteRole: 'Users' }, leaver: unknown })).toBe('manager_unknown');
    expect(offboardingAuthority({ actor: { id: 'admin', siteRole: 'Administrators' }, leaver: unknown })).toBe('admin');
    expect(offboardingAuthority({ actor: { id: 'leaver', siteRole: 'Administrators' }, leaver: unknown })).toBe('own_offboarding');
  });

  it('tells refusals from permissions', () => {
    expect(['caller_unknown', 'own_offboarding', 'not_an_approver'].every((a) => isOffboardingRefusal(a as never))).toBe(true);
    expect(['admin', 'manager', 'manager_unknown'].some((a) => isOffboardingRefusal(a as never))).toBe(false);
  });
});

/** `tenure users …`: search, show, invite, deactivate. */
import type { Command } from 'commander';
import { userPath } from './client';
import { contextOf } from './context';
import { fields, print } from './output';

interface ApiUser {
  _id: string;
  email: string;
  firstName: string;
  lastName: string;
  siteRole: string;
  status: string;
  active: boolean;
  managerId?: string;
  groups: string[];
  lastLoginAt?: string;
  deactivatedAt?: string;
  lockout?: unknown;
}

function describeUser(u: ApiUser): string {
  return fields([
    ['id', u._id],
    ['email', u.email],
    ['name', [u.firstName, u.lastName].filter(Boolean).join(' ')],
    ['role', u.siteRole],
    ['status', u.status],
    ['manager', u.managerId],
    ['groups', u.groups.length ? u.groups : undefined],
    ['last login', u.lastLoginAt],
    ['deactivated', u.deactivatedAt],
    ['locked out', u.lockout ? 'yes' : undefined],
  ]);
}

export function registerUsers(program: Command): void {
  const users = program.command('users').description('look users up, invite and deactivate them');

  users
    .command('search')
    .description('find exactly one user by email or email pattern (e.g. "ann*@example.com")')
    .argument('<pattern>')
    .action(async (pattern: string, _options, command: Command) => {
      const { api, out } = contextOf(command);
      print(out, await api.get<ApiUser>('/v1/users/search', { query: { email: pattern } }), describeUser);
    });

  users
    .command('show')
    .description('show a user by id or email')
    .argument('<idOrEmail>')
    .action(async (idOrEmail: string, _options, command: Command) => {
      const { api, out } = contextOf(command);
      print(out, await api.get<ApiUser>(userPath(idOrEmail)), describeUser);
    });

  users
    .command('invite')
    .description('invite a user: the pending account at once, the invitation by email')
    .argument('<email>')
    .option('--first-name <name>')
    .option('--last-name <name>')
    .option('--role <siteRole>', 'Administrators, PowerUsers, Users, Auditors or SecurityManagers')
    .option('--confirm-domain-mismatch', 'invite someone outside the organization domain')
    .action(async (email: string, options: { firstName?: string; lastName?: string; role?: string; confirmDomainMismatch?: boolean }, command: Command) => {
      const { api, out } = contextOf(command);
      const body = { email, firstName: options.firstName, lastName: options.lastName, siteRole: options.role, confirmDomainMismatch: options.confirmDomainMismatch };
      const answer = await api.post<{ user: ApiUser; process: { workflowId: string } }>('/v1/users', { body });
      print(out, answer, (a) => `invited ${a.user.email} (${a.user._id}); onboarding ${a.process.workflowId}`);
    });

  users
    .command('deactivate')
    .description('deactivate a user (refused while they still own resources)')
    .argument('<idOrEmail>')
    .action(async (idOrEmail: string, _options, command: Command) => {
      const { api, out } = contextOf(command);
      const answer = await api.post<{ message: string; user: ApiUser }>(userPath(idOrEmail, '/deactivate'));
      print(out, answer, (a) => `deactivated ${a.user.email} (${a.user._id})`);
    });
}

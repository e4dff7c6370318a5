/** `tenure offboard`, `approve`, `cancel` and `progress`: one user's offboarding. */
import type { Command } from 'commander';
import type { OffboardingProgress } from '../../workflows/messages/offboarding/queries';
import { userPath } from './client';
import { contextOf } from './context';
import { print } from './output';
import { followOffboarding } from './progress-display';

interface ActionAnswer {
  processId: string;
  status: string;
  planVersion?: string;
}

/** Exit 1 when a followed process ended in failure. */
function exitFor(progress: OffboardingProgress): void {
  if (progress.status === 'failed') process.exitCode = 1;
}

export function registerOffboarding(program: Command): void {
  program
    .command('offboard')
    .description("start a user's offboarding (or join the one running)")
    .argument('<idOrEmail>')
    .requiredOption('--reason <text>', 'why the user leaves (audited)')
    .option('--effective-date <date>', 'ISO date or date-time the offboarding waits for')
    .option('--new-owner <userId>', 'who receives what the leaver owns')
    .option('--immediate-lockout', 'end sessions and tokens at once, before the effective date')
    .option('--follow', 'show the progress until the process settles or waits for approval')
    .action(async (idOrEmail: string, options: { reason: string; effectiveDate?: string; newOwner?: string; immediateLockout?: boolean; follow?: boolean }, command: Command) => {
      const { api, out } = contextOf(command);
      const body = { reason: options.reason, effectiveDate: options.effectiveDate, newOwnerId: options.newOwner, immediateLockout: options.immediateLockout };
      const answer = await api.post<{ processId: string; started: boolean }>(userPath(idOrEmail, '/offboarding'), { body });
      print(out, answer, (a) => `${a.started ? 'started' : 'already running'}: ${a.processId}`);
      if (options.follow) exitFor(await followOffboarding(api, idOrEmail, out, { follow: true }));
    });

  program
    .command('approve')
    .description('approve the plan of the running offboarding (the version the API shows now)')
    .argument('<idOrEmail>')
    .action(async (idOrEmail: string, _options, command: Command) => {
      const { api, out } = contextOf(command);
      const { version: planVersion } = await api.get<{ version: string }>(userPath(idOrEmail, '/offboarding-plan'));
      const answer = await api.post<ActionAnswer>(userPath(idOrEmail, '/offboarding/approve'), { body: { planVersion } });
      print(out, answer, (a) => `approved plan ${planVersion}: ${a.processId} is ${a.status}`);
    });

  program
    .command('cancel')
    .description('cancel the running offboarding')
    .argument('<idOrEmail>')
    .option('--reason <text>')
    .action(async (idOrEmail: string, options: { reason?: string }, command: Command) => {
      const { api, out } = contextOf(command);
      const answer = await api.post<ActionAnswer>(userPath(idOrEmail, '/offboarding/cancel'), { body: { reason: options.reason } });
      print(out, answer, (a) => `cancelled: ${a.processId} is ${a.status}`);
    });

  program
    .command('progress')
    .description("show a user's offboarding step by step (with --follow, live until it settles)")
    .argument('<idOrEmail>')
    .option('--follow', 'keep showing changes until the process settles or waits for approval')
    .action(async (idOrEmail: string, options: { follow?: boolean }, command: Command) => {
      const { api, out } = contextOf(command);
      exitFor(await followOffboarding(api, idOrEmail, out, { follow: options.follow === true }));
    });
}

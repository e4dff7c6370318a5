/** `tenure dead-letters list|replay`: HR events the intake could not apply. */
import type { Command } from 'commander';
import { contextOf } from './context';
import { print, table } from './output';

interface DeadLetter {
  jobId: string;
  provider: string;
  eventId: string;
  type: string;
  employee?: { id?: string; email?: string };
  reason: string;
  message: string;
  at: string;
  replayedAt?: string;
}

export function registerDeadLetters(program: Command): void {
  const deadLetters = program.command('dead-letters').description('HR events that could not be applied');

  deadLetters
    .command('list')
    .description('the newest dead letters first')
    .option('--limit <n>', 'how many (1-500)')
    .action(async (options: { limit?: string }, command: Command) => {
      const { api, out } = contextOf(command);
      const answer = await api.get<{ deadLetters: DeadLetter[] }>('/v1/hr/dead-letters', { query: { limit: options.limit } });
      print(out, answer, (a) =>
        a.deadLetters.length
          ? table(
              ['at', 'job', 'provider', 'event', 'type', 'employee', 'reason', 'replayed'],
              a.deadLetters.map((d) => [d.at, d.jobId, d.provider, d.eventId, d.type, d.employee?.email ?? d.employee?.id ?? '', d.reason, d.replayedAt ?? '']),
            )
          : 'no dead letters',
      );
    });

  deadLetters
    .command('replay')
    .description('put a dead-lettered event back into the HR intake (after fixing its cause)')
    .argument('<jobId>')
    .action(async (jobId: string, _options, command: Command) => {
      const { api, out } = contextOf(command);
      const answer = await api.post<{ jobId: string; replayJobId: string }>(`/v1/hr/dead-letters/${encodeURIComponent(jobId)}/replay`);
      print(out, answer, (a) => `replayed ${a.jobId} as intake job ${a.replayJobId}`);
    });
}

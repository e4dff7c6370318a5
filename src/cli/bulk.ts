/** `tenure bulk offboard <file.csv>`: the CSV as the API takes it, then a progress bar of the run. */
import { readFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { BulkOffboardingProgress } from '../../workflows/messages/bulk-offboarding';
import { UsageError, type ApiClient } from './client';
import { contextOf } from './context';
import { print, printJsonLine, table, type Output } from './output';

const POLL_MS = 1_000;

/** Reads the bulk run every second until it is done: a bar on stderr, or one JSON line per change. */
async function followBulk(api: ApiClient, processId: string, out: Output): Promise<BulkOffboardingProgress> {
  const path = `/v1/offboardings/bulk/${encodeURIComponent(processId)}`;
  const bar = out.json ? undefined : new cliProgress.SingleBar({ format: 'offboarding [{bar}] {value}/{total} settled | {running} running', hideCursor: true }, cliProgress.Presets.shades_classic);
  let shown: string | undefined;
  try {
    for (;;) {
      const progress = await api.get<BulkOffboardingProgress>(path);
      const snapshot = JSON.stringify(progress);
      if (snapshot !== shown) {
        shown = snapshot;
        const running = progress.items.filter((i) => i.status === 'running').length;
        if (out.json) printJsonLine(progress);
        else if (bar) {
          if (!bar.isActive) bar.start(progress.total, progress.settled, { running });
          bar.setTotal(progress.total);
          bar.update(progress.settled, { running });
        }
      }
      if (progress.done) return progress;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    bar?.stop();
  }
}

function describeOutcome(p: BulkOffboardingProgress): string {
  const counts = Object.entries(p.byStatus).map(([status, n]) => [status, String(n)]);
  return `${p.settled}/${p.total} settled\n${table(['status', 'users'], counts)}`;
}

export function registerBulk(program: Command): void {
  const bulk = program.command('bulk').description('act on many users at once');
  bulk
    .command('offboard')
    .description('offboard the users of a CSV file (an "email" column, optionally "reason")')
    .argument('<file.csv>')
    .option('--reason <text>', 'the reason of rows without one')
    .option('--immediate-lockout', 'lock every leaver out at once')
    .option('--new-owner <userId>', 'who receives what the leavers own')
    .option('--follow', 'show a progress bar until every offboarding has settled')
    .action(async (file: string, options: { reason?: string; immediateLockout?: boolean; newOwner?: string; follow?: boolean }, command: Command) => {
      const { api, out } = contextOf(command);
      let csv: string;
      try {
        csv = await readFile(file, 'utf8');
      } catch (err) {
        throw new UsageError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
      }
      const answer = await api.post<{ processId: string; started: boolean; users: number }>('/v1/offboardings/bulk', {
        body: csv,
        contentType: 'text/csv; charset=utf-8',
        query: { reason: options.reason, immediateLockout: options.immediateLockout, newOwnerId: options.newOwner },
      });
      print(out, answer, (a) => `bulk offboarding of ${a.users} users: ${a.processId}`);
      if (options.follow) {
        const done = await followBulk(api, answer.processId, out);
        if (!out.json) process.stdout.write(`${describeOutcome(done)}\n`);
      }
    });
}

/**
 * Following a running offboarding: the progress route read every second, the display redrawn
 * only when something changed (in place on a terminal, appended otherwise), one JSON line per
 * change with `--json`, until the process settles or waits for an approver.
 */
import { SETTLED_STATUSES, type OffboardingStatus } from '../../workflows/messages/offboarding/values';
import type { OffboardingProgress } from '../../workflows/messages/offboarding/queries';
import { userPath, type ApiClient } from './client';
import { printJsonLine, type Output } from './output';

const POLL_MS = 1_000;

const STEP_MARKS: Record<string, string> = { pending: '[ ]', running: '[>]', done: '[x]', skipped: '[-]', failed: '[!]' };

/** The progress as lines: the status, then each step with its state. */
function renderProgress(p: OffboardingProgress): string[] {
  const lines = [`offboarding ${p.workflowId}: ${p.status}${p.awaiting ? ` (${p.awaiting})` : ''}`];
  for (const step of p.steps) lines.push(`  ${STEP_MARKS[step.state] ?? `[${step.state}]`} ${step.name}${step.detail ? ` - ${step.detail}` : ''}`);
  if (p.resources.total) lines.push(`  resources transferred: ${p.resources.done}/${p.resources.total}${p.resources.failed.length ? `, failed: ${p.resources.failed.join(', ')}` : ''}`);
  for (const sys of p.systems ?? []) {
    const check = sys.verification;
    lines.push(`  ${sys.label}: ${sys.state}${check ? (check.clean ? ', verified clean' : `, access left behind: ${check.error ?? check.remaining.join(', ')}`) : sys.error ? ` (${sys.error})` : ''}`);
  }
  if (p.plan && p.status === 'awaiting_approval') {
    for (const sys of p.plan.systems ?? []) lines.push(`  plan in ${sys.label}: ${sys.error ?? (sys.actions.map((a) => a.summary).join('; ') || 'nothing to do')}`);
    lines.push(`  plan version to approve: ${p.plan.version}`);
  }
  if (p.error) lines.push(`  error: ${p.error}`);
  return lines;
}

/** Whether following may stop: the process settled, or waits for a person to approve it. */
function stopsFollowing(status: OffboardingStatus): boolean {
  return SETTLED_STATUSES.includes(status) || status === 'awaiting_approval';
}

/** Follows the offboarding of `idOrEmail` and answers its last progress. */
export async function followOffboarding(client: ApiClient, idOrEmail: string, out: Output, options: { follow: boolean }): Promise<OffboardingProgress> {
  const live = !out.json && process.stdout.isTTY === true;
  let shown: string | undefined;
  let drawnLines = 0;
  for (;;) {
    const progress = await client.get<OffboardingProgress>(userPath(idOrEmail, '/offboarding'));
    const snapshot = JSON.stringify(progress);
    if (snapshot !== shown) {
      shown = snapshot;
      if (out.json) printJsonLine(progress);
      else {
        const lines = renderProgress(progress);
        // On a terminal the display is redrawn in place: up over the last drawing, clear below.
        if (live && drawnLines) process.stdout.write(`\x1b[${drawnLines}A\x1b[0J`);
        process.stdout.write(`${lines.join('\n')}\n`);
        drawnLines = lines.length;
      }
    }
    if (!options.follow || stopsFollowing(progress.status)) {
      if (!out.json && options.follow && progress.status === 'awaiting_approval') process.stdout.write(`waiting for approval: run \`tenure approve ${idOrEmail}\`\n`);
      return progress;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

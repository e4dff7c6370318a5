/**
 * Progress messages: posted once in the requester's conversation when a process starts, then
 * kept up to date by the Slack sync job (src/slack/sync.ts) as the workflow's steps complete.
 */
import type { WebClient } from '@slack/web-api';
import { createHash } from 'node:crypto';
import type { SlackContext } from './context';

/** The subset of a workflow's `progress` query that the messages show. */
export interface ProgressView {
  status?: string;
  state?: string;
  steps?: Array<{ name?: string; step?: string; state?: string; status?: string; at?: string; finishedAt?: string; detail?: string }>;
  resources?: { done?: number; total?: number; transferred?: number };
  verification?: { clean?: boolean; leftBehind?: unknown[] } | string;
  /** An offboarding's connected systems: what was done there and what verification found. */
  systems?: Array<{ label: string; state: string; error?: string; outcomes?: Array<{ state: string }>; verification?: { clean: boolean; remaining: string[]; error?: string } }>;
  /** An offboarding's undo window: open until then. */
  undoUntil?: string;
}

const STATE_ICON: Record<string, string> = {
  done: ':white_check_mark:',
  completed: ':white_check_mark:',
  running: ':hourglass_flowing_sand:',
  waiting: ':hourglass:',
  pending: ':white_circle:',
  skipped: ':heavy_minus_sign:',
  failed: ':x:',
};

export function renderProgress(title: string, workflowId: string, progress: ProgressView | undefined, closedStatus?: string) {
  const status = String(progress?.status ?? progress?.state ?? closedStatus ?? 'starting');
  const lines = (progress?.steps ?? []).map((s) => {
    const state = String(s.state ?? s.status ?? 'pending');
    return `${STATE_ICON[state] ?? ':small_blue_diamond:'} ${s.name ?? s.step ?? 'step'}${s.detail ? ` — ${s.detail}` : ''}`;
  });
  const res = progress?.resources;
  if (res && typeof res.total === 'number') lines.push(`:package: resources ${res.done ?? res.transferred ?? 0}/${res.total}`);
  for (const sys of progress?.systems ?? []) lines.push(systemLine(sys));
  const text = `${title}: ${status.replace(/_/g, ' ')}`;
  const blocks = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${title}*\nStatus: *${status.replace(/_/g, ' ')}*` } },
    ...(lines.length ? [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } }] : []),
    { type: 'context', elements: [{ type: 'mrkdwn', text: `Process \`${workflowId}\`` }] },
  ];
  return { text, blocks, hash: createHash('sha256').update(JSON.stringify(blocks)).digest('hex') };
}

/** One connected system: its state, what was done, and the verification's verdict. */
function systemLine(sys: NonNullable<ProgressView['systems']>[number]): string {
  const done = (sys.outcomes ?? []).filter((o) => o.state === 'done').length;
  const check = sys.verification;
  const verdict = !check ? '' : check.clean ? ', verified clean' : `, *access left behind*: ${(check.error ?? check.remaining.join(', ')).slice(0, 300)}`;
  const icon = check && !check.clean ? STATE_ICON.failed : (STATE_ICON[sys.state] ?? ':small_blue_diamond:');
  return `${icon} ${sys.label}: ${sys.state}${done ? `, ${done} action${done === 1 ? '' : 's'} done` : ''}${sys.error && !check ? ` (${sys.error.slice(0, 200)})` : ''}${verdict}`;
}

export async function postProgressMessage(ctx: SlackContext, client: WebClient, input: { channel: string; workflowId: string; title: string; requesterSlackId?: string }): Promise<void> {
  const key = `progress:${input.workflowId}:${input.channel}`;
  if (await ctx.models.SlackMessage.exists({ key })) return;
  const rendered = renderProgress(input.title, input.workflowId, undefined);
  const posted = await ctx.throttle.run(input.channel, () => client.chat.postMessage({ channel: input.channel, text: rendered.text, blocks: rendered.blocks }));
  await ctx.models.SlackMessage.updateOne(
    { key },
    { $setOnInsert: { kind: 'progress', key, workflowId: input.workflowId, channel: posted.channel ?? input.channel, ts: posted.ts, title: input.title, rendered: rendered.hash, slackUserId: input.requesterSlackId } },
    { upsert: true },
  );
}

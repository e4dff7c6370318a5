/**
 * Keeps Slack in step with the workflows, from their `progress` queries: posts approval requests
 * to the approvers of offboardings that wait for one (to the Administrators too once the workflow
 * has escalated the wait), reminds the approvers once its reminder timer has fired, closes the
 * requests once decided (who and when, buttons gone), and updates progress messages as steps
 * complete. Escalation and reminder are the workflow's own state (`escalatedAt`, `remindedAt`),
 * never read from its texts. Every write is keyed in slack_messages, so a pass can run any number
 * of times (BullMQ job scheduler) without repeats.
 *
 * A pass queries only the processes that need a message: the offboardings whose `TenureStatus`
 * search attribute says they wait for an approver (or that have none: started before the
 * workflow published it), and the processes of the open messages in slack_messages. A message
 * that already shows its process's published status, and has nothing else to show while that
 * stays, is left be until the status changes or the process closes: an onboarding waiting for its
 * invitee, an offboarding in its undo window.
 */
import type { WebClient } from '@slack/web-api';
import { SETTLED_STATUSES, type OffboardingProgress, type OffboardingStatus } from '../../workflows/offboarding-messages';
import { offboardingProgressOf, offboardingsAwaitingApproval } from '../processes/offboarding';
import { processKindOf } from '../processes/ids';
import { describeRun, queryProgress } from '../processes/progress';
import { approversOf } from '../services/approvers';
import type { StoredUser } from '../services/users';
import { displayName } from '../services/user-view';
import { approvalBlocks, decidedBlocks } from './blocks/approval';
import type { SlackContext } from './context';
import { slackIdOf } from './identity';
import { renderProgress, type ProgressView } from './progress';

export interface SyncReport {
  approvalsPosted: number;
  remindersPosted: number;
  approvalsClosed: number;
  progressUpdated: number;
}

export async function runSlackSync(ctx: SlackContext, client: WebClient): Promise<SyncReport> {
  const report: SyncReport = { approvalsPosted: 0, remindersPosted: 0, approvalsClosed: 0, progressUpdated: 0 };
  const awaiting = new Map<string, OffboardingProgress>();
  for await (const progress of offboardingsAwaitingApproval(ctx.temporal, ctx.config.TEMPORAL_TASK_QUEUE)) {
    if (progress.plan) {
      awaiting.set(progress.workflowId, progress);
      const leaver = await ctx.models.User.findById(progress.userId).lean<StoredUser>();
      if (!leaver) continue;
      report.approvalsPosted += await postApprovals(ctx, client, leaver, progress);
      if (progress.remindedAt) report.remindersPosted += await postReminders(ctx, client, leaver, progress);
    }
  }
  report.approvalsClosed += await closeDecidedApprovals(ctx, client, awaiting);
  report.progressUpdated += await updateProgressMessages(ctx, client);
  return report;
}

async function postApprovals(ctx: SlackContext, client: WebClient, leaver: StoredUser, progress: OffboardingProgress): Promise<number> {
  const approvers = await approversOf(ctx.models, leaver, { escalated: !!progress.escalatedAt });
  const owners = await ownerLabels(ctx, progress);
  let posted = 0;
  for (const approver of approvers) {
    const slackUserId = await slackIdOf(client, approver.email);
    if (!slackUserId) continue;
    const key = `approval:${progress.workflowId}:${progress.plan!.version}:${slackUserId}`;
    if (await ctx.models.SlackMessage.exists({ key })) continue;
    const dm = await client.conversations.open({ users: slackUserId });
    const channel = dm.channel?.id ?? slackUserId;
    const message = approvalBlocks({ leaver: displayName(leaver), leaverEmail: leaver.email, progress, ownerLabel: owners });
    const sent = await ctx.throttle.run(channel, () => client.chat.postMessage({ channel, text: message.text, blocks: message.blocks }));
    await ctx.models.SlackMessage.updateOne(
      { key },
      { $setOnInsert: { kind: 'approval', key, workflowId: progress.workflowId, channel, ts: sent.ts, title: displayName(leaver), slackUserId, planVersion: progress.plan!.version } },
      { upsert: true },
    );
    posted += 1;
  }
  return posted;
}

/**
 * Once the workflow's reminder timer has fired (its `remindedAt`), the approvers it reminds (not
 * those asked only because of an escalation) get one reminder in the thread of their request.
 */
async function postReminders(ctx: SlackContext, client: WebClient, leaver: StoredUser, progress: OffboardingProgress): Promise<number> {
  const keyOf = (slackUserId: string) => `reminder:${progress.workflowId}:${progress.remindedAt}:${slackUserId}`;
  const open = await ctx.models.SlackMessage.find({ kind: 'approval', workflowId: progress.workflowId, planVersion: progress.plan!.version, finishedAt: null }).lean();
  const sent = new Set((await ctx.models.SlackMessage.find({ key: { $in: open.map((m) => keyOf(m.slackUserId ?? '')) } }, { key: 1 }).lean()).map((m) => m.key));
  const due = open.filter((m) => m.slackUserId && m.channel && m.ts && !sent.has(keyOf(m.slackUserId)));
  if (!due.length) return 0;
  const reminded = new Set(await Promise.all((await approversOf(ctx.models, leaver)).map((a) => slackIdOf(client, a.email))));
  let posted = 0;
  for (const request of due) {
    if (!reminded.has(request.slackUserId!)) continue;
    const key = keyOf(request.slackUserId!);
    const text = `:alarm_clock: Reminder: the offboarding of ${displayName(leaver)} (${leaver.email}) is still waiting for your answer.`;
    const reply = await ctx.throttle.run(request.channel!, () => client.chat.postMessage({ channel: request.channel!, thread_ts: request.ts!, text }));
    await ctx.models.SlackMessage.updateOne(
      { key },
      { $setOnInsert: { kind: 'reminder', key, workflowId: progress.workflowId, channel: request.channel, ts: reply.ts, title: displayName(leaver), slackUserId: request.slackUserId, planVersion: progress.plan!.version, finishedAt: new Date() } },
      { upsert: true },
    );
    posted += 1;
  }
  return posted;
}

async function ownerLabels(ctx: SlackContext, progress: OffboardingProgress): Promise<(id: string | null) => string> {
  const ids = new Set<string>([
    ...Object.values(progress.plan?.assignments ?? {}),
    ...(progress.plan?.resources ?? []).map((r) => r.newOwnerId).filter((id): id is string => !!id),
    ...(progress.plan?.newOwner ? [progress.plan.newOwner.id] : []),
  ]);
  const users = await ctx.models.User.find({ _id: { $in: [...ids] } }, { email: 1, firstName: 1, lastName: 1, preferredName: 1 }).lean();
  const names = new Map(users.map((u) => [String(u._id), `${displayName(u)} (${u.email})`]));
  return (id) => (id ? (names.get(id) ?? id) : '_to be chosen_');
}

/** Approval messages whose question is settled: decided, or superseded by a newer plan. */
async function closeDecidedApprovals(ctx: SlackContext, client: WebClient, awaiting: Map<string, OffboardingProgress>): Promise<number> {
  let closed = 0;
  const open = await ctx.models.SlackMessage.find({ kind: 'approval', finishedAt: null }).limit(500).lean();
  for (const message of open) {
    // A process the list did not show as waiting (its search attribute may lag) is asked itself.
    const current = awaiting.get(message.workflowId) ?? (await offboardingProgressOf(ctx.temporal, message.workflowId));
    const waiting = current?.status === 'awaiting_approval' ? current : undefined;
    if (waiting && waiting.plan?.version === message.planVersion) continue;
    let outcome = 'superseded by a newer plan';
    let by: string | undefined;
    let at: string | undefined;
    if (!waiting) {
      if (current?.decision) {
        outcome = current.decision.action;
        at = current.decision.at;
        by = await nameOf(ctx, current.decision.by);
      } else {
        outcome = current ? `no longer waiting (${current.status.replace(/_/g, ' ')})` : 'closed';
      }
    }
    await finishApprovalMessage(ctx, client, message, { outcome, by, at });
    closed += 1;
  }
  return closed;
}

export async function finishApprovalMessage(ctx: SlackContext, client: WebClient, message: { key: string; channel?: string | null; ts?: string | null; title?: string | null; workflowId: string }, result: { outcome: string; by?: string; at?: string }): Promise<void> {
  const claimed = await ctx.models.SlackMessage.updateOne({ key: message.key, finishedAt: null }, { $set: { finishedAt: new Date() } });
  if (!claimed.modifiedCount || !message.channel || !message.ts) return;
  const blocks = decidedBlocks({ leaver: message.title ?? 'user', workflowId: message.workflowId, ...result });
  await ctx.throttle.run(message.channel, () => client.chat.update({ channel: message.channel!, ts: message.ts!, text: blocks.text, blocks: blocks.blocks }));
}

async function nameOf(ctx: SlackContext, userId: string | undefined): Promise<string | undefined> {
  if (!userId) return undefined;
  const user = await ctx.models.User.findById(userId, { email: 1, firstName: 1, lastName: 1 })
    .lean()
    .catch(() => null);
  return user ? displayName(user) : userId;
}

/**
 * Brings each open progress message up to date. A running process whose published `TenureStatus`
 * is still the one last shown, and that has nothing else to show while it stays (`idleUntil`), is
 * not asked: an onboarding (its message shows only its state), an offboarding waiting out its undo
 * window until the window closes. A process that publishes no status (started before it did so)
 * is asked every pass. The message is final once the process has closed, or has settled with no
 * undo left.
 */
async function updateProgressMessages(ctx: SlackContext, client: WebClient): Promise<number> {
  let updated = 0;
  const open = await ctx.models.SlackMessage.find({ kind: 'progress', finishedAt: null }).limit(500).lean();
  for (const message of open) {
    const run = await describeRun(ctx.temporal, message.workflowId);
    if (!run) continue;
    const running = run.status === 'RUNNING';
    const unchanged = !!run.published && run.published === message.processStatus;
    if (running && unchanged && (!message.idleUntil || message.idleUntil.getTime() > Date.now())) continue;
    const progress = (await queryProgress(ctx.temporal, message.workflowId)) as ProgressView | undefined;
    const status = progress?.status as OffboardingStatus | undefined;
    const undoUntil = typeof progress?.undoUntil === 'string' && Date.parse(progress.undoUntil) > Date.now() ? new Date(progress.undoUntil) : undefined;
    // An offboarding stays open through its undo window and retention; its message is final once settled.
    const settled = !!status && SETTLED_STATUSES.includes(status);
    const closed = !running || (settled && !undoUntil);
    const rendered = renderProgress(message.title ?? 'Process', message.workflowId, progress, running ? undefined : run.status.toLowerCase());
    if (rendered.hash !== message.rendered && message.channel && message.ts) {
      await ctx.throttle.run(message.channel, () => client.chat.update({ channel: message.channel!, ts: message.ts!, text: rendered.text, blocks: rendered.blocks }));
      updated += 1;
    }
    const idle = idleWhile(message.workflowId, progress, settled ? undoUntil : undefined);
    const stale = (['processStatus', 'idleUntil'] as const).filter((field) => !idle?.[field]);
    await ctx.models.SlackMessage.updateOne(
      { key: message.key },
      {
        $set: { rendered: rendered.hash, ...idle, ...(closed ? { finishedAt: new Date() } : {}) },
        ...(stale.length ? { $unset: Object.fromEntries(stale.map((field) => [field, 1])) } : {}),
      },
    );
  }
  return updated;
}

/**
 * What lets a progress message be left alone while the process's published status stays the one
 * just shown: an onboarding's message shows its state alone (so for as long as that stays); an
 * offboarding's shows its steps too, which stop moving once it has settled, and then only until its
 * undo window closes. Undefined when the process must be asked on every pass.
 */
function idleWhile(workflowId: string, progress: ProgressView | undefined, undoUntil: Date | undefined): { processStatus: string; idleUntil?: Date } | undefined {
  switch (processKindOf(workflowId)) {
    case 'onboarding':
      return progress?.state ? { processStatus: progress.state } : undefined;
    case 'offboarding':
      return progress?.status && undoUntil ? { processStatus: progress.status, idleUntil: undoUntil } : undefined;
    default:
      return undefined;
  }
}

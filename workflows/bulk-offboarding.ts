/**
 * Bulk offboarding: many leavers in one request. Each leaver gets the ordinary child workflow
 * `offboarding:<userId>`, at most `concurrency` of them unsettled at once. Children outlive the
 * bulk request (their undo window and retention run on); each tells the parent when it settles.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, condition, setHandler, startChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { offboardingWorkflow } from './offboarding';
import { bulkProgressQuery, childSettledSignal, type BulkOffboardingInput, type BulkOffboardingProgress, type OffboardingStatus } from './offboarding-messages';
import { TENURE_PROCESS } from './search-attributes';

export async function bulkOffboardingWorkflow(input: BulkOffboardingInput): Promise<BulkOffboardingProgress> {
  upsertSearchAttributes([{ key: TENURE_PROCESS, value: 'bulk-offboarding' }]);
  const items: BulkOffboardingProgress['items'] = input.users.map((u) => ({ userId: u.userId, workflowId: `offboarding:${u.userId}`, status: 'queued' }));
  const byUser = new Map(items.map((item) => [item.userId, item]));
  let started = 0;
  let settled = 0;
  let running = 0;

  const progress = (): BulkOffboardingProgress => {
    const byStatus: Record<string, number> = {};
    for (const item of items) byStatus[item.status] = (byStatus[item.status] ?? 0) + 1;
    return { workflowId: workflowInfo().workflowId, total: items.length, started, settled, byStatus, items: items.map((i) => ({ ...i })), done: settled === items.length };
  };
  setHandler(bulkProgressQuery, progress);
  const markSettled = (userId: string, status: OffboardingStatus) => {
    const item = byUser.get(userId);
    if (!item || item.status !== 'running') return;
    item.status = status;
    settled++;
    running--;
  };
  setHandler(childSettledSignal, ({ userId, status }) => markSettled(userId, status));

  const concurrency = Math.max(1, input.concurrency);
  for (const [index, user] of input.users.entries()) {
    await condition(() => running < concurrency);
    const item = items[index]!;
    // Counted as running before the start resolves: a fast child may settle in the same activation.
    item.status = 'running';
    running++;
    started++;
    try {
      const child = await startChild(offboardingWorkflow, {
        workflowId: item.workflowId,
        args: [
          {
            userId: user.userId,
            reason: user.reason ?? input.reason,
            requestedBy: input.requestedBy,
            source: input.source,
            newOwnerId: input.newOwnerId,
            immediateLockout: input.immediateLockout,
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      // The signal is the usual news; a child that fails or ends without it must not stall the bulk.
      void child.result().then(
        (result) => markSettled(user.userId, result.status),
        () => markSettled(user.userId, 'failed'),
      );
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // An offboarding of this leaver already runs (started elsewhere): it is joined, not duplicated.
      item.status = 'already_running';
      running--;
      settled++;
    }
  }
  await condition(() => settled === items.length);
  return progress();
}

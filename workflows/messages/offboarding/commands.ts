/**
 * What callers and other processes ask of a running offboarding: updates (answered, refused by
 * their validators) and signals. Names are the wire names of recorded histories; keep them.
 * No Node imports: part of the bundle.
 */
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Caller } from '../caller';
import type { ActionResult } from './values';

export interface ApproveArgs {
  caller: Caller;
  /** The plan version the approver saw; an approval of a stale plan is refused. */
  planVersion: string;
}
export interface RejectArgs {
  caller: Caller;
  reason?: string;
}
export interface ChangeOwnerArgs {
  caller: Caller;
  newOwnerId: string;
  /** One resource only; all resources when omitted. */
  resourceId?: string;
}
export interface CancelArgs {
  caller: Caller;
  reason?: string;
}
export interface UndoArgs {
  caller: Caller;
  reason?: string;
}
export interface RetrySystemsArgs {
  caller: Caller;
}
export const approveUpdate = defineUpdate<ActionResult, [ApproveArgs]>('approve');
export const rejectUpdate = defineUpdate<ActionResult, [RejectArgs]>('reject');
export const changeOwnerUpdate = defineUpdate<ActionResult, [ChangeOwnerArgs]>('changeOwner');
export const cancelUpdate = defineUpdate<ActionResult, [CancelArgs]>('cancel');
export const undoUpdate = defineUpdate<ActionResult, [UndoArgs]>('undo');
/** After access was left behind in a connected system: try those systems again now. */
export const retrySystemsUpdate = defineUpdate<ActionResult, [RetrySystemsArgs]>('retrySystems');
/** Sent by the reactivation workflow: the account is active again, so never delete it. */
export const reactivatedSignal = defineSignal<[{ by?: string }]>('reactivated');


/**
 * The bulk offboarding's input and progress: one parent running offboardings as children.
 * No Node imports: part of the bundle.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Requester } from './caller';
import type { OffboardingSource, OffboardingStatus } from './offboarding/values';

export interface BulkOffboardingInput {
  users: Array<{ userId: string; reason?: string }>;
  reason: string;
  requestedBy: Requester;
  source: OffboardingSource;
  newOwnerId?: string;
  immediateLockout?: boolean;
  concurrency: number;
}

export interface BulkOffboardingProgress {
  workflowId: string;
  total: number;
  started: number;
  settled: number;
  byStatus: Record<string, number>;
  items: Array<{ userId: string; workflowId: string; status: OffboardingStatus | 'queued' | 'running' | 'already_running' }>;
  done: boolean;
}
export const bulkProgressQuery = defineQuery<BulkOffboardingProgress>('progress');


/** Sent by an offboarding to its bulk parent when it has settled. */
export const childSettledSignal = defineSignal<[{ userId: string; status: OffboardingStatus }]>('childSettled');

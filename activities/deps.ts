import type { Queue } from 'bullmq';
import type { Connector } from '../src/connectors/contract';
import type { Models } from '../src/db/models';
import type { Logger } from '../src/logger';
import type { Mailer } from '../src/mail/mailer';

/** What the worker injects into the activities. */
export interface ActivityDeps {
  models: Models;
  queues: { systemCheck: Queue };
  logger: Logger;
  mailer: Mailer;
  /** Base of links sent to people (PUBLIC_BASE_URL). */
  publicBaseUrl: string;
  /** Offboarding timings (OFFBOARDING_* settings); defaults apply when omitted. */
  offboarding?: OffboardingTimings;
  /** The systems outside the store an offboarding reaches (src/connectors/); none when omitted. */
  connectors?: Connector[];
}

export interface OffboardingTimings {
  approvalReminderMs: number;
  approvalEscalationMs: number;
  undoGraceMs: number;
  /** After access was left behind in a connected system: time between automatic retries. */
  systemRetryMs?: number;
  /** How long reading one connected system for the plan may take before it is reported unreadable. */
  systemReadTimeoutMs?: number;
}

/** One run of a process, as its activities name it (transfer ids and audit keys are built from it). */
export interface RunRef {
  userId: string;
  workflowId: string;
  runId: string;
}

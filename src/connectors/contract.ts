/**
 * The connector contract: how offboarding reaches a system outside tenure's own store (an
 * identity provider, a code host) where a leaver's access lives. One folder per system under
 * src/connectors/; each exports a factory returning a `Connector`.
 *
 * The offboarding process drives every connector the same way:
 *   find → plan (shown to approvers) → act (each action idempotent) → verify (re-read) → undo.
 * An immediate lockout runs only the plan's lockout-class actions (`PlannedAction.lockout`) at
 * once, before approval; undo reverses them if the offboarding is rejected or cancelled.
 * Every method re-reads the system, so a retried call (Temporal retries activities) finds what
 * an earlier attempt already did and reports it `already_done` instead of doing it twice.
 *
 * Errors: a system that cannot be reached or answers 5xx throws `SystemUnavailableError`
 * (retried by Temporal; when it stays down the process reports access left behind for that
 * system). A refusal that retrying cannot fix (bad credentials, missing permission) throws
 * `ConnectorRefusedError`. Any other failure of one action is returned as that action's outcome.
 *
 * Values crossing into workflows are plain JSON (no classes, no Dates).
 */

/** Who is being offboarded, as every system can look them up. */
export interface LeaverRef {
  /** tenure's user id. */
  userId: string;
  email: string;
}

/** Who receives what the leaver owns in the system (the offboarding's new owner), by email. */
export interface NewOwnerRef {
  userId: string;
  email: string;
}

/** One thing the leaver holds in a system. */
export interface HeldItem {
  /** e.g. 'account', 'session', 'offline_token', 'consent', 'group', 'repository', 'organization', 'team'. */
  kind: string;
  /** The system's own id of it (stable across reads). */
  id: string;
  /** What a person reads (a repository's full name, a group's path, a client's name). */
  name: string;
}

/** What the leaver holds in one system; `account: null` means the system has no such person. */
export interface SystemHoldings {
  system: string;
  account: { id: string; name: string; enabled: boolean } | null;
  items: HeldItem[];
}

/** One step a connector will take (shown to the approver before anything happens). */
export interface PlannedAction {
  system: string;
  /** Stable within the system for this leaver: the idempotency key of the action. */
  key: string;
  /** e.g. 'end_sessions', 'revoke_offline_tokens', 'revoke_consents', 'disable_account', 'remove_membership', 'transfer', 'prohibit_login'. */
  action: string;
  target: HeldItem;
  /** For a transfer: who receives it (the system's name for them). */
  to?: string;
  /** One line a person reads, e.g. "transfer repository alice/api to bob". */
  summary: string;
  /**
   * A lockout-class action: it only ends the leaver's ability to get in (sign-in, sessions,
   * tokens) and hands nothing over, so an immediate lockout carries it out at once, before the
   * plan is approved. Transfers and membership removals never set it: they wait for approval.
   * Absent: the action waits for approval (a connector that marks none has no immediate lockout).
   */
  lockout?: true;
}

type ActionState = 'done' | 'already_done' | 'failed';

export interface ActionOutcome {
  key: string;
  action: string;
  summary: string;
  state: ActionState;
  /** Why it failed, or what the system answered. */
  detail?: string;
  /** What undo needs to reverse it (e.g. the repository's previous owner); plain JSON. */
  undo?: Record<string, string>;
  /** The action was lockout-class: undo gives the account back before anything else. */
  lockout?: true;
}

/** The outcome of one planned action, as every connector reports it. */
export function actionOutcome(action: PlannedAction, state: ActionState, detail?: string, undo?: Record<string, string>): ActionOutcome {
  return { key: action.key, action: action.action, summary: action.summary, state, ...(detail ? { detail } : {}), ...(undo ? { undo } : {}), ...(action.lockout ? { lockout: true as const } : {}) };
}

/** What verification found still there (empty `remaining` and `clean: true`: nothing is left). */
export interface SystemVerification {
  system: string;
  clean: boolean;
  remaining: HeldItem[];
}

export interface UndoOutcome {
  key: string;
  state: 'undone' | 'not_undoable' | 'failed';
  detail?: string;
}

export interface Connector {
  /** Short id used in settings, keys and progress: 'keycloak', 'gitea'. */
  readonly id: string;
  /** What people read: 'Keycloak (realm acme)'. */
  readonly label: string;
  /** Start-up check of the URL and credentials; throws ConnectorRefusedError/SystemUnavailableError. */
  check(): Promise<void>;
  /** Reads what the leaver holds; changes nothing. */
  find(leaver: LeaverRef): Promise<SystemHoldings>;
  /** Pure: the actions that would end the leaver's access and hand over what they own. */
  plan(holdings: SystemHoldings, newOwner: NewOwnerRef | null): Promise<PlannedAction[]>;
  /** Carries out one planned action; idempotent (an action already in effect is `already_done`). */
  act(leaver: LeaverRef, action: PlannedAction): Promise<ActionOutcome>;
  /** Re-reads the system: what access or ownership remains. */
  verify(leaver: LeaverRef): Promise<SystemVerification>;
  /** Reverses one done action where the system allows it (sessions cannot be restored). */
  undo(leaver: LeaverRef, outcome: ActionOutcome): Promise<UndoOutcome>;
}

/**
 * The system could not be reached, timed out, answered 5xx or asked to slow down: worth retrying.
 * `retryAfterMs`: how long the system asked to be left alone (its Retry-After), when it said.
 */
export class SystemUnavailableError extends Error {
  override readonly name = 'SystemUnavailableError';
  constructor(
    readonly system: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The system refused in a way retrying cannot fix (credentials, permissions, configuration). */
export class ConnectorRefusedError extends Error {
  override readonly name = 'ConnectorRefusedError';
  constructor(
    readonly system: string,
    message: string,
  ) {
    super(message);
  }
}

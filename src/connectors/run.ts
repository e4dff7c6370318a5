/**
 * How an offboarding uses one connected system, whatever the system: read and plan, carry out the
 * plan, verify, undo. The activities call these; the connectors (one folder per system) do the
 * system's own calls. Values returned are plain JSON for the workflow.
 */
import type { SystemActResult, SystemCheck, SystemPlan } from '../../workflows/offboarding-messages';
import type { ActionOutcome, Connector, HeldItem, LeaverRef, NewOwnerRef, UndoOutcome } from './contract';

/** The most actions a plan lists per system (the rest are counted in a summary line). */
const PLAN_ACTIONS_SHOWN = 100;

const describe = (item: HeldItem): string => `${item.kind.replace(/_/g, ' ')} ${item.name}`;

/** Reads what the leaver holds and what would be done; changes nothing. */
export async function planInSystem(connector: Connector, leaver: LeaverRef, newOwner: NewOwnerRef | null): Promise<SystemPlan> {
  const holdings = await connector.find(leaver);
  const actions = holdings.account ? await connector.plan(holdings, newOwner) : [];
  const shown = actions.slice(0, PLAN_ACTIONS_SHOWN).map((a) => ({ key: a.key, action: a.action, summary: a.summary }));
  if (actions.length > shown.length) shown.push({ key: 'more', action: 'more', summary: `…and ${actions.length - shown.length} more` });
  return { system: connector.id, label: connector.label, account: holdings.account?.name ?? null, actions: shown };
}

/**
 * Carries out the plan as the system stands now (re-read, so a retry finds what an earlier
 * attempt did and a repository created since the plan is included). `onAction` is called after
 * each action (the activity heartbeats there).
 */
export async function actInSystem(connector: Connector, leaver: LeaverRef, newOwner: NewOwnerRef | null, onAction: () => void): Promise<SystemActResult> {
  const holdings = await connector.find(leaver);
  if (!holdings.account) return { system: connector.id, label: connector.label, outcomes: [] };
  const outcomes: ActionOutcome[] = [];
  for (const action of await connector.plan(holdings, newOwner)) {
    outcomes.push(await connector.act(leaver, action));
    onAction();
  }
  return { system: connector.id, label: connector.label, outcomes };
}

/**
 * An immediate lockout in one system: only the plan's lockout-class actions (sign-in, sessions,
 * tokens), carried out at once; transfers and membership removals wait for approval. Each
 * action re-reads the system, so a retry reports what an earlier attempt did as `already_done`.
 */
export async function lockOutInSystem(connector: Connector, leaver: LeaverRef, onAction: () => void): Promise<SystemActResult> {
  const holdings = await connector.find(leaver);
  if (!holdings.account) return { system: connector.id, label: connector.label, outcomes: [] };
  const outcomes: ActionOutcome[] = [];
  for (const action of await connector.plan(holdings, null)) {
    if (!action.lockout) continue;
    outcomes.push(await connector.act(leaver, action));
    onAction();
  }
  return { system: connector.id, label: connector.label, outcomes };
}

/** Re-reads the system: anything the leaver still holds there. */
export async function checkSystem(connector: Connector, leaver: LeaverRef): Promise<SystemCheck> {
  const found = await connector.verify(leaver);
  return { system: connector.id, label: connector.label, clean: found.clean && found.remaining.length === 0, remaining: found.remaining.map(describe) };
}

/** Reverses what was done, last action first, where the system allows it. */
export async function undoInSystem(connector: Connector, leaver: LeaverRef, outcomes: ActionOutcome[], onAction: () => void): Promise<UndoOutcome[]> {
  const undone: UndoOutcome[] = [];
  for (const outcome of [...outcomes].reverse()) {
    if (outcome.state !== 'done') continue;
    undone.push(await connector.undo(leaver, outcome));
    onAction();
  }
  return undone;
}

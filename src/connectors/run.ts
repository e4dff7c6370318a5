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

/** Which of the plan's actions a round carries out. */
export type RoundScope = 'plan' | 'lockout';

/**
 * What a round reports, given what earlier attempts of the same round did (the activity's last
 * heartbeat): an action an earlier attempt did, which this attempt finds already in effect
 * (`already_done`) or no longer finds at all (a group left, a repository moved), keeps the earlier
 * `done` and its undo data, so an undo still reverses it.
 */
function withEarlierAttempts(earlier: readonly ActionOutcome[], now: readonly ActionOutcome[]): ActionOutcome[] {
  const done = new Map(earlier.filter((o) => o.state === 'done').map((o) => [o.key, o]));
  const seen = new Set(now.map((o) => o.key));
  return [...[...done.values()].filter((o) => !seen.has(o.key)), ...now.map((o) => (o.state === 'already_done' ? done.get(o.key) ?? o : o))];
}

/**
 * Carries out one round in a system as it stands now: the whole plan (after approval) or only
 * its lockout-class actions (an immediate lockout: sign-in, sessions, tokens; transfers and
 * membership removals wait for approval). The system is re-read, so a retry finds what an earlier
 * attempt did and a repository created since the plan is included. `progress` is called after
 * each action with everything the round has done so far, earlier attempts included (the activity
 * heartbeats it, and the next attempt starts from it); it is also what an attempt cut short by an
 * error leaves behind.
 */
export async function actInSystem(
  connector: Connector,
  leaver: LeaverRef,
  newOwner: NewOwnerRef | null,
  round: { scope: RoundScope; earlier: readonly ActionOutcome[]; progress: (soFar: ActionOutcome[]) => void },
): Promise<SystemActResult> {
  const holdings = await connector.find(leaver);
  const outcomes: ActionOutcome[] = [];
  if (holdings.account) {
    for (const action of await connector.plan(holdings, newOwner)) {
      if (round.scope === 'lockout' && !action.lockout) continue;
      outcomes.push(await connector.act(leaver, action));
      round.progress(withEarlierAttempts(round.earlier, outcomes));
    }
  }
  return { system: connector.id, label: connector.label, outcomes: withEarlierAttempts(round.earlier, outcomes) };
}

/** Re-reads the system: anything the leaver still holds there. */
export async function checkSystem(connector: Connector, leaver: LeaverRef): Promise<SystemCheck> {
  const found = await connector.verify(leaver);
  return { system: connector.id, label: connector.label, clean: found.clean && found.remaining.length === 0, remaining: found.remaining.map(describe) };
}

/**
 * Reverses what was done, where the system allows it: the lockout-class actions first (the
 * account is given back before anything is handed back to it: a system may take no group member
 * or repository owner who is disabled), then the rest, each last action first.
 */
export async function undoInSystem(connector: Connector, leaver: LeaverRef, outcomes: ActionOutcome[], onAction: () => void): Promise<UndoOutcome[]> {
  const undone: UndoOutcome[] = [];
  const lastFirst = [...outcomes].reverse();
  for (const outcome of [...lastFirst.filter((o) => o.lockout), ...lastFirst.filter((o) => !o.lockout)]) {
    if (outcome.state !== 'done') continue;
    undone.push(await connector.undo(leaver, outcome));
    onAction();
  }
  return undone;
}

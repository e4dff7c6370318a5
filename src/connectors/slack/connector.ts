/**
 * Slack as a system a leaver is offboarded from: their account in the workspace (or Enterprise
 * Grid organization), its signed-in sessions (Grid only: Slack lists and resets sessions through
 * its admin API there) and their user-group memberships.
 *
 * find: the member whose email is exactly the leaver's (users.lookupByEmail), on Grid their
 *   sessions (admin.users.session.list), the user groups listing them (usergroups.list).
 * plan: leave each user group, end every session (Grid), deactivate the account (SCIM 2.0
 *   DELETE /Users/{id}, which also signs them out everywhere). Groups come first: Slack takes no
 *   deactivated member into a group, so the undo can put them back only once they are active.
 * act: re-reads and does one of those; what is already in effect is `already_done`. Ending the
 *   sessions and deactivating are lockout-class: an immediate lockout does them before approval.
 * verify: the account is deactivated (users.info deleted: true) or gone, no session (Grid), no group.
 * undo: reactivates (SCIM PATCH active: true) and puts them back in the groups they left;
 *   sessions stay ended.
 *
 * Slack has no channel owner to hand over: the channels a leaver created stay with the workspace
 * and their members whatever happens to the creator, so nothing is planned for them.
 */
import type { ActionOutcome, Connector, HeldItem, LeaverRef, NewOwnerRef, PlannedAction, SystemHoldings, SystemVerification, UndoOutcome } from '../contract';
import { actionOutcome } from '../contract';
import { SlackApi, SlackRequestError, SYSTEM } from './client';
import type { SlackConnectorOptions } from './options';

interface SlackMember {
  id: string;
  name: string;
  deleted: boolean;
  /** The workspaces they belong to (on Grid, every workspace of the organization they are in). */
  teams: string[];
}

interface Workspace {
  /** An Enterprise Grid organization (the admin session methods exist only there). */
  grid: boolean;
}

type RawUser = { id?: string; team_id?: string; name?: string; deleted?: boolean; profile?: { email?: string }; enterprise_user?: { teams?: string[] } };

function member(user: RawUser | undefined): SlackMember | null {
  if (!user?.id) return null;
  const teams = user.enterprise_user?.teams?.length ? user.enterprise_user.teams : user.team_id ? [user.team_id] : [];
  return { id: user.id, name: user.name ?? user.profile?.email ?? user.id, deleted: user.deleted === true, teams };
}

async function findMember(api: SlackApi, email: string): Promise<SlackMember | null> {
  const wanted = email.trim().toLowerCase();
  try {
    const res = await api.call('the email lookup', (web) => web.users.lookupByEmail({ email: wanted }));
    const user = res.user as RawUser | undefined;
    // Compare again: an account is the leaver's only when its email is exactly theirs.
    return (user?.profile?.email ?? '').toLowerCase() === wanted ? member(user) : null;
  } catch (err) {
    if (err instanceof SlackRequestError && err.code === 'users_not_found') return null;
    throw err;
  }
}

async function readMember(api: SlackApi, userId: string): Promise<SlackMember | null> {
  try {
    return member((await api.call('reading the account', (web) => web.users.info({ user: userId }))).user as RawUser | undefined);
  } catch (err) {
    if (err instanceof SlackRequestError && err.code === 'user_not_found') return null;
    throw err;
  }
}

/** Their sessions in every workspace they belong to (admin.users.session.list takes a user only with a workspace). */
async function sessions(api: SlackApi, user: SlackMember): Promise<HeldItem[]> {
  const items: HeldItem[] = [];
  for (const team of user.teams) {
    let cursor: string | undefined;
    do {
      const res = await api.call('the session list', (web) => web.admin.users.session.list({ user_id: user.id, team_id: team, limit: 1000, ...(cursor ? { cursor } : {}) }));
      for (const s of res.active_sessions ?? []) {
        const from = s.created?.ip ? ` from ${s.created.ip}` : '';
        const device = [s.created?.device_hardware, s.created?.os].filter(Boolean).join(', ');
        items.push({ kind: 'session', id: `${team}:${s.session_id}`, name: `session${from}${device ? ` (${device})` : ''}` });
      }
      cursor = res.response_metadata?.next_cursor || undefined;
    } while (cursor);
  }
  return items;
}

async function groups(api: SlackApi, userId: string): Promise<HeldItem[]> {
  const res = await api.call('the user group list', (web) => web.usergroups.list({ include_users: true }));
  return (res.usergroups ?? [])
    .filter((g) => g.id && (g.users ?? []).includes(userId))
    .map((g) => ({ kind: 'group', id: g.id!, name: `@${g.handle ?? g.name ?? g.id}` }));
}

async function groupMembers(api: SlackApi, groupId: string): Promise<string[]> {
  return (await api.call('the user group members', (web) => web.usergroups.users.list({ usergroup: groupId }))).users ?? [];
}

async function setGroupMembers(api: SlackApi, groupId: string, users: string[], what: string): Promise<void> {
  await api.call(what, (web) => web.usergroups.users.update({ usergroup: groupId, users: users.join(',') }));
}

export function createSlackConnector(options: SlackConnectorOptions): Connector {
  const api = new SlackApi(options);
  let workspace: Promise<Workspace> | undefined;

  /** auth.test, once per connector (again after a failure): proves the token and tells Grid from a workspace. */
  const readWorkspace = (): Promise<Workspace> => {
    workspace ??= api
      .call('the token check', (web) => web.auth.test())
      .then((res) => ({ grid: typeof res.enterprise_id === 'string' && res.enterprise_id !== '' }))
      .catch((err: unknown) => {
        workspace = undefined;
        throw err;
      });
    return workspace;
  };

  /** Runs one step; an answer such as user_not_found becomes a failed outcome, the contract's errors propagate. */
  const attempt = async (action: PlannedAction, step: () => Promise<ActionOutcome>): Promise<ActionOutcome> => {
    try {
      return await step();
    } catch (err) {
      if (err instanceof SlackRequestError) return actionOutcome(action, 'failed', err.message);
      throw err;
    }
  };

  return {
    id: SYSTEM,
    label: 'Slack',

    async check() {
      await readWorkspace();
    },

    async find(leaver: LeaverRef): Promise<SystemHoldings> {
      const { grid } = await readWorkspace();
      const user = await findMember(api, leaver.email);
      if (!user) return { system: SYSTEM, account: null, items: [] };
      const [s, g] = await Promise.all([grid && !user.deleted ? sessions(api, user) : Promise.resolve([]), groups(api, user.id)]);
      return {
        system: SYSTEM,
        account: { id: user.id, name: user.name, enabled: !user.deleted },
        items: [{ kind: 'account', id: user.id, name: user.name }, ...s, ...g],
      };
    },

    async plan(holdings: SystemHoldings, _newOwner: NewOwnerRef | null): Promise<PlannedAction[]> {
      const account = holdings.account;
      if (!account) return [];
      const { grid } = await readWorkspace();
      const target: HeldItem = { kind: 'account', id: account.id, name: account.name };
      const key = (...parts: string[]) => [SYSTEM, account.id, ...parts].join(':');
      const actions: PlannedAction[] = [];
      for (const item of holdings.items) {
        if (item.kind === 'group') {
          actions.push({ system: SYSTEM, key: key('remove_membership', item.id), action: 'remove_membership', target: item, summary: `remove ${account.name} from the Slack user group ${item.name}` });
        }
      }
      // On Grid, planned even without a session found: one may start before the account is deactivated.
      if (grid && (account.enabled || holdings.items.some((i) => i.kind === 'session'))) {
        actions.push({ system: SYSTEM, key: key('end_sessions'), action: 'end_sessions', target, summary: `sign ${account.name} out of every Slack session`, lockout: true });
      }
      if (account.enabled) {
        actions.push({ system: SYSTEM, key: key('deactivate_account'), action: 'deactivate_account', target, summary: `deactivate the Slack account ${account.name}${grid ? '' : ' (which signs them out everywhere)'}`, lockout: true });
      }
      return actions;
    },

    async act(leaver: LeaverRef, action: PlannedAction): Promise<ActionOutcome> {
      return attempt(action, async () => {
        const user = await findMember(api, leaver.email);
        if (!user) return actionOutcome(action, 'already_done', 'no Slack account has this email any more');
        switch (action.action) {
          case 'remove_membership': {
            const groupId = action.target.id;
            const members = await groupMembers(api, groupId);
            if (!members.includes(user.id)) return actionOutcome(action, 'already_done', `not a member of ${action.target.name}`);
            const others = members.filter((id) => id !== user.id);
            if (others.length === 0) {
              // usergroups.users.update replaces the whole list and requires at least one member in it.
              return actionOutcome(action, 'failed', `${user.name} is the only member of ${action.target.name}, and Slack sets a user group's members only to a list of at least one: add someone or disable the group, then retry`);
            }
            await setGroupMembers(api, groupId, others, 'leaving the user group');
            return actionOutcome(action, 'done', undefined, { userId: user.id, groupId });
          }
          case 'end_sessions': {
            if (user.deleted) return actionOutcome(action, 'already_done', 'the account is deactivated, which ended its sessions');
            const open = await sessions(api, user);
            if (open.length === 0) return actionOutcome(action, 'already_done', 'no session is open');
            await api.call('the session reset', (web) => web.admin.users.session.reset({ user_id: user.id }));
            return actionOutcome(action, 'done', `${open.length} session(s) ended`);
          }
          case 'deactivate_account': {
            if (user.deleted) return actionOutcome(action, 'already_done', 'the account is already deactivated');
            const answer = await api.scimUser('DELETE', user.id, 'the deactivation');
            if (answer === null) {
              // SCIM does not know the id (any more): only a re-read tells whether it is deactivated.
              const now = await readMember(api, user.id);
              return now === null || now.deleted ? actionOutcome(action, 'already_done', 'the account is already deactivated') : actionOutcome(action, 'failed', `Slack's SCIM API does not know the account ${user.id}`);
            }
            return actionOutcome(action, 'done', undefined, { userId: user.id });
          }
          default:
            return actionOutcome(action, 'failed', `the Slack connector has no action "${action.action}"`);
        }
      });
    },

    async verify(leaver: LeaverRef): Promise<SystemVerification> {
      const { grid } = await readWorkspace();
      const found = await findMember(api, leaver.email);
      // Re-read by id: the account's own record says whether it is deactivated.
      const user = found ? await readMember(api, found.id) : null;
      if (!user) return { system: SYSTEM, clean: true, remaining: [] };
      const [s, g] = await Promise.all([grid ? sessions(api, user) : Promise.resolve([]), groups(api, user.id)]);
      const remaining: HeldItem[] = [...(user.deleted ? [] : [{ kind: 'account', id: user.id, name: `${user.name} (active)` }]), ...s, ...g];
      return { system: SYSTEM, clean: remaining.length === 0, remaining };
    },

    async undo(_leaver: LeaverRef, done: ActionOutcome): Promise<UndoOutcome> {
      const result = (state: UndoOutcome['state'], detail?: string): UndoOutcome => ({ key: done.key, state, ...(detail ? { detail } : {}) });
      if (done.state !== 'done' || !done.undo?.userId) {
        return result('not_undoable', done.action === 'end_sessions' ? 'ended sessions cannot be restored' : 'nothing was changed by this action');
      }
      const userId = done.undo.userId;
      try {
        if (done.action === 'deactivate_account') {
          const user = await readMember(api, userId);
          if (!user) return result('failed', 'the Slack account no longer exists');
          if (!user.deleted) return result('undone', 'the account was already active');
          const answer = await api.scimUser('PATCH', userId, 'the reactivation', {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [{ op: 'replace', path: 'active', value: true }],
          });
          return answer === null ? result('failed', `Slack's SCIM API does not know the account ${userId}`) : result('undone');
        }
        if (done.action === 'remove_membership' && done.undo.groupId) {
          const groupId = done.undo.groupId;
          const members = await groupMembers(api, groupId);
          if (members.includes(userId)) return result('undone', 'already a member again');
          await setGroupMembers(api, groupId, [...members, userId], 'restoring the user group membership');
          return result('undone');
        }
        return result('not_undoable');
      } catch (err) {
        if (err instanceof SlackRequestError) return result('failed', err.message);
        throw err;
      }
    },
  };
}

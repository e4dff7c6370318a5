/**
 * Keycloak as an identity provider a leaver is offboarded from: their account in one realm, its
 * sessions, the offline tokens and consents granted to clients, and their group memberships.
 *
 * find: the user whose email is exactly the leaver's; their sessions, the clients holding an
 *   offline token or a consent of theirs (Keycloak lists both under consents), their groups.
 * plan: disable the account, end every session, revoke each client's offline tokens and consent,
 *   remove each group membership (disabling first, so no new sign-in slips in between). The
 *   first three (disable, end sessions, revoke offline tokens) are lockout-class: an immediate
 *   lockout does them before approval.
 * act: re-reads and does one of those; what is already in effect is `already_done`.
 * verify: nothing of the above remains (no account enabled, no session, no grant, no group).
 * undo: enables the account again and gives back the groups; sessions and tokens stay ended.
 */
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type {
  ActionOutcome,
  Connector,
  HeldItem,
  LeaverRef,
  NewOwnerRef,
  PlannedAction,
  SystemHoldings,
  SystemVerification,
  UndoOutcome,
} from '../contract';
import { actionOutcome } from '../contract';
import { KeycloakApi, KeycloakRequestError, SYSTEM } from './client';
import type { KeycloakConnectorOptions } from './options';

const OFFLINE_TOKEN_GRANT = 'Offline Token';

type Kc = KeycloakApi;
type UserRepresentation = Awaited<ReturnType<KcAdminClient['users']['find']>>[number];

/** PUT users/{id} takes the whole representation: a partial one may clear what it leaves out. */
async function setEnabled(api: Kc, user: UserRepresentation, enabled: boolean, what: string): Promise<void> {
  await api.call(what, (kc) => kc.users.update({ id: user.id! }, { ...user, enabled }));
}

async function findUser(api: Kc, email: string): Promise<UserRepresentation | null> {
  const wanted = email.trim().toLowerCase();
  const users = await api.call('the user search', (kc) => kc.users.find({ email: wanted, exact: true, briefRepresentation: false }));
  // exact=true matches case-insensitively on Keycloak's lower-cased email; compare again to be sure.
  return users.find((u) => u.id && (u.email ?? '').toLowerCase() === wanted) ?? null;
}

async function sessions(api: Kc, userId: string): Promise<HeldItem[]> {
  const list = await api.call('the session list', (kc) => kc.users.listSessions({ id: userId }));
  return list.map((s) => ({
    kind: 'session',
    id: s.id!,
    name: `session from ${s.ipAddress ?? 'an unknown address'}${s.clients && Object.keys(s.clients).length ? ` (${Object.values(s.clients).join(', ')})` : ''}`,
  }));
}

/** Clients holding an offline token or a consent of the user's (one item per client, by clientId). */
async function grants(api: Kc, userId: string): Promise<HeldItem[]> {
  const list = await api.call('the consent list', (kc) => kc.users.listConsents({ id: userId }));
  return list
    .filter((c) => c.clientId)
    .map((c) => {
      // The server adds additionalGrants (the library's type omits it): [{ key: 'Offline Token' }].
      const extra = (c as { additionalGrants?: Array<{ key?: string }> }).additionalGrants ?? [];
      const offline = extra.some((g) => g.key === OFFLINE_TOKEN_GRANT);
      return { kind: offline ? 'offline_token' : 'consent', id: c.clientId!, name: c.clientId! };
    });
}

async function groups(api: Kc, userId: string): Promise<HeldItem[]> {
  const list = await api.call('the group list', (kc) => kc.users.listGroups({ id: userId, briefRepresentation: true }));
  return list.map((g) => ({ kind: 'group', id: g.id!, name: g.path ?? g.name ?? g.id! }));
}

function accountName(user: UserRepresentation): string {
  return user.username ?? user.email ?? user.id!;
}

export function createKeycloakConnector(options: KeycloakConnectorOptions): Connector {
  const api = new KeycloakApi(options);
  const label = `Keycloak (realm ${options.realm})`;

  /** Runs one step; an answer such as 404 or 409 becomes a failed outcome, the contract's errors propagate. */
  const attempt = async (action: PlannedAction, step: () => Promise<ActionOutcome>): Promise<ActionOutcome> => {
    try {
      return await step();
    } catch (err) {
      if (err instanceof KeycloakRequestError) return actionOutcome(action, 'failed', err.message);
      throw err;
    }
  };

  return {
    id: SYSTEM,
    label,

    async check() {
      // Signs in and reads one user: proves the URL, the credentials and the view permission.
      await api.call('the start-up check', (kc) => kc.users.find({ max: 1, briefRepresentation: true }));
    },

    async find(leaver: LeaverRef): Promise<SystemHoldings> {
      const user = await findUser(api, leaver.email);
      if (!user) return { system: SYSTEM, account: null, items: [] };
      const [s, g, m] = await Promise.all([sessions(api, user.id!), grants(api, user.id!), groups(api, user.id!)]);
      return {
        system: SYSTEM,
        account: { id: user.id!, name: accountName(user), enabled: user.enabled !== false },
        items: [{ kind: 'account', id: user.id!, name: accountName(user) }, ...s, ...g, ...m],
      };
    },

    async plan(holdings: SystemHoldings, _newOwner: NewOwnerRef | null): Promise<PlannedAction[]> {
      const account = holdings.account;
      if (!account) return [];
      const target: HeldItem = { kind: 'account', id: account.id, name: account.name };
      const key = (...parts: string[]) => [SYSTEM, account.id, ...parts].join(':');
      const actions: PlannedAction[] = [];
      if (account.enabled) {
        actions.push({ system: SYSTEM, key: key('disable_account'), action: 'disable_account', target, summary: `disable the Keycloak account ${account.name}`, lockout: true });
      }
      // Planned even without a session found: one may start before the account is disabled.
      actions.push({ system: SYSTEM, key: key('end_sessions'), action: 'end_sessions', target, summary: `sign ${account.name} out of every Keycloak session`, lockout: true });
      for (const item of holdings.items) {
        if (item.kind === 'offline_token' || item.kind === 'consent') {
          const action = item.kind === 'offline_token' ? 'revoke_offline_tokens' : 'revoke_consents';
          const what = item.kind === 'offline_token' ? 'offline tokens and consent' : 'consent';
          // An offline token is a way in (lockout-class); a bare consent grants nothing without a session.
          actions.push({ system: SYSTEM, key: key(action, item.id), action, target: item, summary: `revoke the ${what} ${account.name} gave client ${item.name}`, ...(item.kind === 'offline_token' ? { lockout: true as const } : {}) });
        } else if (item.kind === 'group') {
          actions.push({ system: SYSTEM, key: key('remove_membership', item.id), action: 'remove_membership', target: item, summary: `remove ${account.name} from the Keycloak group ${item.name}` });
        }
      }
      return actions;
    },

    async act(leaver: LeaverRef, action: PlannedAction): Promise<ActionOutcome> {
      return attempt(action, async () => {
        const user = await findUser(api, leaver.email);
        if (!user) return actionOutcome(action, 'already_done', 'no Keycloak account has this email any more');
        const id = user.id!;
        switch (action.action) {
          case 'disable_account':
            if (user.enabled === false) return actionOutcome(action, 'already_done', 'the account is already disabled');
            await setEnabled(api, user, false, 'disabling the account');
            return actionOutcome(action, 'done', undefined, { userId: id });
          case 'end_sessions': {
            const open = await sessions(api, id);
            if (open.length === 0) return actionOutcome(action, 'already_done', 'no session is open');
            await api.call('the logout', (kc) => kc.users.logout({ id }));
            return actionOutcome(action, 'done', `${open.length} session(s) ended`);
          }
          case 'revoke_offline_tokens':
          case 'revoke_consents': {
            const held = (await grants(api, id)).some((g) => g.id === action.target.id);
            if (!held) return actionOutcome(action, 'already_done', `client ${action.target.name} holds no token or consent of theirs`);
            await api.call('revoking the consent', (kc) => kc.users.revokeConsent({ id, clientId: action.target.id }));
            return actionOutcome(action, 'done');
          }
          case 'remove_membership': {
            const member = (await groups(api, id)).some((g) => g.id === action.target.id);
            if (!member) return actionOutcome(action, 'already_done', `not a member of ${action.target.name}`);
            await api.call('removing the group membership', (kc) => kc.users.delFromGroup({ id, groupId: action.target.id }));
            return actionOutcome(action, 'done', undefined, { userId: id, groupId: action.target.id });
          }
          default:
            return actionOutcome(action, 'failed', `the Keycloak connector has no action "${action.action}"`);
        }
      });
    },

    async verify(leaver: LeaverRef): Promise<SystemVerification> {
      const user = await findUser(api, leaver.email);
      if (!user) return { system: SYSTEM, clean: true, remaining: [] };
      const [s, g, m] = await Promise.all([sessions(api, user.id!), grants(api, user.id!), groups(api, user.id!)]);
      const remaining: HeldItem[] = [
        ...(user.enabled !== false ? [{ kind: 'account', id: user.id!, name: `${accountName(user)} (enabled)` }] : []),
        ...s,
        ...g,
        ...m,
      ];
      return { system: SYSTEM, clean: remaining.length === 0, remaining };
    },

    async undo(leaver: LeaverRef, done: ActionOutcome): Promise<UndoOutcome> {
      const result = (state: UndoOutcome['state'], detail?: string): UndoOutcome => ({ key: done.key, state, ...(detail ? { detail } : {}) });
      if (done.state !== 'done' || !done.undo?.userId) {
        return result('not_undoable', done.action === 'end_sessions' || done.action.startsWith('revoke_') ? 'ended sessions and revoked tokens cannot be restored' : 'nothing was changed by this action');
      }
      const id = done.undo.userId;
      try {
        if (done.action === 'disable_account') {
          const user = await api.call('reading the account', (kc) => kc.users.findOne({ id }));
          if (!user) return result('failed', 'the Keycloak account no longer exists');
          if (user.enabled !== false) return result('undone', 'the account was already enabled');
          await setEnabled(api, user, true, 'enabling the account');
          return result('undone');
        }
        if (done.action === 'remove_membership' && done.undo.groupId) {
          const groupId = done.undo.groupId;
          await api.call('restoring the group membership', (kc) => kc.users.addToGroup({ id, groupId }));
          return result('undone');
        }
        return result('not_undoable');
      } catch (err) {
        if (err instanceof KeycloakRequestError) return result('failed', err.message);
        throw err;
      }
    },
  };
}

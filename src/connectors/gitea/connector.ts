/**
 * The Gitea connector: a leaver's repositories go to the offboarding's new owner, their
 * organization memberships end, and their account may no longer sign in.
 *
 * find     the account holding the leaver's email (admin email search), the repositories it
 *          owns, its organizations and its teams in them.
 * plan     one `transfer` per owned repository (to the new owner's Gitea account, found by email;
 *          else GITEA_FALLBACK_OWNER; else planned with the reason it will fail), one
 *          `remove_membership` per organization, and `prohibit_login` (Gitea then refuses the
 *          account's access tokens too; an administrator cannot delete another user's tokens).
 *          Only `prohibit_login` is lockout-class (done at once by an immediate lockout).
 * act      re-reads before each step; an effect already in place is `already_done`.
 * verify   no repository owned, no organization, sign-in prohibited.
 * undo     hands moved repositories back, restores team memberships, allows sign-in again.
 */
import {
  actionOutcome,
  ConnectorRefusedError,
  type ActionOutcome,
  type Connector,
  type HeldItem,
  type LeaverRef,
  type NewOwnerRef,
  type PlannedAction,
  type SystemHoldings,
  type SystemVerification,
  type UndoOutcome,
} from '../contract';
import { GiteaApiError, GiteaClient, type GiteaUser } from './client';
import { DEFAULT_GITEA_TIMEOUT_MS, type GiteaConnectorOptions } from './options';

const SYSTEM = 'gitea';

type Recipient = { name: string; isUser: boolean } | { name?: undefined; reason: string };

export function createGiteaConnector(options: GiteaConnectorOptions): Connector {
  const client = new GiteaClient({ url: options.url, token: options.token, timeoutMs: options.timeoutMs ?? DEFAULT_GITEA_TIMEOUT_MS });
  const host = safeHost(options.url);

  async function leaverAccount(leaver: LeaverRef): Promise<GiteaUser | null> {
    return client.userByEmail(leaver.email);
  }

  /** Who receives the leaver's repositories: the new owner's account, else the fallback owner. */
  async function recipient(leaverId: number, newOwner: NewOwnerRef | null): Promise<Recipient> {
    const account = newOwner ? await client.userByEmail(newOwner.email) : null;
    if (account && account.id !== leaverId) return { name: account.login, isUser: true };
    const nobody = newOwner ? `${newOwner.email} has no Gitea account` : 'the offboarding names no new owner';
    if (!options.fallbackOwner) return { reason: `${nobody} and GITEA_FALLBACK_OWNER is not set` };
    return { name: options.fallbackOwner, isUser: !(await client.isOrganization(options.fallbackOwner)) };
  }

  async function transfer(user: GiteaUser, action: PlannedAction): Promise<ActionOutcome> {
    // Planned without a recipient: the summary says why.
    if (!action.to) return actionOutcome(action, 'failed', action.summary);
    const to = action.to;
    const repo = await client.repository(action.target.id);
    if (!repo) return actionOutcome(action, 'failed', `repository ${action.target.name} (#${action.target.id}) no longer exists`);
    const undo = { repository_id: String(repo.id), from: user.login, to };
    if (same(repo.owner.login, to)) return actionOutcome(action, 'already_done', `${repo.full_name} belongs to ${to}`, undo);
    if (repo.owner.id !== user.id) return actionOutcome(action, 'failed', `${repo.full_name} now belongs to ${repo.owner.login}, not to ${user.login}; left alone`);
    if (repo.repo_transfer) {
      const pendingTo = repo.repo_transfer.recipient?.login ?? 'someone';
      return actionOutcome(action, 'failed', `a transfer of ${repo.full_name} to ${pendingTo} is waiting for ${pendingTo} to accept it`);
    }
    const res = await client.call<{ full_name?: string }>('POST', `/repos/${encodeURIComponent(repo.owner.login)}/${encodeURIComponent(repo.name)}/transfer`, {
      body: { new_owner: to },
      allow: [403, 404, 409, 422],
    });
    switch (res.status) {
      case 202:
        return actionOutcome(action, 'done', `${repo.full_name} now belongs to ${to}`, undo);
      case 201:
        // Only a site administrator's transfer completes at once; anyone else's waits for the recipient.
        return actionOutcome(action, 'failed', `the transfer of ${repo.full_name} to ${to} was only proposed (the token's user is not a site administrator); it completes when ${to} accepts it`);
      case 403:
        if (/scope/i.test(res.message)) throw new ConnectorRefusedError(SYSTEM, `Gitea refused the transfer of ${repo.full_name} (403): ${res.message}`);
        return actionOutcome(action, 'failed', `Gitea refused to transfer ${repo.full_name} to ${to}: ${res.message}`);
      case 404:
        return actionOutcome(action, 'failed', `${to} is not a Gitea user or organization`);
      case 409:
        return actionOutcome(action, 'failed', `a transfer of ${repo.full_name} is already pending`);
      case 422:
        return actionOutcome(action, 'failed', `${to} cannot receive ${repo.full_name}: ${res.message}`);
      default:
        return actionOutcome(action, 'failed', `Gitea answered ${res.status} to the transfer of ${repo.full_name}: ${res.message}`);
    }
  }

  async function removeMembership(user: GiteaUser, action: PlannedAction): Promise<ActionOutcome> {
    const org = action.target.name;
    if (!(await client.isOrganization(org))) return actionOutcome(action, 'already_done', `organization ${org} no longer exists`);
    if (!(await client.isOrgMember(org, user.login))) return actionOutcome(action, 'already_done', `${user.login} is not a member of ${org}`);
    const teams = await client.teamsOf(org, user.login);
    const undo: Record<string, string> = { organization: org, teams: teams.map((t) => t.id).join(',') };
    // Gitea refuses (with a 500) to remove the last member of an organization's owner team: hand
    // the organization to the leaver's successor first, or say why it cannot be done.
    for (const team of teams.filter((t) => t.permission === 'owner')) {
      const others = (await client.teamMembers(team.id)).filter((m) => m.id !== user.id);
      if (others.length > 0) continue;
      if (!action.to) {
        return actionOutcome(action, 'failed', `${user.login} is the last owner of organization ${org} and there is nobody to hand it to; make someone else an owner of ${org} first`);
      }
      const added = await client.call('PUT', `/teams/${team.id}/members/${encodeURIComponent(action.to)}`, { allow: [404, 422] });
      if (added.status >= 300) return actionOutcome(action, 'failed', `${user.login} is the last owner of ${org} and ${action.to} could not be made an owner: ${added.message}`);
      undo.owner_added = action.to;
      undo.owner_team = String(team.id);
    }
    await client.call('DELETE', `/orgs/${encodeURIComponent(org)}/members/${encodeURIComponent(user.login)}`);
    const handed = undo.owner_added ? `; ${undo.owner_added} is now an owner of ${org}` : '';
    return actionOutcome(action, 'done', `${user.login} left ${org} (teams: ${teams.map((t) => t.name).join(', ') || 'none'})${handed}`, undo);
  }

  async function setProhibitLogin(user: GiteaUser, prohibit: boolean): Promise<'done' | 'already_done'> {
    if (!!user.prohibit_login === prohibit) return 'already_done';
    // Gitea's admin edit requires login_name; a local account's is empty, its user name serves.
    await client.call('PATCH', `/admin/users/${encodeURIComponent(user.login)}`, {
      body: { prohibit_login: prohibit, login_name: user.login_name || user.login, source_id: user.source_id ?? 0 },
    });
    return 'done';
  }

  const connector: Connector = {
    id: SYSTEM,
    label: `Gitea (${host})`,

    async check() {
      const me = await client.me();
      if (!me.is_admin) throw new ConnectorRefusedError(SYSTEM, `the Gitea token belongs to ${me.login}, who is not a site administrator`);
      // The admin scope is what the email search needs; a token without it is refused here.
      await client.call('GET', '/admin/emails/search', { query: { q: 'tenure-check', limit: 1 } });
      if (options.fallbackOwner && !(await client.user(options.fallbackOwner))) {
        throw new ConnectorRefusedError(SYSTEM, `GITEA_FALLBACK_OWNER names ${options.fallbackOwner}, which is not a Gitea user or organization`);
      }
    },

    async find(leaver) {
      const user = await leaverAccount(leaver);
      if (!user) return { system: SYSTEM, account: null, items: [] };
      const items: HeldItem[] = [];
      for (const repo of await client.ownedRepositories(user)) items.push({ kind: 'repository', id: String(repo.id), name: repo.full_name });
      for (const org of await client.organizationsOf(user.login)) {
        items.push({ kind: 'organization', id: String(org.id), name: org.name });
        for (const team of await client.teamsOf(org.name, user.login)) items.push({ kind: 'team', id: String(team.id), name: `${org.name}/${team.name}` });
      }
      return { system: SYSTEM, account: { id: String(user.id), name: user.login, enabled: !user.prohibit_login }, items };
    },

    async plan(holdings: SystemHoldings, newOwner: NewOwnerRef | null) {
      const account = holdings.account;
      if (!account) return [];
      const repos = holdings.items.filter((i) => i.kind === 'repository');
      const orgs = holdings.items.filter((i) => i.kind === 'organization');
      // Reads only: who would receive what the leaver owns.
      const to: Recipient = repos.length > 0 || orgs.length > 0 ? await recipient(Number(account.id), newOwner) : { reason: 'nothing to hand over' };
      const actions: PlannedAction[] = [];
      for (const repo of repos) {
        actions.push({
          system: SYSTEM,
          key: `transfer:repository:${repo.id}`,
          action: 'transfer',
          target: repo,
          ...(to.name ? { to: to.name } : {}),
          summary: to.name ? `transfer repository ${repo.name} to ${to.name}` : `transfer repository ${repo.name}: nobody to receive it (${'reason' in to ? to.reason : ''})`,
        });
      }
      for (const org of orgs) {
        const teams = holdings.items.filter((i) => i.kind === 'team' && i.name.startsWith(`${org.name}/`)).map((i) => i.name.slice(org.name.length + 1));
        const successor = to.name && 'isUser' in to && to.isUser ? to.name : undefined;
        actions.push({
          system: SYSTEM,
          key: `remove_membership:organization:${org.id}`,
          action: 'remove_membership',
          target: org,
          ...(successor ? { to: successor } : {}),
          summary: `remove ${account.name} from organization ${org.name}${teams.length ? ` (teams: ${teams.join(', ')})` : ''}`,
        });
      }
      actions.push({
        system: SYSTEM,
        key: `prohibit_login:account:${account.id}`,
        action: 'prohibit_login',
        target: { kind: 'account', id: account.id, name: account.name },
        summary: `prohibit ${account.name} from signing in to Gitea (their access tokens stop working too)`,
        lockout: true,
      });
      return actions;
    },

    async act(leaver, action) {
      const user = await leaverAccount(leaver);
      if (!user) return actionOutcome(action, 'failed', `no Gitea account holds ${leaver.email} any more`);
      try {
        switch (action.action) {
          case 'transfer':
            return await transfer(user, action);
          case 'remove_membership':
            return await removeMembership(user, action);
          case 'prohibit_login': {
            const state = await setProhibitLogin(user, true);
            // Only a prohibition this process made is lifted by undo: an account that was already
            // barred (by an administrator, or by an earlier offboarding) stays barred.
            return state === 'done'
              ? actionOutcome(action, 'done', `${user.login} can no longer sign in`, { username: user.login })
              : actionOutcome(action, 'already_done', `${user.login} was already prohibited from signing in`);
          }
          default:
            return actionOutcome(action, 'failed', `the Gitea connector does not know the action "${action.action}"`);
        }
      } catch (err) {
        if (err instanceof GiteaApiError) return actionOutcome(action, 'failed', err.message);
        throw err;
      }
    },

    async verify(leaver): Promise<SystemVerification> {
      const user = await leaverAccount(leaver);
      if (!user) return { system: SYSTEM, clean: true, remaining: [] };
      const remaining: HeldItem[] = [];
      if (!user.prohibit_login) remaining.push({ kind: 'account', id: String(user.id), name: user.login });
      for (const repo of await client.ownedRepositories(user)) remaining.push({ kind: 'repository', id: String(repo.id), name: repo.full_name });
      for (const org of await client.organizationsOf(user.login)) remaining.push({ kind: 'organization', id: String(org.id), name: org.name });
      return { system: SYSTEM, clean: remaining.length === 0, remaining };
    },

    async undo(leaver, done): Promise<UndoOutcome> {
      const result = (state: UndoOutcome['state'], detail?: string): UndoOutcome => ({ key: done.key, state, ...(detail ? { detail } : {}) });
      if ((done.state !== 'done' && done.state !== 'already_done') || !done.undo) return result('not_undoable', 'nothing this process did to reverse');
      const user = await leaverAccount(leaver);
      if (!user) return result('failed', `no Gitea account holds ${leaver.email} any more`);
      try {
        switch (done.action) {
          case 'transfer':
            return await undoTransfer(user, done.undo, result);
          case 'remove_membership': {
            const failures: string[] = [];
            for (const id of (done.undo.teams ?? '').split(',').filter(Boolean)) {
              const res = await client.call('PUT', `/teams/${Number(id)}/members/${encodeURIComponent(user.login)}`, { allow: [404, 422] });
              if (res.status >= 300) failures.push(`team #${id}: ${res.message}`);
            }
            if (done.undo.owner_added && done.undo.owner_team && failures.length === 0) {
              await client.call('DELETE', `/teams/${Number(done.undo.owner_team)}/members/${encodeURIComponent(done.undo.owner_added)}`, { allow: [404] });
            }
            return failures.length ? result('failed', `could not rejoin ${done.undo.organization}: ${failures.join('; ')}`) : result('undone', `${user.login} is back in ${done.undo.organization}`);
          }
          case 'prohibit_login':
            await setProhibitLogin(user, false);
            return result('undone', `${user.login} can sign in again`);
          default:
            return result('not_undoable', `the Gitea connector does not know the action "${done.action}"`);
        }
      } catch (err) {
        if (err instanceof GiteaApiError) return result('failed', err.message);
        throw err;
      }
    },
  };

  async function undoTransfer(user: GiteaUser, undo: Record<string, string>, result: (state: UndoOutcome['state'], detail?: string) => UndoOutcome): Promise<UndoOutcome> {
    const repo = undo.repository_id ? await client.repository(undo.repository_id) : undefined;
    if (!repo) return result('failed', `repository #${undo.repository_id} no longer exists`);
    if (repo.owner.id === user.id) return result('undone', `${repo.full_name} belongs to ${user.login}`);
    if (!undo.to || !same(repo.owner.login, undo.to)) return result('failed', `${repo.full_name} now belongs to ${repo.owner.login}, not ${undo.to}; left alone`);
    const res = await client.call('POST', `/repos/${encodeURIComponent(repo.owner.login)}/${encodeURIComponent(repo.name)}/transfer`, {
      body: { new_owner: user.login },
      allow: [403, 404, 409, 422],
    });
    if (res.status === 202) return result('undone', `${repo.owner.login}/${repo.name} handed back to ${user.login}`);
    if (res.status === 201) return result('failed', `the transfer back to ${user.login} was only proposed; it completes when ${user.login} accepts it`);
    return result('failed', `Gitea answered ${res.status} to handing ${repo.full_name} back: ${res.message}`);
  }

  return connector;
}

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

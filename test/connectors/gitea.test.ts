/**
 * The Gitea connector against a real Gitea 1.26 (built once from the Go module proxy, cached).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorRefusedError, SystemUnavailableError, type ActionOutcome, type Connector, type LeaverRef } from '../../src/connectors/contract';
import { createGiteaConnector } from '../../src/connectors/gitea';
import { startTestGitea, type GiteaTestUser, type TestGitea } from '../helpers/gitea';

let gitea: TestGitea;
let connector: Connector;
let serial = 0;

beforeAll(async () => {
  gitea = await startTestGitea();
  connector = createGiteaConnector({ url: gitea.url, token: gitea.adminToken, timeoutMs: 5_000 });
}, 30 * 60_000);

afterAll(async () => {
  await gitea?.close();
});

/** Fresh names per test: every test seeds its own people in the one server. */
async function person(label: string): Promise<GiteaTestUser & { ref: LeaverRef }> {
  serial += 1;
  const username = `${label}${serial}`;
  const email = `${username}@example.com`;
  const user = await gitea.createUser({ username, email });
  return { ...user, ref: { userId: `tenure-${username}`, email } };
}

async function ownerOf(repoId: number): Promise<string> {
  const res = await gitea.api<{ owner: { login: string } }>('GET', `/repositories/${repoId}`);
  expect(res.status).toBe(200);
  return res.body.owner.login;
}

async function actAll(c: Connector, leaver: LeaverRef, newOwner: { email: string } | null): Promise<ActionOutcome[]> {
  const holdings = await c.find(leaver);
  const plan = await c.plan(holdings, newOwner && { userId: 'tenure-new-owner', email: newOwner.email });
  const outcomes: ActionOutcome[] = [];
  for (const action of plan) outcomes.push(await c.act(leaver, action));
  return outcomes;
}

describe('Gitea connector', () => {
  it('checks its credentials: an administrator token passes', async () => {
    await expect(connector.check()).resolves.toBeUndefined();
    expect(connector.id).toBe('gitea');
    expect(connector.label).toContain('127.0.0.1');
  });

  it('offboards a leaver: repositories to the new owner, out of every organization, sign-in and tokens refused; verify clean', async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    const carol = await person('carol');
    const api = await gitea.createRepo(alice.username, 'api');
    const secret = await gitea.createRepo(alice.username, 'secret', { private: true });
    const others = await gitea.createRepo(carol.username, 'not-hers');
    // acme has another owner (carol); solo's only owner is alice, so it goes to bob.
    const acme = await gitea.createOrg(carol.username, `acme${serial}`);
    const devs = await gitea.createTeam(acme.name, 'devs');
    await gitea.addTeamMember(devs.id, alice.username);
    const solo = await gitea.createOrg(alice.username, `solo${serial}`);
    const aliceToken = await gitea.userToken(alice);
    expect((await gitea.api('GET', '/user', undefined, aliceToken)).status).toBe(200);

    // Found by email whatever its case.
    const holdings = await connector.find({ ...alice.ref, email: alice.email.toUpperCase() });
    expect(holdings.account).toEqual({ id: String(alice.id), name: alice.username, enabled: true });
    expect(holdings.items).toEqual(
      expect.arrayContaining([
        { kind: 'repository', id: String(api.id), name: api.fullName },
        { kind: 'repository', id: String(secret.id), name: secret.fullName },
        { kind: 'organization', id: String(acme.id), name: acme.name },
        { kind: 'team', id: String(devs.id), name: `${acme.name}/devs` },
        { kind: 'organization', id: String(solo.id), name: solo.name },
      ]),
    );
    expect(holdings.items.some((i) => i.kind === 'repository' && i.id === String(others.id))).toBe(false);

    const plan = await connector.plan(holdings, { userId: 'tenure-bob', email: bob.email });
    expect(plan.map((a) => [a.action, a.target.name, a.to])).toEqual(
      expect.arrayContaining([
        ['transfer', api.fullName, bob.username],
        ['transfer', secret.fullName, bob.username],
        ['remove_membership', acme.name, bob.username],
        ['remove_membership', solo.name, bob.username],
        ['prohibit_login', alice.username, undefined],
      ]),
    );
    expect(plan).toHaveLength(5);
    expect(new Set(plan.map((a) => a.key)).size).toBe(5);
    expect(plan.every((a) => a.system === 'gitea' && a.summary.length > 0)).toBe(true);

    const outcomes: ActionOutcome[] = [];
    for (const action of plan) outcomes.push(await connector.act(alice.ref, action));
    expect(outcomes.map((o) => [o.action, o.state])).toEqual(plan.map((a) => [a.action, 'done']));

    // The proof, read from Gitea itself.
    expect(await ownerOf(api.id)).toBe(bob.username);
    expect(await ownerOf(secret.id)).toBe(bob.username);
    expect(await ownerOf(others.id)).toBe(carol.username);
    expect([401, 403]).toContain((await gitea.api('GET', '/user', undefined, aliceToken)).status);
    expect((await gitea.api('GET', `/orgs/${acme.name}/members/${alice.username}`)).status).toBe(404);
    expect((await gitea.api('GET', `/orgs/${solo.name}/members/${alice.username}`)).status).toBe(404);
    expect((await gitea.api('GET', `/orgs/${solo.name}/members/${bob.username}`)).status).toBe(204);

    await expect(connector.verify(alice.ref)).resolves.toEqual({ system: 'gitea', clean: true, remaining: [] });
    const after = await connector.find(alice.ref);
    expect(after.account?.enabled).toBe(false);
    expect(after.items).toEqual([]);
  });

  it('is idempotent: acting on the same plan again reports every action already done and changes nothing', async () => {
    const leaver = await person('dave');
    const heir = await person('erin');
    const repo = await gitea.createRepo(leaver.username, 'tools');
    const org = await gitea.createOrg(heir.username, `team${serial}`);
    const crew = await gitea.createTeam(org.name, 'crew');
    await gitea.addTeamMember(crew.id, leaver.username);

    const plan = await connector.plan(await connector.find(leaver.ref), { userId: 'tenure-erin', email: heir.email });
    const first: ActionOutcome[] = [];
    for (const action of plan) first.push(await connector.act(leaver.ref, action));
    expect(first.map((o) => o.state)).toEqual(['done', 'done', 'done']);
    const second: ActionOutcome[] = [];
    for (const action of plan) second.push(await connector.act(leaver.ref, action));
    expect(second.map((o) => o.state)).toEqual(['already_done', 'already_done', 'already_done']);
    // Sign-in found already barred is not lifted by undo; the repository found moved is handed back.
    expect((await connector.undo(leaver.ref, second[2]!)).state).toBe('not_undoable');
    expect(second[0]!.undo).toEqual({ repository_id: String(repo.id), from: leaver.username, to: heir.username });
    expect(await ownerOf(repo.id)).toBe(heir.username);
    expect((await connector.verify(leaver.ref)).clean).toBe(true);
  });

  it('undo hands the repositories back, restores team memberships and sign-in, and takes back the handed-over ownership', async () => {
    const leaver = await person('frank');
    const heir = await person('gina');
    const repo = await gitea.createRepo(leaver.username, 'site');
    const org = await gitea.createOrg(leaver.username, `own${serial}`);
    const reviewers = await gitea.createTeam(org.name, 'reviewers');
    await gitea.addTeamMember(reviewers.id, leaver.username);
    const token = await gitea.userToken(leaver);

    const outcomes = await actAll(connector, leaver.ref, heir);
    expect(outcomes.map((o) => o.state)).toEqual(['done', 'done', 'done']);
    expect(await ownerOf(repo.id)).toBe(heir.username);
    expect([401, 403]).toContain((await gitea.api('GET', '/user', undefined, token)).status);

    const undone = [];
    for (const outcome of [...outcomes].reverse()) undone.push(await connector.undo(leaver.ref, outcome));
    expect(undone.map((u) => u.state)).toEqual(['undone', 'undone', 'undone']);

    expect(await ownerOf(repo.id)).toBe(leaver.username);
    expect((await gitea.api('GET', '/user', undefined, token)).status).toBe(200);
    expect((await gitea.api('GET', `/teams/${reviewers.id}/members/${leaver.username}`)).status).toBe(200);
    const owners = await gitea.api<Array<{ id: number; permission: string }>>('GET', `/orgs/${org.name}/teams`);
    const ownersTeam = owners.body.find((t) => t.permission === 'owner')!;
    expect((await gitea.api('GET', `/teams/${ownersTeam.id}/members/${leaver.username}`)).status).toBe(200);
    expect((await gitea.api('GET', `/teams/${ownersTeam.id}/members/${heir.username}`)).status).toBe(404);
    const verification = await connector.verify(leaver.ref);
    expect(verification.clean).toBe(false);
    expect(verification.remaining.map((i) => i.kind).sort()).toEqual(['account', 'organization', 'repository']);

    // Undoing again finds everything already back.
    expect((await connector.undo(leaver.ref, outcomes[0]!)).state).toBe('undone');
    // An action that failed has nothing to undo.
    expect((await connector.undo(leaver.ref, { ...outcomes[0]!, state: 'failed' })).state).toBe('not_undoable');
  });

  it('does not hand back a repository someone has since moved elsewhere', async () => {
    const leaver = await person('hank');
    const heir = await person('ivy');
    const third = await person('jack');
    const repo = await gitea.createRepo(leaver.username, 'moved');
    const outcomes = await actAll(connector, leaver.ref, heir);
    const transfer = outcomes.find((o) => o.action === 'transfer')!;
    expect((await gitea.api('POST', `/repos/${heir.username}/moved/transfer`, { new_owner: third.username })).status).toBe(202);
    const undone = await connector.undo(leaver.ref, transfer);
    expect(undone.state).toBe('failed');
    expect(undone.detail).toContain(third.username);
    expect(await ownerOf(repo.id)).toBe(third.username);
  });

  it('without a Gitea account for the new owner and no fallback, the transfer fails with the reason and verification stays unclean', async () => {
    const leaver = await person('kim');
    const repo = await gitea.createRepo(leaver.username, 'orphan');
    const plan = await connector.plan(await connector.find(leaver.ref), { userId: 'tenure-x', email: 'nobody-here@example.com' });
    const transfer = plan.find((a) => a.action === 'transfer')!;
    expect(transfer.to).toBeUndefined();
    expect(transfer.summary).toMatch(/nobody-here@example.com has no Gitea account and GITEA_FALLBACK_OWNER is not set/);
    const outcome = await connector.act(leaver.ref, transfer);
    expect(outcome.state).toBe('failed');
    expect(outcome.detail).toMatch(/GITEA_FALLBACK_OWNER is not set/);
    for (const action of plan.filter((a) => a !== transfer)) expect((await connector.act(leaver.ref, action)).state).toBe('done');
    expect(await ownerOf(repo.id)).toBe(leaver.username);
    const verification = await connector.verify(leaver.ref);
    expect(verification).toEqual({ system: 'gitea', clean: false, remaining: [{ kind: 'repository', id: String(repo.id), name: repo.fullName }] });
  });

  it('hands the repositories to GITEA_FALLBACK_OWNER (an organization) when the new owner has no Gitea account', async () => {
    const leaver = await person('lena');
    const keeper = await person('mo');
    const archive = await gitea.createOrg(keeper.username, `archive${serial}`);
    const repo = await gitea.createRepo(leaver.username, 'notes');
    const org = await gitea.createOrg(leaver.username, `lonely${serial}`);
    const withFallback = createGiteaConnector({ url: gitea.url, token: gitea.adminToken, fallbackOwner: archive.name });
    await expect(withFallback.check()).resolves.toBeUndefined();

    const plan = await withFallback.plan(await withFallback.find(leaver.ref), { userId: 'tenure-x', email: 'no-account@example.com' });
    expect(plan.find((a) => a.action === 'transfer')!.to).toBe(archive.name);
    // An organization cannot be made an owner of another: the last-owner organization is refused with the reason.
    expect(plan.find((a) => a.action === 'remove_membership')!.to).toBeUndefined();
    const outcomes: ActionOutcome[] = [];
    for (const action of plan) outcomes.push(await withFallback.act(leaver.ref, action));
    expect(outcomes.map((o) => [o.action, o.state])).toEqual([
      ['transfer', 'done'],
      ['remove_membership', 'failed'],
      ['prohibit_login', 'done'],
    ]);
    expect(outcomes[1]!.detail).toMatch(new RegExp(`last owner of organization ${org.name}`));
    expect(await ownerOf(repo.id)).toBe(archive.name);
    expect((await gitea.api('GET', `/orgs/${org.name}/members/${leaver.username}`)).status).toBe(204);
    expect((await withFallback.verify(leaver.ref)).remaining).toEqual([{ kind: 'organization', id: String(org.id), name: org.name }]);
  });

  it('refuses a fallback owner that does not exist at the start-up check', async () => {
    const bad = createGiteaConnector({ url: gitea.url, token: gitea.adminToken, fallbackOwner: 'no-such-owner' });
    await expect(bad.check()).rejects.toThrow(ConnectorRefusedError);
    await expect(bad.check()).rejects.toThrow(/no-such-owner/);
  });

  it('a transfer the leaver only proposed is not done: act says so and verify still finds the repository', async () => {
    const leaver = await person('nina');
    const heir = await person('otto');
    const repo = await gitea.createRepo(leaver.username, 'proposed');
    const own = await gitea.userToken(leaver, ['write:repository', 'read:user']);
    // A non-administrator's transfer is only proposed (201) until the recipient accepts.
    expect((await gitea.api('POST', `/repos/${leaver.username}/proposed/transfer`, { new_owner: heir.username }, own)).status).toBe(201);
    const plan = await connector.plan(await connector.find(leaver.ref), { userId: 'tenure-otto', email: heir.email });
    const outcome = await connector.act(leaver.ref, plan.find((a) => a.action === 'transfer')!);
    expect(outcome.state).toBe('failed');
    expect(outcome.detail).toMatch(/waiting for .* to accept/);
    expect(await ownerOf(repo.id)).toBe(leaver.username);
    expect((await connector.verify(leaver.ref)).remaining).toContainEqual({ kind: 'repository', id: String(repo.id), name: repo.fullName });
  });

  it('a name clash at the new owner fails that transfer with the reason and leaves the rest done', async () => {
    const leaver = await person('pat');
    const heir = await person('quinn');
    const repo = await gitea.createRepo(leaver.username, 'clash');
    await gitea.createRepo(heir.username, 'clash');
    const outcomes = await actAll(connector, leaver.ref, heir);
    expect(outcomes.map((o) => [o.action, o.state])).toEqual([
      ['transfer', 'failed'],
      ['prohibit_login', 'done'],
    ]);
    expect(outcomes[0]!.detail).toMatch(/cannot receive/);
    expect(await ownerOf(repo.id)).toBe(leaver.username);
    expect((await connector.verify(leaver.ref)).clean).toBe(false);
  });

  it('a person Gitea does not know: no account, an empty plan, verify clean', async () => {
    const stranger: LeaverRef = { userId: 'tenure-stranger', email: 'stranger@example.com' };
    const holdings = await connector.find(stranger);
    expect(holdings).toEqual({ system: 'gitea', account: null, items: [] });
    await expect(connector.plan(holdings, { userId: 'x', email: 'x@example.com' })).resolves.toEqual([]);
    await expect(connector.verify(stranger)).resolves.toEqual({ system: 'gitea', clean: true, remaining: [] });
  });

  it('wrong credentials are refused, and so is the token of a user who is not a site administrator', async () => {
    const wrong = createGiteaConnector({ url: gitea.url, token: '0'.repeat(40) });
    await expect(wrong.check()).rejects.toThrow(ConnectorRefusedError);
    await expect(wrong.find({ userId: 'u', email: 'someone@example.com' })).rejects.toThrow(ConnectorRefusedError);
    const plain = await person('rita');
    const plainToken = await gitea.userToken(plain, ['write:admin', 'write:user', 'write:repository', 'write:organization']);
    const notAdmin = createGiteaConnector({ url: gitea.url, token: plainToken });
    await expect(notAdmin.check()).rejects.toThrow(/not a site administrator/);
    await expect(notAdmin.find(plain.ref)).rejects.toThrow(ConnectorRefusedError);
  });

  it('a server that is down is SystemUnavailableError; after it is back the data is there and the process goes on', async () => {
    const leaver = await person('sam');
    const heir = await person('tess');
    const repo = await gitea.createRepo(leaver.username, 'kept');
    const plan = await connector.plan(await connector.find(leaver.ref), { userId: 'tenure-tess', email: heir.email });
    await gitea.stop();
    try {
      await expect(connector.find(leaver.ref)).rejects.toThrow(SystemUnavailableError);
      await expect(connector.act(leaver.ref, plan[0]!)).rejects.toThrow(SystemUnavailableError);
      await expect(connector.verify(leaver.ref)).rejects.toThrow(SystemUnavailableError);
      await expect(connector.check()).rejects.toThrow(/could not be reached/);
    } finally {
      await gitea.start();
    }
    for (const action of plan) expect((await connector.act(leaver.ref, action)).state).toBe('done');
    expect(await ownerOf(repo.id)).toBe(heir.username);
    expect((await connector.verify(leaver.ref)).clean).toBe(true);
  });

  it('a server that answers too slowly is SystemUnavailableError too', async () => {
    const { createServer } = await import('node:http');
    const server = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const slow = createGiteaConnector({ url: `http://127.0.0.1:${port}`, token: gitea.adminToken, timeoutMs: 300 });
      await expect(slow.find({ userId: 'u', email: 'a@example.com' })).rejects.toThrow(SystemUnavailableError);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

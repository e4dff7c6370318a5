/**
 * The Keycloak connector against a real Keycloak (started once for the file, seeded per test):
 * the leaver's refresh and offline tokens stop working, no session or grant remains, the account
 * is disabled and out of its groups; every action is idempotent; undo gives back the account and
 * the groups; a stopped server and wrong credentials are the contract's two errors.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorRefusedError, SystemUnavailableError, type Connector, type LeaverRef } from '../../src/connectors/contract';
import { createKeycloakConnector } from '../../src/connectors/keycloak';
import { startTestKeycloak, TEST_PASSWORD, type KeycloakRealm, type TestKeycloak } from '../helpers/keycloak';

let kc: TestKeycloak;

beforeAll(async () => {
  kc = await startTestKeycloak();
}, 360_000);

afterAll(async () => {
  await kc?.destroy();
}, 60_000);

function connectorFor(realm: KeycloakRealm, overrides: { clientSecret?: string; url?: string } = {}): Connector {
  return createKeycloakConnector({
    url: overrides.url ?? kc.url,
    realm: realm.realm,
    clientId: realm.clientId,
    clientSecret: overrides.clientSecret ?? realm.clientSecret,
    timeoutMs: 5_000,
  });
}

const leaverRef = (email: string): LeaverRef => ({ userId: `u-${randomBytes(4).toString('hex')}`, email });

/** A realm with a leaver signed in twice (a session with a refresh token, an offline token) in two groups, and a colleague. */
async function seed() {
  const realm = await kc.createRealm();
  const engineering = await kc.createGroup(realm.realm, 'engineering');
  const oncall = await kc.createGroup(realm.realm, 'oncall');
  const email = `leaver-${randomBytes(3).toString('hex')}@example.com`;
  const leaverId = await kc.createUser(realm.realm, email, { groups: [engineering, oncall] });
  const colleagueEmail = `colleague-${randomBytes(3).toString('hex')}@example.com`;
  await kc.createUser(realm.realm, colleagueEmail, { groups: [engineering] });
  const online = await kc.signIn(realm, email, TEST_PASSWORD);
  const offline = await kc.signIn(realm, email, TEST_PASSWORD, { offline: true });
  const colleague = await kc.signIn(realm, colleagueEmail, TEST_PASSWORD);
  expect(online.ok && offline.ok && colleague.ok).toBe(true);
  return { realm, email, leaverId, colleagueEmail, groups: { engineering, oncall }, tokens: { online: online.refreshToken!, offline: offline.refreshToken!, colleague: colleague.refreshToken! } };
}

describe('Keycloak connector', () => {
  it('finds the leaver, ends their access (refresh and offline tokens fail), verifies clean and undoes what can be undone', async () => {
    const s = await seed();
    const connector = connectorFor(s.realm);
    await connector.check();
    const leaver = leaverRef(s.email.toUpperCase());

    const holdings = await connector.find(leaver);
    expect(holdings.account).toEqual({ id: s.leaverId, name: s.email, enabled: true });
    const kinds = holdings.items.map((i) => i.kind);
    expect(kinds.filter((k) => k !== 'session').sort()).toEqual(['account', 'group', 'group', 'offline_token']);
    expect(kinds.filter((k) => k === 'session').length).toBeGreaterThanOrEqual(1);
    expect(holdings.items.filter((i) => i.kind === 'group').map((i) => i.name).sort()).toEqual(['/engineering', '/oncall']);
    expect(holdings.items.find((i) => i.kind === 'offline_token')?.id).toBe(s.realm.appClientId);

    const plan = await connector.plan(holdings, null);
    expect(plan.map((a) => a.action)).toEqual(['disable_account', 'end_sessions', 'revoke_offline_tokens', 'remove_membership', 'remove_membership']);
    expect(new Set(plan.map((a) => a.key)).size).toBe(plan.length);
    expect((await connector.verify(leaver)).clean).toBe(false);

    const outcomes = [];
    for (const action of plan) outcomes.push(await connector.act(leaver, action));
    expect(outcomes.map((o) => o.state)).toEqual(['done', 'done', 'done', 'done', 'done']);

    // The proof: what the leaver held before no longer works.
    const refreshed = await kc.refresh(s.realm, s.tokens.online);
    expect(refreshed).toMatchObject({ ok: false, error: 'invalid_grant' });
    expect(await kc.refresh(s.realm, s.tokens.offline)).toMatchObject({ ok: false, error: 'invalid_grant' });
    expect(await kc.signIn(s.realm, s.email, TEST_PASSWORD)).toMatchObject({ ok: false });
    // The colleague is untouched.
    expect((await kc.refresh(s.realm, s.tokens.colleague)).ok).toBe(true);

    const verification = await connector.verify(leaver);
    expect(verification).toEqual({ system: 'keycloak', clean: true, remaining: [] });
    const admin = await kc.admin();
    expect(await admin.users.listSessions({ realm: s.realm.realm, id: s.leaverId })).toEqual([]);
    expect(await admin.users.listConsents({ realm: s.realm.realm, id: s.leaverId })).toEqual([]);

    // Acting again (a retried activity) finds everything in effect.
    const again = [];
    for (const action of plan) again.push(await connector.act(leaver, action));
    expect(again.map((o) => o.state)).toEqual(['already_done', 'already_done', 'already_done', 'already_done', 'already_done']);
    // And a second find plans nothing but the session sweep.
    expect((await connector.plan(await connector.find(leaver), null)).map((a) => a.action)).toEqual(['end_sessions']);

    // Undo: the account and the groups come back; sessions and tokens do not.
    const undone = [];
    for (const outcome of outcomes) undone.push(await connector.undo(leaver, outcome));
    expect(undone.map((u) => u.state)).toEqual(['undone', 'not_undoable', 'not_undoable', 'undone', 'undone']);
    const after = await connector.find(leaver);
    expect(after.account?.enabled).toBe(true);
    expect(after.items.filter((i) => i.kind === 'group').map((i) => i.id).sort()).toEqual([s.groups.engineering, s.groups.oncall].sort());
    expect(after.items.filter((i) => i.kind === 'session' || i.kind === 'offline_token')).toEqual([]);
    expect((await kc.refresh(s.realm, s.tokens.online)).ok).toBe(false);
    // The person can sign in again with their password after the undo.
    expect((await kc.signIn(s.realm, s.email, TEST_PASSWORD)).ok).toBe(true);
    // The profile survived the disable/enable round trip.
    const user = await admin.users.findOne({ realm: s.realm.realm, id: s.leaverId });
    expect(user).toMatchObject({ email: s.email, firstName: s.email.split('@')[0], lastName: 'Test', enabled: true });
  });

  it('a session opened after the plan is still ended, and a grant that disappeared in between is already_done', async () => {
    const s = await seed();
    const connector = connectorFor(s.realm);
    const leaver = leaverRef(s.email);
    const plan = await connector.plan(await connector.find(leaver), null);
    // Another party revokes the offline token before tenure acts; the leaver signs in once more.
    const admin = await kc.admin();
    await admin.users.revokeConsent({ realm: s.realm.realm, id: s.leaverId, clientId: s.realm.appClientId });
    const late = await kc.signIn(s.realm, s.email, TEST_PASSWORD);
    expect(late.ok).toBe(true);

    // One action after another, as an offboarding carries them out (src/connectors/run.ts).
    const states: Record<string, string> = {};
    for (const a of plan) states[a.action + (a.action === 'remove_membership' ? a.target.name : '')] = (await connector.act(leaver, a)).state;
    expect(states).toMatchObject({ disable_account: 'done', end_sessions: 'done', revoke_offline_tokens: 'already_done' });
    expect(await kc.refresh(s.realm, late.refreshToken!)).toMatchObject({ ok: false, error: 'invalid_grant' });
    expect((await connector.verify(leaver)).clean).toBe(true);
  });

  it('a person Keycloak does not know: no account, nothing planned, verification clean; an email that only contains theirs is not theirs', async () => {
    const s = await seed();
    const connector = connectorFor(s.realm);
    const unknown = leaverRef(`nobody-${randomBytes(3).toString('hex')}@example.com`);
    expect(await connector.find(unknown)).toEqual({ system: 'keycloak', account: null, items: [] });
    expect(await connector.plan({ system: 'keycloak', account: null, items: [] }, null)).toEqual([]);
    expect(await connector.verify(unknown)).toEqual({ system: 'keycloak', clean: true, remaining: [] });
    // A prefix of an existing email must not match it.
    const prefix = leaverRef(s.email.replace('@example.com', '@example.co'));
    expect((await connector.find(prefix)).account).toBeNull();
  });

  it('an action whose target vanished fails as an outcome, and an unknown action is refused the same way', async () => {
    const s = await seed();
    const connector = connectorFor(s.realm);
    const leaver = leaverRef(s.email);
    const plan = await connector.plan(await connector.find(leaver), null);
    const membership = plan.find((a) => a.action === 'remove_membership')!;
    const done = await connector.act(leaver, membership);
    expect(done.state).toBe('done');
    const admin = await kc.admin();
    await admin.groups.del({ realm: s.realm.realm, id: membership.target.id });
    const undo = await connector.undo(leaver, done);
    expect(undo.state).toBe('failed');
    expect(undo.detail).toMatch(/404/);
    const bogus = await connector.act(leaver, { ...membership, action: 'delete_everything', key: 'keycloak:x:delete_everything' });
    expect(bogus).toMatchObject({ state: 'failed' });
  });

  it('wrong credentials and a client without the manage-users role are ConnectorRefusedError', async () => {
    const s = await seed();
    const wrong = connectorFor(s.realm, { clientSecret: 'not-the-secret-at-all' });
    await expect(wrong.check()).rejects.toBeInstanceOf(ConnectorRefusedError);
    await expect(wrong.find(leaverRef(s.email))).rejects.toBeInstanceOf(ConnectorRefusedError);

    // The same client stripped of its realm-management role signs in but may not read users.
    const admin = await kc.admin();
    admin.setConfig({ realmName: s.realm.realm });
    const [client] = await admin.clients.find({ clientId: s.realm.clientId });
    const serviceUser = await admin.clients.getServiceAccountUser({ id: client!.id! });
    const [realmManagement] = await admin.clients.find({ clientId: 'realm-management' });
    const roles = await admin.users.listClientRoleMappings({ id: serviceUser.id!, clientUniqueId: realmManagement!.id! });
    await admin.users.delClientRoleMappings({ id: serviceUser.id!, clientUniqueId: realmManagement!.id!, roles: roles.map((r) => ({ id: r.id!, name: r.name! })) });
    const unprivileged = connectorFor(s.realm);
    await expect(unprivileged.check()).rejects.toBeInstanceOf(ConnectorRefusedError);
    await expect(unprivileged.find(leaverRef(s.email))).rejects.toThrow(/refused/);
  });

  it('seeding a realm again (as every npm start does) keeps it: the same clients and secret, its people, and only manage-users for the connector', async () => {
    const realm = await kc.createRealm();
    const email = `kept-${randomBytes(3).toString('hex')}@example.com`;
    await kc.createUser(realm.realm, email);
    const again = await kc.createRealm(realm.realm);
    expect(again).toEqual(realm);
    await connectorFor(again).check();
    expect(await kc.signIn(again, email, TEST_PASSWORD)).toMatchObject({ ok: true });

    const admin = await kc.admin();
    admin.setConfig({ realmName: realm.realm });
    expect((await admin.clients.find({ clientId: realm.clientId })).length).toBe(1);
    const [client] = await admin.clients.find({ clientId: realm.clientId });
    const serviceUser = await admin.clients.getServiceAccountUser({ id: client!.id! });
    const [realmManagement] = await admin.clients.find({ clientId: 'realm-management' });
    const roles = await admin.users.listClientRoleMappings({ id: serviceUser.id!, clientUniqueId: realmManagement!.id! });
    expect(roles.map((r) => r.name)).toEqual(['manage-users']);
    // A role taken away in between is given back by the next seeding.
    await admin.users.delClientRoleMappings({ id: serviceUser.id!, clientUniqueId: realmManagement!.id!, roles: roles.map((r) => ({ id: r.id!, name: r.name! })) });
    await expect(connectorFor(realm).check()).rejects.toBeInstanceOf(ConnectorRefusedError);
    await kc.createRealm(realm.realm);
    await connectorFor(realm).check();
  });

  it('a stopped server is SystemUnavailableError; after it is back (data kept) the offboarding completes', async () => {
    const s = await seed();
    const connector = connectorFor(s.realm);
    const leaver = leaverRef(s.email);
    const plan = await connector.plan(await connector.find(leaver), null);

    await kc.stop();
    try {
      await expect(connector.find(leaver)).rejects.toBeInstanceOf(SystemUnavailableError);
      await expect(connector.act(leaver, plan[0]!)).rejects.toBeInstanceOf(SystemUnavailableError);
      await expect(connector.verify(leaver)).rejects.toBeInstanceOf(SystemUnavailableError);
      // Nothing listens on the port at all: the same error.
      await expect(connectorFor(s.realm, { url: 'http://127.0.0.1:1' }).check()).rejects.toBeInstanceOf(SystemUnavailableError);
    } finally {
      await kc.start();
    }
    for (const action of plan) expect((await connector.act(leaver, action)).state).toBe('done');
    expect(await kc.refresh(s.realm, s.tokens.offline)).toMatchObject({ ok: false, error: 'invalid_grant' });
    expect((await connector.verify(leaver)).clean).toBe(true);
  }, 360_000);
});

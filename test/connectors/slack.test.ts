/**
 * The Slack connector against the local recorder of Slack's Web API and SCIM API (Slack itself
 * cannot be reached from a test machine): the recorder keeps a small workspace (people, sessions,
 * user groups) that the connector's calls change, so verification re-reads a real state and can
 * find access left. Every action is idempotent, undo gives back, and Slack's refusals and outages
 * are the contract's two errors.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorRefusedError, SystemUnavailableError, type Connector, type LeaverRef } from '../../src/connectors/contract';
import { createSlackConnector } from '../../src/connectors/slack';
import { startSlackApiRecorder, type SlackApiRecorder } from '../helpers/slack-api';

let slack: SlackApiRecorder;

beforeAll(async () => {
  slack = await startSlackApiRecorder();
});

afterAll(async () => {
  await slack?.close();
});

beforeEach(() => {
  slack.setEnterprise('E1');
});

function connector(): Connector {
  return createSlackConnector({ token: 'xoxp-test-admin-token-0123456789', apiUrl: slack.apiUrl, scimUrl: slack.apiUrl.replace(/\/api\/$/, '/scim/v2/'), timeoutMs: 3_000 });
}

const tag = () => randomBytes(3).toString('hex').toUpperCase();
const leaverRef = (email: string): LeaverRef => ({ userId: `u-${tag()}`, email });

/** A leaver signed in twice, in two user groups (one shared with a colleague, one with two colleagues), and a colleague. */
function seed() {
  const t = tag();
  const leaver = { id: `U${t}L`, email: `leaver-${t.toLowerCase()}@example.com`, name: `leaver-${t.toLowerCase()}`, sessions: 2 };
  const colleague = { id: `U${t}C`, email: `colleague-${t.toLowerCase()}@example.com`, sessions: 1 };
  const other = { id: `U${t}O`, email: `other-${t.toLowerCase()}@example.com` };
  for (const u of [leaver, colleague, other]) slack.addUser(u);
  const eng = { id: `S${t}E`, handle: `eng-${t.toLowerCase()}`, users: [leaver.id, colleague.id] };
  const oncall = { id: `S${t}O`, handle: `oncall-${t.toLowerCase()}`, users: [colleague.id, leaver.id, other.id] };
  slack.addUserGroup(eng);
  slack.addUserGroup(oncall);
  return { leaver, colleague, other, groups: { eng: eng.id, oncall: oncall.id } };
}

describe('Slack connector (against the local recorder of Slack\'s API)', () => {
  it('finds the leaver, ends their access, verifies clean by re-reading, acts twice as already_done, and undo gives back', async () => {
    const s = seed();
    const slackConnector = connector();
    await slackConnector.check();
    const leaver = leaverRef(s.leaver.email.toUpperCase());

    const holdings = await slackConnector.find(leaver);
    expect(holdings.account).toEqual({ id: s.leaver.id, name: s.leaver.name, enabled: true });
    expect(holdings.items.map((i) => i.kind).sort()).toEqual(['account', 'group', 'group', 'session', 'session']);
    expect(holdings.items.filter((i) => i.kind === 'group').map((i) => i.id).sort()).toEqual([s.groups.eng, s.groups.oncall].sort());

    const plan = await slackConnector.plan(holdings, null);
    expect(plan.map((a) => a.action)).toEqual(['remove_membership', 'remove_membership', 'end_sessions', 'deactivate_account']);
    expect(new Set(plan.map((a) => a.key)).size).toBe(plan.length);
    const before = await slackConnector.verify(leaver);
    expect(before.clean).toBe(false);
    expect(before.remaining.map((r) => r.kind).sort()).toEqual(['account', 'group', 'group', 'session', 'session']);

    const outcomes = [];
    for (const action of plan) outcomes.push(await slackConnector.act(leaver, action));
    expect(outcomes.map((o) => o.state)).toEqual(['done', 'done', 'done', 'done']);
    expect(slack.callsTo('admin.users.session.reset').map((c) => c.args.user_id)).toContain(s.leaver.id);
    expect(slack.callsTo('scim.DELETE').map((c) => c.args.id)).toContain(s.leaver.id);

    // The workspace itself: deactivated, signed out, out of both groups; the colleagues untouched.
    expect(slack.user(s.leaver.id)).toMatchObject({ deleted: true, sessions: 0 });
    expect(slack.userGroup(s.groups.eng)!.users).toEqual([s.colleague.id]);
    expect(slack.userGroup(s.groups.oncall)!.users).toEqual([s.colleague.id, s.other.id]);
    expect(slack.user(s.colleague.id)).toMatchObject({ sessions: 1 });
    expect(slack.user(s.colleague.id)!.deleted).toBeFalsy();

    expect(await slackConnector.verify(leaver)).toEqual({ system: 'slack', clean: true, remaining: [] });

    // Acting again (a retried activity) finds everything in effect and changes nothing.
    const deletes = slack.callsTo('scim.DELETE').length;
    const again = [];
    for (const action of plan) again.push(await slackConnector.act(leaver, action));
    expect(again.map((o) => o.state)).toEqual(['already_done', 'already_done', 'already_done', 'already_done']);
    expect(slack.callsTo('scim.DELETE').length).toBe(deletes);
    // A second find plans nothing: the account is deactivated and in no group.
    expect(await slackConnector.plan(await slackConnector.find(leaver), null)).toEqual([]);

    // Undo, last action first as a process does: reactivated, back in both groups; sessions stay ended.
    const undone = [];
    for (const outcome of [...outcomes].reverse()) undone.push(await slackConnector.undo(leaver, outcome));
    expect(undone.map((u) => u.state)).toEqual(['undone', 'not_undoable', 'undone', 'undone']);
    expect(slack.callsTo('scim.PATCH').at(-1)!.args).toMatchObject({ id: s.leaver.id, Operations: [{ op: 'replace', path: 'active', value: true }] });
    expect(slack.user(s.leaver.id)).toMatchObject({ deleted: false, sessions: 0 });
    expect(slack.userGroup(s.groups.eng)!.users.sort()).toEqual([s.leaver.id, s.colleague.id].sort());
    expect(slack.userGroup(s.groups.oncall)!.users.sort()).toEqual([s.colleague.id, s.leaver.id, s.other.id].sort());
    const after = await slackConnector.find(leaver);
    expect(after.account?.enabled).toBe(true);
    expect(after.items.filter((i) => i.kind === 'session')).toEqual([]);
    // Undoing twice changes nothing more.
    expect((await slackConnector.undo(leaver, outcomes[3]!)).state).toBe('undone');
    expect(slack.userGroup(s.groups.eng)!.users.filter((id) => id === s.leaver.id)).toHaveLength(1);
  });

  it('a deactivation Slack refuses leaves the account active, and verification reports it as access left', async () => {
    const s = seed();
    const slackConnector = connector();
    const leaver = leaverRef(s.leaver.email);
    const plan = await slackConnector.plan(await slackConnector.find(leaver), null);
    slack.failNext('scim.DELETE', { status: 400 });
    const outcomes = [];
    for (const action of plan) outcomes.push(await slackConnector.act(leaver, action));
    const deactivation = outcomes.find((o) => o.action === 'deactivate_account')!;
    expect(deactivation.state).toBe('failed');
    expect(deactivation.detail).toMatch(/SCIM API answered 400/);
    expect(slack.user(s.leaver.id)!.deleted).toBeFalsy();

    const verification = await slackConnector.verify(leaver);
    expect(verification.clean).toBe(false);
    expect(verification.remaining).toEqual([{ kind: 'account', id: s.leaver.id, name: `${s.leaver.name} (active)` }]);
    // The retry (a later round) deactivates it and then verification is clean.
    const retry = await slackConnector.act(leaver, plan.find((a) => a.action === 'deactivate_account')!);
    expect(retry.state).toBe('done');
    expect((await slackConnector.verify(leaver)).clean).toBe(true);
  });

  it('the only member of a user group is not taken out (Slack sets members only to a non-empty list): the action fails saying so and verification names the group', async () => {
    const s = seed();
    const t = tag();
    const solo = { id: `S${t}X`, handle: `solo-${t.toLowerCase()}`, users: [s.leaver.id] };
    slack.addUserGroup(solo);
    const slackConnector = connector();
    const leaver = leaverRef(s.leaver.email);
    const plan = await slackConnector.plan(await slackConnector.find(leaver), null);
    const states: Record<string, string> = {};
    for (const action of plan) states[action.target.id] = (await slackConnector.act(leaver, action)).state;
    expect(states[solo.id]).toBe('failed');
    expect(slack.userGroup(solo.id)!.users).toEqual([s.leaver.id]);
    const verification = await slackConnector.verify(leaver);
    expect(verification.clean).toBe(false);
    expect(verification.remaining).toEqual([{ kind: 'group', id: solo.id, name: `@${solo.handle}` }]);
  });

  it('a workspace outside Enterprise Grid: no session methods are called, deactivation signs the leaver out', async () => {
    slack.setEnterprise(null);
    const s = seed();
    const slackConnector = connector();
    const leaver = leaverRef(s.leaver.email);
    const listed = slack.callsTo('admin.users.session.list').length;
    const holdings = await slackConnector.find(leaver);
    expect(holdings.items.filter((i) => i.kind === 'session')).toEqual([]);
    const plan = await slackConnector.plan(holdings, null);
    expect(plan.map((a) => a.action)).toEqual(['remove_membership', 'remove_membership', 'deactivate_account']);
    expect(plan.at(-1)!.summary).toContain('signs them out everywhere');
    for (const action of plan) expect((await slackConnector.act(leaver, action)).state).toBe('done');
    expect(await slackConnector.verify(leaver)).toEqual({ system: 'slack', clean: true, remaining: [] });
    expect(slack.callsTo('admin.users.session.list').length).toBe(listed);
    expect(slack.user(s.leaver.id)).toMatchObject({ deleted: true, sessions: 0 });
  });

  it('a person Slack does not know: no account, nothing planned, verification clean; an address that only starts like theirs is not theirs', async () => {
    const s = seed();
    const slackConnector = connector();
    const unknown = leaverRef(`nobody-${tag().toLowerCase()}@example.com`);
    expect(await slackConnector.find(unknown)).toEqual({ system: 'slack', account: null, items: [] });
    expect(await slackConnector.plan({ system: 'slack', account: null, items: [] }, null)).toEqual([]);
    expect(await slackConnector.verify(unknown)).toEqual({ system: 'slack', clean: true, remaining: [] });
    expect((await slackConnector.find(leaverRef(s.leaver.email.replace('@example.com', '@example.co')))).account).toBeNull();
  });

  it('Slack answering 500, rate-limiting (429 with Retry-After, or ratelimited) or unreachable is SystemUnavailableError; a retry afterwards succeeds', async () => {
    const s = seed();
    const slackConnector = connector();
    const leaver = leaverRef(s.leaver.email);
    const plan = await slackConnector.plan(await slackConnector.find(leaver), null);
    const deactivate = plan.find((a) => a.action === 'deactivate_account')!;

    slack.failNext('users.lookupByEmail', { status: 500 });
    await expect(slackConnector.find(leaver)).rejects.toBeInstanceOf(SystemUnavailableError);

    slack.rateLimitNext('usergroups.list', 1, 7);
    const limited = await slackConnector.verify(leaver).catch((err: unknown) => err);
    expect(limited).toBeInstanceOf(SystemUnavailableError);
    expect((limited as SystemUnavailableError).retryAfterMs).toBe(7_000);

    slack.failNext('usergroups.users.update', { error: 'ratelimited' });
    await expect(slackConnector.act(leaver, plan[0]!)).rejects.toBeInstanceOf(SystemUnavailableError);
    expect(slack.userGroup(plan[0]!.target.id)!.users).toContain(s.leaver.id);

    slack.rateLimitNext('scim.DELETE', 1, 3);
    const scimLimited = await slackConnector.act(leaver, deactivate).catch((err: unknown) => err);
    expect(scimLimited).toBeInstanceOf(SystemUnavailableError);
    expect((scimLimited as SystemUnavailableError).retryAfterMs).toBe(3_000);
    slack.failNext('scim.DELETE', { status: 503 });
    await expect(slackConnector.act(leaver, deactivate)).rejects.toBeInstanceOf(SystemUnavailableError);
    expect(slack.user(s.leaver.id)!.deleted).toBeFalsy();

    // Nothing listens on this address: unreachable, not refused.
    const gone = createSlackConnector({ token: 'xoxp-test-admin-token-0123456789', apiUrl: 'http://127.0.0.1:9/api/', scimUrl: 'http://127.0.0.1:9/scim/v2/', timeoutMs: 2_000 });
    await expect(gone.check()).rejects.toBeInstanceOf(SystemUnavailableError);

    // After the outage the same actions go through.
    for (const action of plan) expect(['done', 'already_done']).toContain((await slackConnector.act(leaver, action)).state);
    expect((await slackConnector.verify(leaver)).clean).toBe(true);
  });

  it('a token Slack refuses (invalid_auth, not_allowed_token_type, missing_scope, SCIM 403) is ConnectorRefusedError', async () => {
    const s = seed();
    const leaver = leaverRef(s.leaver.email);
    slack.failNext('auth.test', { error: 'invalid_auth' });
    await expect(connector().check()).rejects.toBeInstanceOf(ConnectorRefusedError);

    const slackConnector = connector();
    await slackConnector.check();
    slack.failNext('users.lookupByEmail', { error: 'not_allowed_token_type' });
    await expect(slackConnector.find(leaver)).rejects.toBeInstanceOf(ConnectorRefusedError);
    const plan = await slackConnector.plan(await slackConnector.find(leaver), null);
    slack.failNext('admin.users.session.reset', { error: 'missing_scope' });
    const refused = await slackConnector.act(leaver, plan.find((a) => a.action === 'end_sessions')!).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ConnectorRefusedError);
    expect((refused as Error).message).toContain('missing_scope');
    slack.failNext('scim.DELETE', { status: 403 });
    await expect(slackConnector.act(leaver, plan.find((a) => a.action === 'deactivate_account')!)).rejects.toBeInstanceOf(ConnectorRefusedError);
    expect(slack.user(s.leaver.id)).toMatchObject({ sessions: 2 });
    expect(slack.user(s.leaver.id)!.deleted).toBeFalsy();
    // The token never appears in what is reported.
    expect((refused as Error).message).not.toContain('xoxp-test-admin-token');
  });

  it('an action whose target vanished fails as an outcome, and an unknown action is refused the same way', async () => {
    const s = seed();
    const slackConnector = connector();
    const leaver = leaverRef(s.leaver.email);
    const plan = await slackConnector.plan(await slackConnector.find(leaver), null);
    const membership = plan.find((a) => a.action === 'remove_membership')!;
    slack.failNext('usergroups.users.list', { error: 'no_such_subteam' });
    const vanished = await slackConnector.act(leaver, membership);
    expect(vanished).toMatchObject({ state: 'failed', detail: expect.stringContaining('no_such_subteam') });
    expect(await slackConnector.act(leaver, { ...membership, action: 'transfer', key: 'slack:x:transfer' })).toMatchObject({ state: 'failed', detail: expect.stringContaining('no action "transfer"') });
  });
});

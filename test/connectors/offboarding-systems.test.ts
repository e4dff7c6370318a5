/**
 * An offboarding that reaches the connected systems, end to end on real servers: the API, a
 * Temporal worker with the real connectors, a real Gitea and a real Keycloak. The leaver owns
 * repositories in Gitea and holds a live Keycloak session; afterwards nothing of it is left, a
 * system that is down is reported as access left behind until it is back, and undo hands back.
 */
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/contract';
import { createGiteaConnector } from '../../src/connectors/gitea';
import { createKeycloakConnector } from '../../src/connectors/keycloak';
import type { App } from '../../src/http/app';
import { getOffboardingProgress, offboardingWorkflowId } from '../../src/processes/offboarding';
import type { OffboardingProgress } from '../../workflows/offboarding-messages';
import { signIn } from '../console/console-kit';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { startTestGitea, type GiteaTestUser, type TestGitea } from '../helpers/gitea';
import { createTestApp } from '../helpers/http';
import { startTestKeycloak, TEST_PASSWORD, type KeycloakRealm, type TestKeycloak } from '../helpers/keycloak';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createClient, withWorker, type WorkerOptions } from '../helpers/temporal';
import { seedOrg, setPolicy, type Org } from '../offboarding/fixtures';
import { offboardingDriver } from './offboarding-driver';

let ctx: TestContext;
let client: Client;
let app: App;
let smtp: TestSmtpServer;
let gitea: TestGitea;
let keycloak: TestKeycloak;
let realm: KeycloakRealm;

beforeAll(async () => {
  ctx = await createTestContext('offboarding-systems');
  client = await createClient(ctx);
  smtp = await startSmtpServer();
  // The console's sign-in link is mailed: the app sends through the test SMTP server.
  app = await createTestApp(ctx, client, { SMTP_URL: smtp.url, PUBLIC_BASE_URL: 'http://localhost:3000' });
  [gitea, keycloak] = await Promise.all([startTestGitea(), startTestKeycloak()]);
  realm = await keycloak.createRealm();
  await setPolicy(ctx.models, { approvalRequired: true, retentionMs: null });
}, 360_000);

afterAll(async () => {
  await gitea?.close();
  await keycloak?.destroy();
  await app?.close();
  await smtp?.close();
  await client?.connection.close();
  await ctx?.close();
});

function connectors(): Connector[] {
  return [
    createKeycloakConnector({ url: keycloak.url, realm: realm.realm, clientId: realm.clientId, clientSecret: realm.clientSecret, timeoutMs: 5_000 }),
    createGiteaConnector({ url: gitea.url, token: gitea.adminToken, timeoutMs: 3_000 }),
  ];
}

const worker = (undoGraceMs = 500): WorkerOptions => ({
  smtpUrl: smtp.url,
  deps: { offboarding: { approvalReminderMs: 600_000, approvalEscalationMs: 1_200_000, undoGraceMs }, connectors: connectors() },
});

/**
 * The organization of the offboarding tests; the leaver signed in to Keycloak (a live refresh
 * token) in a group there; the leaver and manager in Gitea, the leaver owning two repositories and
 * in an organization's team.
 */
async function seedEverywhere(): Promise<{ org: Org; leaver: GiteaTestUser; manager: GiteaTestUser; repos: string[]; leaverToken: string; refreshToken: string }> {
  const org = await seedOrg(ctx.models);
  const tag = randomUUID().slice(0, 6);
  const leaver = await gitea.createUser({ username: `leaver-${tag}`, email: org.leaver.user.email });
  const manager = await gitea.createUser({ username: `manager-${tag}`, email: org.manager.user.email });
  const repos = [];
  for (const name of ['api', 'web']) repos.push((await gitea.createRepo(leaver.username, `${name}-${tag}`)).fullName);
  await gitea.createOrg(manager.username, `team-${tag}`);
  const team = await gitea.createTeam(`team-${tag}`, 'developers');
  await gitea.addTeamMember(team.id, leaver.username);
  const leaverToken = await gitea.userToken(leaver);
  const group = await keycloak.createGroup(realm.realm, `engineering-${tag}`);
  await keycloak.createUser(realm.realm, org.leaver.user.email, { groups: [group] });
  const signedIn = await keycloak.signIn(realm, org.leaver.user.email, TEST_PASSWORD);
  expect(signedIn.ok).toBe(true);
  return { org, leaver, manager, repos, leaverToken, refreshToken: signedIn.refreshToken! };
}

const { start, act, waitForStatus } = offboardingDriver(() => ({ app, client }));

async function repoOwner(fullName: string): Promise<string> {
  const res = await gitea.api<{ owner: { login: string } }>('GET', `/repos/${fullName}`);
  expect(res.status).toBe(200);
  return res.body.owner.login;
}

async function giteaSees(token: string): Promise<number> {
  return (await gitea.api('GET', '/user', undefined, token)).status;
}

describe('offboarding across connected systems', () => {
  it('lists each system in the plan, acts there after approval and verifies clean: the repositories belong to the new owner and the leaver is shut out', async () => {
    const { org, leaver, manager, repos, leaverToken, refreshToken } = await seedEverywhere();
    expect(await giteaSees(leaverToken)).toBe(200);
    expect((await keycloak.refresh(realm, refreshToken)).ok).toBe(true);
    await withWorker(ctx, async () => {
      await start(org);
      const waiting = await waitForStatus(org, ['awaiting_approval']);
      const planned = waiting.plan!.systems!.find((s) => s.system === 'gitea')!;
      expect(planned.account).toBe(leaver.username);
      expect(planned.error).toBeUndefined();
      const summaries = planned.actions.map((a) => a.summary).join('\n');
      for (const repo of repos) expect(summaries).toContain(`${repo.split('/')[1]}`);
      expect(planned.actions.map((a) => a.action)).toEqual(expect.arrayContaining(['transfer', 'remove_membership', 'prohibit_login']));
      const idp = waiting.plan!.systems!.find((s) => s.system === 'keycloak')!;
      expect(idp.account).toBe(org.leaver.user.email);
      expect(idp.actions.map((a) => a.action)).toEqual(expect.arrayContaining(['disable_account', 'end_sessions', 'remove_membership']));
      // The approval request mail names what will be done in the system.
      const mail = await eventually('the approval request', async () => smtp.to(org.manager.user.email).find((m) => m.subject.startsWith('Approval needed')));
      expect(mail.body).toContain('prohibit');

      expect((await act(org, 'approve', { planVersion: waiting.plan!.version })).statusCode).toBe(200);
      const done = await waitForStatus(org, ['completed', 'completed_with_access_left_behind']);
      expect(done.status).toBe('completed');
      expect(done.verification!.clean).toBe(true);
      expect(done.verification!.systems).toEqual(expect.arrayContaining([expect.objectContaining({ system: 'gitea', clean: true, remaining: [] }), expect.objectContaining({ system: 'keycloak', clean: true, remaining: [] })]));
      for (const name of ['gitea', 'keycloak']) {
        const sys = done.systems!.find((s) => s.system === name)!;
        expect(sys.state, name).toBe('done');
        expect(sys.outcomes.length, name).toBeGreaterThan(0);
        expect(sys.outcomes.every((o) => o.state === 'done'), name).toBe(true);
      }
      expect(done.steps.find((s) => s.name === 'connected_systems')!.state).toBe('done');
    }, worker());
    // Re-read from the systems themselves, not from tenure's account of them.
    for (const repo of repos) expect(await repoOwner(repo.replace(/^[^/]+/, manager.username))).toBe(manager.username);
    expect([401, 403]).toContain(await giteaSees(leaverToken));
    expect(await keycloak.refresh(realm, refreshToken)).toMatchObject({ ok: false, error: 'invalid_grant' });
    expect((await keycloak.signIn(realm, org.leaver.user.email, TEST_PASSWORD)).ok).toBe(false);
    const orgs = await gitea.api<unknown[]>('GET', `/users/${leaver.username}/orgs`);
    expect(orgs.body).toEqual([]);
    const audit = await ctx.models.AuditEvent.find({ processId: offboardingWorkflowId(String(org.leaver.user._id)), action: 'offboarding.system_acted' }).lean();
    expect(audit.map((a) => a.details?.system).sort()).toEqual(['gitea', 'keycloak']);
  });

  it('ends completed_with_access_left_behind naming a system that stays down, and completes when retried after it is back', async () => {
    const { org, manager, repos, leaverToken, refreshToken } = await seedEverywhere();
    await withWorker(ctx, async () => {
      await start(org);
      const waiting = await waitForStatus(org, ['awaiting_approval']);
      await gitea.stop();
      try {
        expect((await act(org, 'approve', { planVersion: waiting.plan!.version })).statusCode).toBe(200);
        const left = await waitForStatus(org, ['completed', 'completed_with_access_left_behind']);
        expect(left.status).toBe('completed_with_access_left_behind');
        const check = left.verification!.systems!.find((s) => s.system === 'gitea')!;
        expect(check.clean).toBe(false);
        expect(check.error).toMatch(/unreachable/);
        expect(left.systems!.find((s) => s.system === 'gitea')!.state).toBe('failed');
        // The system that was up was acted on: only Gitea is named.
        expect(left.verification!.systems!.find((s) => s.system === 'keycloak')!.clean).toBe(true);
        expect(await keycloak.refresh(realm, refreshToken)).toMatchObject({ ok: false, error: 'invalid_grant' });
        const alert = await eventually('the alert to the Administrators', async () => smtp.to(org.admin.user.email).find((m) => m.subject.startsWith('ALERT') && m.body.includes(org.leaver.user.email)));
        expect(alert.body).toMatch(/Gitea/);
        // Nothing was done while it was down: still the leaver's, still usable.
        // (Checked after the server is back, below.)
      } finally {
        await gitea.start();
      }
      expect(await repoOwner(repos[0]!)).toMatch(/^leaver-/);
      expect(await giteaSees(leaverToken)).toBe(200);

      // An unrelated user may not ask for the retry; the manager may.
      const refused = await app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user._id}/offboarding/retry-systems`, headers: org.other.auth, payload: {} });
      expect(refused.statusCode).toBe(403);
      const retried = await act(org, 'retry-systems');
      expect(retried.statusCode).toBe(200);
      expect(retried.json()).toMatchObject({ status: 'completed' });
      const done = await getOffboardingProgress(client, String(org.leaver.user._id));
      expect(done.verification).toMatchObject({ clean: true });
      // A second retry has nothing to do: refused, nothing changes.
      const again = await act(org, 'retry-systems');
      expect(again.statusCode).toBe(409);
    }, worker());
    for (const repo of repos) expect(await repoOwner(repo.replace(/^[^/]+/, manager.username))).toBe(manager.username);
    expect([401, 403]).toContain(await giteaSees(leaverToken));
  });

  it('undo within the grace period hands the repositories back and lets the leaver in again', async () => {
    const { org, leaver, manager, repos, leaverToken } = await seedEverywhere();
    await withWorker(ctx, async () => {
      await start(org);
      const waiting = await waitForStatus(org, ['awaiting_approval']);
      expect((await act(org, 'approve', { planVersion: waiting.plan!.version })).statusCode).toBe(200);
      await waitForStatus(org, ['completed']);
      expect((await keycloak.signIn(realm, org.leaver.user.email, TEST_PASSWORD)).ok).toBe(false);
      expect(await repoOwner(repos[0]!.replace(/^[^/]+/, manager.username))).toBe(manager.username);
      const undo = await eventually('the undo to be accepted', async () => {
        const res = await act(org, 'undo', { reason: 'rehired' });
        return res.statusCode === 200 ? res : undefined;
      });
      expect(undo.statusCode).toBe(200);
      const undone = await waitForStatus(org, ['undone']);
      expect(undone.steps.find((s) => s.name === 'undo_window')!.detail).toMatch(/Gitea.*undone/);
      expect(undone.steps.find((s) => s.name === 'undo_window')!.detail).toMatch(/Keycloak.*undone/);
    }, worker(600_000));
    for (const repo of repos) expect(await repoOwner(repo)).toBe(leaver.username);
    expect(await giteaSees(leaverToken)).toBe(200);
    // The Keycloak account is enabled again (its old sessions stay ended): the leaver can sign in.
    expect((await keycloak.signIn(realm, org.leaver.user.email, TEST_PASSWORD)).ok).toBe(true);
  });
});

describe('immediate lockout in the connected systems', () => {
  async function startWithLockout(org: Org) {
    const res = await app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user.email}/offboarding`, headers: org.manager.auth, payload: { reason: 'terminated', immediateLockout: true } });
    expect(res.statusCode).toBe(202);
  }

  it('locks the leaver out of Keycloak and Gitea before approval, keeps their repositories theirs, and a rejection lets them in again', async () => {
    const { org, leaver, repos, leaverToken, refreshToken } = await seedEverywhere();
    const offline = await keycloak.signIn(realm, org.leaver.user.email, TEST_PASSWORD, { offline: true });
    expect(offline.ok).toBe(true);
    await withWorker(ctx, async () => {
      await startWithLockout(org);
      const waiting = await waitForStatus(org, ['awaiting_approval']);
      // Shut out while nobody has approved anything yet.
      expect(await keycloak.refresh(realm, refreshToken)).toMatchObject({ ok: false, error: 'invalid_grant' });
      expect(await keycloak.refresh(realm, offline.refreshToken!)).toMatchObject({ ok: false, error: 'invalid_grant' });
      expect((await keycloak.signIn(realm, org.leaver.user.email, TEST_PASSWORD)).ok).toBe(false);
      expect([401, 403]).toContain(await giteaSees(leaverToken));
      // Only lockout-class actions: the repositories and the organization are still the leaver's.
      for (const repo of repos) expect(await repoOwner(repo)).toBe(leaver.username);
      expect((await gitea.api<unknown[]>('GET', `/users/${leaver.username}/orgs`)).body).toHaveLength(1);

      const lockout = waiting.steps.find((s) => s.name === 'lockout')!;
      expect(lockout.state).toBe('done');
      expect(lockout.detail).toMatch(/Keycloak[^;]*: locked out/);
      expect(lockout.detail).toMatch(/Gitea[^;]*: locked out/);
      const idp = waiting.systems!.find((s) => s.system === 'keycloak')!;
      expect(idp.outcomes.filter((o) => o.state === 'done').map((o) => o.action).sort()).toEqual(['disable_account', 'end_sessions', 'revoke_offline_tokens']);
      expect(idp.error).toBeUndefined();
      const code = waiting.systems!.find((s) => s.system === 'gitea')!;
      expect(code.outcomes.map((o) => [o.action, o.state])).toEqual([['prohibit_login', 'done']]);
      // The plan still shows what waits for approval.
      const planned = waiting.plan!.systems!.find((s) => s.system === 'gitea')!;
      expect(planned.actions.map((a) => a.action)).toEqual(expect.arrayContaining(['transfer', 'remove_membership']));
      const audit = await ctx.models.AuditEvent.find({ processId: offboardingWorkflowId(String(org.leaver.user._id)), action: 'offboarding.system_locked_out' }).lean();
      expect(audit.map((a) => a.details?.system).sort()).toEqual(['gitea', 'keycloak']);
      // The console's table of systems shows what the lockout did and, still, what waits for approval.
      const browser = await signIn(app, smtp, org.admin.user.email);
      const page = await app.inject({ method: 'GET', url: `/console/users/${org.leaver.user._id}`, headers: { cookie: browser.cookie } });
      expect(page.statusCode).toBe(200);
      const table = page.body.slice(page.body.indexOf('<table id="connected-systems">'));
      expect(table).toMatch(/disable the Keycloak account [^<]*: done/);
      expect(table).toMatch(/prohibit [^<]*from signing in to Gitea[^<]*: done/);
      expect(table).toContain(`transfer repository ${repos[0]}`);

      // Someone who is not an approver may not reject; the manager may, and that lifts the lockout everywhere.
      expect((await app.inject({ method: 'POST', url: `/v1/users/${org.leaver.user._id}/offboarding/reject`, headers: org.other.auth, payload: { reason: 'no' } })).statusCode).toBe(403);
      expect((await act(org, 'reject', { reason: 'the termination was withdrawn' })).statusCode).toBe(200);
      const rejected = await waitForStatus(org, ['rejected']);
      expect(rejected.steps.find((s) => s.name === 'lockout')!.detail).toMatch(/lockout lifted: .*Keycloak[^;]*: 1 undone.*Gitea[^;]*: 1 undone/);
    }, worker());
    expect((await keycloak.signIn(realm, org.leaver.user.email, TEST_PASSWORD)).ok).toBe(true);
    expect(await giteaSees(leaverToken)).toBe(200);
    for (const repo of repos) expect(await repoOwner(repo)).toBe(leaver.username);
  });

  it('does not hold the process up when a system is down at lockout time: that system is reported not locked out, and the approved plan still covers it', async () => {
    const { org, manager, repos, leaverToken, refreshToken } = await seedEverywhere();
    await gitea.stop();
    let waiting: OffboardingProgress;
    try {
      await withWorker(ctx, async () => {
        await startWithLockout(org);
        waiting = await waitForStatus(org, ['awaiting_approval']);
      }, worker());
    } finally {
      await gitea.start();
    }
    const lockout = waiting!.steps.find((s) => s.name === 'lockout')!;
    expect(lockout.state).toBe('failed');
    expect(lockout.detail).toMatch(/Gitea[^;]*: not done \(unreachable/);
    expect(lockout.detail).toMatch(/Keycloak[^;]*: locked out/);
    expect(waiting!.systems!.find((s) => s.system === 'gitea')!.error).toMatch(/^access left behind at lockout: unreachable/);
    expect(await keycloak.refresh(realm, refreshToken)).toMatchObject({ ok: false, error: 'invalid_grant' });
    // Gitea was not reached: the leaver still gets in there until the plan is carried out.
    expect(await giteaSees(leaverToken)).toBe(200);

    await withWorker(ctx, async () => {
      expect((await act(org, 'approve', { planVersion: waiting!.plan!.version })).statusCode).toBe(200);
      const done = await waitForStatus(org, ['completed', 'completed_with_access_left_behind']);
      expect(done.status).toBe('completed');
      expect(done.systems!.find((s) => s.system === 'gitea')!.outcomes.find((o) => o.action === 'prohibit_login')!.state).toBe('done');
    }, worker());
    expect([401, 403]).toContain(await giteaSees(leaverToken));
    for (const repo of repos) expect(await repoOwner(repo.replace(/^[^/]+/, manager.username))).toBe(manager.username);
  });
});

describe('reading the connected systems for the plan', () => {
  it('names a system that never answers as unreadable and plans the other one, instead of stalling the plan', async () => {
    // A real socket that accepts connections and never answers them.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const hangingUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const { org } = await seedEverywhere();
      const systems = [
        createKeycloakConnector({ url: keycloak.url, realm: realm.realm, clientId: realm.clientId, clientSecret: realm.clientSecret, timeoutMs: 5_000 }),
        // Its own per-request timeout is far longer than any plan may wait.
        createGiteaConnector({ url: hangingUrl, token: 'never-checked', timeoutMs: 600_000 }),
      ];
      await withWorker(ctx, async () => {
        await start(org);
        const waiting = await waitForStatus(org, ['awaiting_approval']);
        const hung = waiting.plan!.systems!.find((s) => s.system === 'gitea')!;
        expect(hung.error).toMatch(/^could not be read: timed out/);
        expect(hung.actions).toEqual([]);
        const idp = waiting.plan!.systems!.find((s) => s.system === 'keycloak')!;
        expect(idp.error).toBeUndefined();
        expect(idp.actions.map((a) => a.action)).toEqual(expect.arrayContaining(['disable_account', 'end_sessions']));
        expect(sockets.size).toBeGreaterThan(0);
        expect((await act(org, 'cancel', { reason: 'test over' })).statusCode).toBe(200);
        await waitForStatus(org, ['cancelled']);
      }, { smtpUrl: smtp.url, deps: { offboarding: { approvalReminderMs: 600_000, approvalEscalationMs: 1_200_000, undoGraceMs: 500, systemReadTimeoutMs: 2_000 }, connectors: systems } });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

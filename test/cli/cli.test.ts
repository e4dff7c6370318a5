/**
 * The `tenure` command line as operators run it: a child process talking to the real API on a
 * port (real MongoDB-wire, Redis and Temporal, a real Temporal worker for the processes).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJobWorkers } from '../../src/jobs/workers';
import { eventually } from '../helpers/context';
import { withWorker } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';
import { HR_TEST_CONFIG, hrEvent, signedGeneric } from '../hr/hr-test-kit';
import { seedOrg, setPolicy } from '../offboarding/fixtures';
import { json, openHarness, type Harness } from '../users/harness';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let h: Harness;
let url: string;
let admin: SeededUser;
let jobWorkers: Worker[];
let scratch: string;

beforeAll(async () => {
  h = await openHarness('cli', HR_TEST_CONFIG);
  url = await h.app.listen({ port: 0, host: '127.0.0.1' });
  admin = await seedUser(h.ctx.models, { email: 'cli-admin@example.com', siteRole: 'Administrators', firstName: 'Cleo', lastName: 'Admin' });
  jobWorkers = startJobWorkers({ models: h.ctx.models, queue: h.ctx.queue, logger: h.ctx.logger, hr: { temporal: h.client, taskQueue: h.ctx.taskQueue, terminationLockout: false } });
  scratch = mkdtempSync(join(tmpdir(), 'tenure-cli-'));
});

afterAll(async () => {
  await Promise.all((jobWorkers ?? []).map((w) => w.close()));
  await h?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `tenure …` as a child process; the connection comes from TENURE_URL/TENURE_TOKEN unless `env` says otherwise. */
function tenure(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, TENURE_URL: url, TENURE_TOKEN: admin.token, TENURE_DATA_DIR: scratch, ...env };
  for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: childEnv, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function jsonLines(text: string): any[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

const worker = { deps: { offboarding: { approvalReminderMs: 600_000, approvalEscalationMs: 1_200_000, undoGraceMs: 200 } } };

describe('tenure offboard, approve, progress', () => {
  it('drives one offboarding from start to completion: started, waits for approval, approved, followed step by step until completed', async () => {
    await setPolicy(h.ctx.models, { approvalRequired: true, retentionMs: null });
    const org = await seedOrg(h.ctx.models);
    const leaver = org.leaver.user.email;
    await withWorker(
      h.ctx,
      async () => {
        const started = await tenure(['offboard', leaver, '--reason', 'left the company', '--new-owner', String(org.manager.user._id), '--follow']);
        expect(started.stderr).toBe('');
        expect(started.code).toBe(0);
        expect(started.stdout).toMatch(/^started: offboarding:/);
        expect(started.stdout).toMatch(/: awaiting_approval/);
        expect(started.stdout).toContain(`tenure approve ${leaver}`);

        const approved = await tenure(['approve', leaver]);
        expect(approved.stderr).toBe('');
        expect(approved.code).toBe(0);
        const plan = json<{ version: string }>(await h.app.inject({ method: 'GET', url: `/v1/users/${leaver}/offboarding-plan`, headers: admin.auth }));
        expect(approved.stdout).toContain(`approved plan ${plan.version}`);

        const followed = await tenure(['progress', leaver, '--follow']);
        expect(followed.stderr).toBe('');
        expect(followed.code).toBe(0);
        const drawings = followed.stdout.trim().split(/\n(?=offboarding )/);
        const last = drawings.at(-1)!;
        expect(last).toMatch(/^offboarding offboarding:\S+: completed$/m);
        for (const step of ['transfer', 'revoke_access', 'deactivate', 'verify']) expect(last).toMatch(new RegExp(`^  \\[x\\] ${step}\\b`, 'm'));
        expect(last).toContain(`resources transferred: ${org.resources.length}/${org.resources.length}`);
        // Redrawn only on change: no two successive drawings alike.
        for (let i = 1; i < drawings.length; i++) expect(drawings[i]).not.toBe(drawings[i - 1]);

        const asJson = await tenure(['progress', leaver, '--json']);
        expect(asJson.code).toBe(0);
        const [progress] = jsonLines(asJson.stdout);
        // The API's answer itself (the undo window may close between the two reads: its steps can move on).
        const api = json<Record<string, unknown>>(await h.app.inject({ method: 'GET', url: `/v1/users/${leaver}/offboarding`, headers: admin.auth }));
        const settled = (p: Record<string, unknown>) => ({ workflowId: p.workflowId, userId: p.userId, status: p.status, resources: p.resources, verification: p.verification, plan: p.plan });
        expect(settled(progress)).toEqual(settled(api));
        expect(Object.keys(progress).sort()).toEqual(Object.keys(api).sort());
        expect(progress.status).toBe('completed');
      },
      worker,
    );
    expect(await h.ctx.models.User.findById(org.leaver.user._id).lean()).toMatchObject({ status: 'deactivated' });
    expect(await h.ctx.models.Resource.countDocuments({ ownerId: org.leaver.user._id })).toBe(0);
    expect(await h.ctx.models.Resource.countDocuments({ _id: { $in: org.resources.map((r) => r._id) }, ownerId: org.manager.user._id })).toBe(org.resources.length);
    expect(await h.ctx.models.AuditEvent.countDocuments({ action: 'offboarding.approve', actorId: admin.user._id })).toBe(1);
  }, 120_000);

  it('with --json, offboard --follow prints the answer and one progress line per change; cancel ends it', async () => {
    await setPolicy(h.ctx.models, { approvalRequired: true, retentionMs: null });
    const org = await seedOrg(h.ctx.models);
    const leaver = org.leaver.user.email;
    await withWorker(
      h.ctx,
      async () => {
        const run = await tenure(['--json', 'offboard', leaver, '--reason', 'contract ended', '--follow']);
        expect(run.code).toBe(0);
        const [answer, ...changes] = jsonLines(run.stdout);
        expect(answer).toEqual({ processId: `offboarding:${org.leaver.user._id}`, started: true });
        expect(changes.length).toBeGreaterThan(0);
        expect(changes.at(-1).status).toBe('awaiting_approval');
        for (let i = 1; i < changes.length; i++) expect(changes[i]).not.toEqual(changes[i - 1]);

        const cancelled = await tenure(['cancel', leaver, '--json']);
        expect(cancelled.code).toBe(0);
        expect(jsonLines(cancelled.stdout)[0]).toMatchObject({ processId: answer.processId, status: 'cancelled' });
      },
      worker,
    );
    expect(await h.ctx.models.User.findById(org.leaver.user._id).lean()).toMatchObject({ status: 'active' });
  }, 120_000);
});

describe('errors and arguments', () => {
  it("prints the API's error as one line on stderr and exits 1 (wrong token, unknown user, refused role)", async () => {
    const badToken = await tenure(['users', 'show', admin.user.email], { TENURE_TOKEN: 'not-a-token' });
    expect(badToken.code).toBe(1);
    expect(badToken.stdout).toBe('');
    const answer = await h.app.inject({ method: 'GET', url: `/v1/users/${admin.user.email}`, headers: { authorization: 'Bearer not-a-token' } });
    expect(answer.statusCode).toBe(401);
    expect(badToken.stderr).toBe(`${JSON.stringify(json(answer))}\n`);

    const unknown = await tenure(['users', 'show', 'nobody-here@example.com']);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stderr).error.code).toBe(json(await h.app.inject({ method: 'GET', url: '/v1/users/nobody-here@example.com', headers: admin.auth })).error.code);

    const plainUser = await seedUser(h.ctx.models, { siteRole: 'Users' });
    const refused = await tenure(['dead-letters', 'list'], { TENURE_TOKEN: plainUser.token });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr)).toMatchObject({ error: { code: 'forbidden' } });
  }, 60_000);

  it('exits 2 with usage for wrong arguments, and for a missing token or API', async () => {
    for (const args of [['users', 'frobnicate'], ['users', 'show'], ['offboard', 'someone@example.com'], ['tokens', 'revoke', 'only-one'], ['--no-such-flag']]) {
      const run = await tenure(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(/error: /);
    }
    const noToken = await tenure(['users', 'show', admin.user.email], { TENURE_TOKEN: undefined });
    expect(noToken.code).toBe(2);
    expect(JSON.parse(noToken.stderr).error.message).toMatch(/TENURE_TOKEN/);
    // No URL and no running `npm start` in the data directory.
    const noUrl = await tenure(['users', 'show', admin.user.email], { TENURE_URL: undefined });
    expect(noUrl.code).toBe(2);
    expect(JSON.parse(noUrl.stderr).error.message).toMatch(/npm start/);
  }, 60_000);

  it('finds the API of a running local stack when no URL is given', async () => {
    writeFileSync(join(scratch, 'stack.json'), JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), apiUrl: url, env: {} }));
    try {
      const run = await tenure(['users', 'show', admin.user.email, '--json'], { TENURE_URL: undefined });
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).email).toBe(admin.user.email);
    } finally {
      rmSync(join(scratch, 'stack.json'), { force: true });
    }
  }, 60_000);
});

describe('tenure users and tokens', () => {
  it('search and show print the user; with --json the API answer itself', async () => {
    const shown = await tenure(['users', 'show', admin.user.email]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^email: +${admin.user.email}$`, 'm'));
    expect(shown.stdout).toMatch(/^role: +Administrators$/m);
    expect(shown.stdout).toMatch(/^name: +Cleo Admin$/m);

    const searched = await tenure(['--json', 'users', 'search', 'cli-admin*']);
    expect(searched.code).toBe(0);
    expect(JSON.parse(searched.stdout)).toEqual(json(await h.app.inject({ method: 'GET', url: '/v1/users/search?email=cli-admin*', headers: admin.auth })));

    const byId = await tenure(['users', 'show', String(admin.user._id), '--json']);
    expect(JSON.parse(byId.stdout).email).toBe(admin.user.email);
  }, 60_000);

  it('invites a user, revokes one of their tokens (twice: the second changes nothing) and deactivates them', async () => {
    const invited = await tenure(['--json', 'users', 'invite', 'cli-invitee@example.com', '--first-name', 'Ivy', '--last-name', 'Invitee', '--role', 'PowerUsers']);
    expect(invited.stderr).toBe('');
    expect(invited.code).toBe(0);
    const { user } = JSON.parse(invited.stdout);
    expect(await h.ctx.models.User.findById(user._id).lean()).toMatchObject({ email: 'cli-invitee@example.com', status: 'pending', siteRole: 'PowerUsers', firstName: 'Ivy' });
    const again = await tenure(['users', 'invite', 'cli-invitee@example.com']);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr).error.code).toBeTruthy();

    const holder = await seedUser(h.ctx.models, { email: 'cli-holder@example.com' });
    const [token] = await h.ctx.models.AccessToken.find({ userId: holder.user._id }).lean();
    const tokenId = String((token as { tokenId?: string }).tokenId);
    const revoked = await tenure(['tokens', 'revoke', holder.user.email, tokenId]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Token ${tokenId} of ${holder.user.email} revoked.`);
    const twice = await tenure(['--json', 'tokens', 'revoke', holder.user.email, tokenId]);
    expect(JSON.parse(twice.stdout)).toMatchObject({ alreadyRevoked: true });
    expect(await h.ctx.models.AuditEvent.countDocuments({ action: 'token.revoked', targetUserId: holder.user._id })).toBe(1);

    const deactivated = await tenure(['users', 'deactivate', holder.user.email]);
    expect(deactivated.code).toBe(0);
    expect(deactivated.stdout).toContain(`deactivated ${holder.user.email}`);
    expect(await h.ctx.models.User.findById(holder.user._id).lean()).toMatchObject({ status: 'deactivated' });
  }, 60_000);
});

describe('tenure dead-letters', () => {
  it('lists a dead-lettered HR event and replays it through the intake once its cause is fixed', async () => {
    const manager = await seedUser(h.ctx.models, { email: 'cli-new-manager@example.com' });
    const event = hrEvent('employee.updated', { id: 'CLI-LATE-1', managerEmail: manager.user.email });
    expect((await h.app.inject(signedGeneric(event))).statusCode).toBe(202);
    const letter = await eventually('the dead letter', () => h.ctx.models.HrDeadLetter.findOne({ eventId: event.eventId }).lean());

    const listed = await tenure(['dead-letters', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).deadLetters).toContainEqual(expect.objectContaining({ jobId: letter.jobId, eventId: event.eventId, reason: 'unknown_employee', replays: 0 }));
    const human = await tenure(['dead-letters', 'list']);
    expect(human.stdout).toMatch(new RegExp(`${letter.jobId}\\s+generic\\s+${event.eventId}\\s+employee.updated\\s+CLI-LATE-1\\s+unknown_employee`));

    // The cause fixed: the employee now exists. The replay applies the stored event.
    const employee = await seedUser(h.ctx.models, { email: 'cli-late@example.com', hrEmployeeId: 'CLI-LATE-1' });
    const replayed = await tenure(['--json', 'dead-letters', 'replay', letter.jobId]);
    expect(replayed.stderr).toBe('');
    expect(replayed.code).toBe(0);
    const answer = JSON.parse(replayed.stdout);
    expect(answer).toMatchObject({ jobId: letter.jobId, replayJobId: `${letter.jobId}-replay-1`, eventId: event.eventId, type: 'employee.updated' });
    await eventually('the manager set by the replayed event', async () => String((await h.ctx.models.User.findById(employee.user._id).lean())?.managerId) === String(manager.user._id));
    expect(await h.ctx.models.HrDeadLetter.findOne({ jobId: letter.jobId }).lean()).toMatchObject({ replays: 1, replayJobId: answer.replayJobId });
    expect(await h.ctx.models.AuditEvent.find({ action: 'hr.dead_letter_replayed' }).lean()).toMatchObject([{ actorType: 'user', actorId: admin.user._id, details: { jobId: letter.jobId, replayJobId: answer.replayJobId } }]);

    // Replaying again makes a new intake job (the event is applied again, idempotently).
    const second = await tenure(['dead-letters', 'replay', letter.jobId]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`${letter.jobId}-replay-2`);
  }, 60_000);

  it('replay is for Administrators, of a dead letter that exists, and changes nothing when refused', async () => {
    const auditor = await seedUser(h.ctx.models, { siteRole: 'Auditors' });
    const event = hrEvent('employee.updated', { id: 'CLI-LATE-2', managerEmail: 'nobody@example.com' });
    expect((await h.app.inject(signedGeneric(event))).statusCode).toBe(202);
    const letter = await eventually('the dead letter', () => h.ctx.models.HrDeadLetter.findOne({ eventId: event.eventId }).lean());
    const path = `/v1/hr/dead-letters/${letter.jobId}/replay`;
    expect((await h.app.inject({ method: 'POST', url: path })).statusCode).toBe(401);
    expect((await h.app.inject({ method: 'POST', url: path, headers: auditor.auth })).statusCode).toBe(403);
    const missing = await h.app.inject({ method: 'POST', url: '/v1/hr/dead-letters/hr-generic-0000/replay', headers: admin.auth });
    expect(missing.statusCode).toBe(404);
    expect(json(missing).error.code).toBe('dead_letter_not_found');
    expect((await h.app.inject({ method: 'POST', url: '/v1/hr/dead-letters/not%20an%20id/replay', headers: admin.auth })).statusCode).toBe(400);
    expect(await h.ctx.models.HrDeadLetter.findOne({ jobId: letter.jobId }).lean()).not.toHaveProperty('replays');
    expect(await h.ctx.models.AuditEvent.countDocuments({ action: 'hr.dead_letter_replayed', 'details.jobId': letter.jobId })).toBe(0);

    const viaCli = await tenure(['dead-letters', 'replay', letter.jobId], { TENURE_TOKEN: auditor.token });
    expect(viaCli.code).toBe(1);
    expect(JSON.parse(viaCli.stderr).error.code).toBe('forbidden');
  }, 60_000);
});

describe('tenure bulk offboard', () => {
  it('offboards the users of a CSV file, following the run (--json: the answer, then one line per change)', async () => {
    await setPolicy(h.ctx.models, { approvalRequired: false, retentionMs: null });
    const manager = await seedUser(h.ctx.models, { email: 'cli-bulk-manager@example.com' });
    const leavers = [];
    for (let i = 0; i < 3; i++) leavers.push(await seedUser(h.ctx.models, { email: `cli-bulk-${i}@example.com`, managerId: manager.user._id }));
    const file = join(scratch, 'leavers.csv');
    writeFileSync(file, `email,reason\n${leavers.map((l, i) => `${l.user.email},${i === 0 ? '"moved, abroad"' : ''}`).join('\n')}\n`);

    await withWorker(
      h.ctx,
      async () => {
        const run = await tenure(['bulk', 'offboard', file, '--reason', 'site closed', '--follow', '--json']);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        const [answer, ...changes] = jsonLines(run.stdout);
        expect(answer).toMatchObject({ started: true, users: 3 });
        expect(changes.at(-1)).toMatchObject({ workflowId: answer.processId, total: 3, settled: 3, done: true, byStatus: { completed: 3 } });
      },
      worker,
    );
    for (const l of leavers) expect(await h.ctx.models.User.findById(l.user._id).lean()).toMatchObject({ status: 'deactivated' });

    const missing = await tenure(['bulk', 'offboard', join(scratch, 'nope.csv')]);
    expect(missing.code).toBe(2);
    writeFileSync(file, 'name\nx\n');
    const badCsv = await tenure(['bulk', 'offboard', file]);
    expect(badCsv.code).toBe(1);
    expect(JSON.parse(badCsv.stderr).error.code).toBe('invalid_csv');
  }, 120_000);
});

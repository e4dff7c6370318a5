/**
 * The real worker process is SIGKILLed in the middle of an onboarding; another worker finishes it
 * and nobody gets an email twice: one invitation per send, one notice to the requester.
 */
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { onboardingWorkflowId } from '../../src/processes/onboarding';
import { onboardingProgressQuery } from '../../workflows/onboarding-messages';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createClient, withWorker } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';
import { invitationsTo, setInvitationPolicy, tokenIn } from './helpers';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

let ctx: TestContext;
let client: Client;
let smtp: TestSmtpServer;
let app: App;
let admin: SeededUser;
const running: WorkerProcess[] = [];

beforeAll(async () => {
  ctx = await createTestContext('onboarding-crash');
  client = await createClient(ctx);
  smtp = await startSmtpServer();
  app = await createTestApp(ctx, client);
  admin = await seedUser(ctx.models, { siteRole: 'Administrators' });
});

afterAll(async () => {
  await Promise.all(running.map((w) => w.kill()));
  await app?.close();
  await smtp?.close();
  await client?.connection.close();
  await ctx?.close();
});

async function sentAudits(email: string): Promise<number[]> {
  const events = await ctx.models.AuditEvent.find({ action: 'invitation.sent', targetEmail: email }).lean();
  return events.map((e) => (e.details as { sendNumber: number }).sendNumber).sort();
}

describe('worker crash during onboarding', () => {
  it('a worker killed while the invitation waits is replaced; the expiry resend and the acceptance happen once', { timeout: 150_000 }, async () => {
    await setInvitationPolicy(ctx.models, { lifetimeMs: 4_000, resends: 1 });
    const email = `crash-${randomUUID().slice(0, 8)}@example.com`;
    const handle = client.workflow.getHandle(onboardingWorkflowId(email));

    const first = await startWorkerProcess(ctx, { smtpUrl: smtp.url });
    running.push(first);
    const res = await app.inject({ method: 'POST', url: '/v1/users', headers: admin.auth, payload: { email, firstName: 'Grace' } });
    expect(res.statusCode).toBe(201);
    await eventually('invitation #1 to be sent and recorded', async () => (await sentAudits(email)).length === 1, 60_000);
    await eventually('the process to wait on the expiry timer', async () => (await handle.query(onboardingProgressQuery)).state === 'invited');
    await first.kill();

    // The expiry passes while no worker runs; the timer is durable on the server.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(invitationsTo(smtp.to(email))).toHaveLength(1);

    const second = await startWorkerProcess(ctx, { smtpUrl: smtp.url });
    running.push(second);
    await eventually('invitation #2 sent by the new worker', async () => (await sentAudits(email)).length === 2, 60_000);
    // Killed again, right after the send was recorded.
    await second.kill();

    const mails = invitationsTo(smtp.to(email));
    expect(mails).toHaveLength(2);
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(2);
    expect(await sentAudits(email)).toEqual([1, 2]);

    await withWorker(
      ctx,
      async () => {
        const old = await app.inject({ method: 'POST', url: `/v1/invitations/${tokenIn(mails[0]!)}/accept` });
        expect(old.statusCode).toBe(410);
        const ok = await app.inject({ method: 'POST', url: `/v1/invitations/${tokenIn(mails[1]!)}/accept` });
        expect(ok.statusCode).toBe(200);
        expect(await handle.result()).toMatchObject({ state: 'accepted', sends: 2 });
      },
      { smtpUrl: smtp.url },
    );
    expect(invitationsTo(smtp.to(email))).toHaveLength(2);
    expect(smtp.to(admin.user.email).filter((m) => m.subject.includes(`${email} accepted`))).toHaveLength(1);
    expect((await ctx.models.User.findOne({ email }).lean())!.status).toBe('active');
  });
});

/**
 * Records histories of the onboarding workflow into test/replay/histories/, for the replay test
 * that fails when a later edit would break running onboardings. Run once after a deliberate,
 * versioned change to the workflow: `npx tsx scripts/record-history-onboarding.ts [DIR]` (DIR:
 * write there instead, to add histories of the new version beside the old ones rather than
 * replace them).
 * Uses the servers of TEMPORAL_ADDRESS / REDIS_URL / MONGODB_URI, or starts local ones.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acceptInvitation } from '../src/services/invitations';
import { startOnboarding } from '../src/processes/onboarding';
import type { TestSmtpServer } from '../test/helpers/smtp';
import { historyToJson } from '../test/replay/history-json';
import {
  cancelOnboardingUpdate,
  completeRegistrationUpdate,
  invitationAcceptedSignal,
  issueInvitationLinkUpdate,
  onboardingProgressQuery,
  resendInvitationUpdate,
  type Caller,
} from '../workflows/onboarding-messages';
import { startScratchSystem } from './lib/scratch-system';

const OUT_DIR = process.argv[2] ?? fileURLToPath(new URL('../test/replay/histories/', import.meta.url));

async function main(): Promise<void> {
  const system = await startScratchSystem('record-onboarding');
  const { models, client, taskQueue, smtp } = system;
  try {
    await system.withWorker({}, async () => {
      await models.OrgSettings.updateOne({ _id: 'org' }, { $set: { invitationLifetimeMs: 2_000, invitationResends: 1, domain: 'example.com' } }, { upsert: true });
      const admin = await models.User.create({ email: 'admin@example.com', firstName: 'Ada', status: 'active', siteRole: 'Administrators' });
      const caller: Caller = { id: String(admin._id), role: 'Administrators', email: admin.email };
      const requestedBy = { type: 'user' as const, id: String(admin._id), email: admin.email };
      const histories: Record<string, WorkflowHandle> = {};

      // Accepted: first send, expiry resend, admin resend, copied link, acceptance.
      {
        const email = 'accepted@example.com';
        const handle = client.workflow.getHandle((await startOnboarding(client, taskQueue, { email, requestedBy, source: 'api' })).workflowId);
        await waitFor(() => handle.query(onboardingProgressQuery).then((p) => p.sends >= 2));
        await handle.executeUpdate(resendInvitationUpdate, { args: [{ caller }] });
        await handle.executeUpdate(issueInvitationLinkUpdate, { args: [{ caller, tokenHash: 'a'.repeat(64) }] });
        await handle.executeUpdate(resendInvitationUpdate, { args: [{ caller }] });
        const token = lastToken(smtp, email);
        const accepted = await acceptInvitation(models, token);
        await handle.signal(invitationAcceptedSignal, { userId: String(accepted.user._id), at: new Date().toISOString() });
        await handle.result();
        histories['onboarding-accepted'] = handle;
      }
      // Completed by an administrator after a refused attempt (unknown group).
      {
        const email = 'completed@example.com';
        const handle = client.workflow.getHandle((await startOnboarding(client, taskQueue, { email, requestedBy, source: 'slack', siteRole: 'Users' })).workflowId);
        await waitFor(() => handle.query(onboardingProgressQuery).then((p) => p.sends >= 1));
        await handle.executeUpdate(completeRegistrationUpdate, { args: [{ caller, siteRole: 'PowerUsers', groups: ['0123456789abcdef01234567'] }] }).catch(() => undefined);
        await handle.executeUpdate(completeRegistrationUpdate, { args: [{ caller, siteRole: 'PowerUsers' }] });
        await handle.result();
        histories['onboarding-completed'] = handle;
      }
      // Expired after every resend; the requester is told.
      {
        const handle = client.workflow.getHandle((await startOnboarding(client, taskQueue, { email: 'expired@example.com', requestedBy, source: 'api' })).workflowId);
        await handle.result();
        histories['onboarding-expired'] = handle;
      }
      // Cancelled by an administrator.
      {
        const handle = client.workflow.getHandle((await startOnboarding(client, taskQueue, { email: 'cancelled@example.com', requestedBy, source: 'api' })).workflowId);
        await waitFor(() => handle.query(onboardingProgressQuery).then((p) => p.sends >= 1));
        await handle.executeUpdate(cancelOnboardingUpdate, { args: [{ caller, reason: 'wrong address' }] });
        await handle.result();
        histories['onboarding-cancelled'] = handle;
      }
      // Refused: outside the organization's domain without confirmation.
      {
        const handle = client.workflow.getHandle((await startOnboarding(client, taskQueue, { email: 'guest@elsewhere.org', requestedBy, source: 'hr' })).workflowId);
        await handle.result();
        histories['onboarding-refused'] = handle;
      }

      for (const [name, handle] of Object.entries(histories)) {
        const json = scrub(JSON.stringify(historyToJson(await handle.fetchHistory())), taskQueue);
        writeFileSync(join(OUT_DIR, `${name}.json`), `${json}\n`);
        process.stdout.write(`recorded ${name}\n`);
      }
    });
  } finally {
    await system.close();
  }
}

/** Host names, process ids and stack traces say nothing to the replayer; keep them out of the repository. */
function scrub(json: string, taskQueue: string): string {
  const history = JSON.parse(json) as unknown;
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (node && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node as Record<string, unknown>).map(([key, value]) => {
          if (key === 'identity' && typeof value === 'string') return [key, 'recorder'];
          // Sticky task queues are named "<pid>@<host>-<id>".
          if (typeof value === 'string' && /^\d+@/.test(value)) return [key, 'recorder-sticky'];
          if (key === 'stackTrace' && typeof value === 'string') return [key, ''];
          if (typeof value === 'string' && value.startsWith(taskQueue)) return [key, 'onboarding-replay'];
          return [key, visit(value)];
        }),
      );
    }
    return node;
  };
  return JSON.stringify(visit(history), null, 1);
}

function lastToken(smtp: TestSmtpServer, email: string): string {
  const mails = smtp.to(email);
  const match = /\/invitations\/([A-Za-z0-9_-]{20,})\/accept/.exec(mails[mails.length - 1]!.body);
  if (!match) throw new Error(`no link mailed to ${email}`);
  return match[1]!;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}



main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

/**
 * A leaver's API token is in use from several connections while an offboarding with immediate
 * lockout runs. Recording a use must never undo the revocation: in every round the token is
 * refused afterwards, and the process never reports `completed` (clean) with a live credential.
 */
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { tokenAuthenticates } from '../../src/security/access-tokens';
import { getOffboardingProgress } from '../../src/processes/offboarding';
import type { OffboardingProgress } from '../../workflows/offboarding-messages';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createClient, withWorker } from '../helpers/temporal';
import { seedOrg, setPolicy } from './fixtures';

const ROUNDS = 8;
const CONNECTIONS = 6;

let ctx: TestContext;
let client: Client;
let app: App;
let smtp: TestSmtpServer;
let port: number;

beforeAll(async () => {
  ctx = await createTestContext('concurrentuse');
  client = await createClient(ctx);
  app = await createTestApp(ctx, client);
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
  smtp = await startSmtpServer();
  await setPolicy(ctx.models, { approvalRequired: false, retentionMs: null });
});

afterAll(async () => {
  await app?.close();
  await smtp?.close();
  await client?.connection.close();
  await ctx?.close();
});

/** One request over the given agent's connection; resolves with the status code. */
function get(agent: Agent, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Keeps a token busy from several keep-alive connections until stopped; counts answers. */
function hammer(token: string) {
  let running = true;
  const counts = { authenticated: 0, refused: 0 };
  const agents = Array.from({ length: CONNECTIONS }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  const loops = agents.map(async (agent) => {
    while (running) {
      // A Users-role token is authenticated (and its use recorded) before the role check's 403.
      const status = await get(agent, '/v1/users/active?limit=1', token);
      if (status === 401) counts.refused++;
      else counts.authenticated++;
    }
  });
  return {
    counts,
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const a of agents) a.destroy();
    },
  };
}

describe('a token in use while the lockout runs', () => {
  it(`is refused afterwards in every one of ${ROUNDS} rounds, and never reported clean while live`, async () => {
    const outcomes: Array<{ round: number; status: OffboardingProgress['status']; refusedAfter: boolean; liveTokens: number; authenticatedDuring: number }> = [];
    await withWorker(
      ctx,
      async () => {
        for (let round = 0; round < ROUNDS; round++) {
          const org = await seedOrg(ctx.models, { resources: 1 });
          const load = hammer(org.leaver.token);
          // The race is real only once the token is being used.
          await eventually('the leaver token in use', async () => load.counts.authenticated >= CONNECTIONS * 2);
          const started = await app.inject({
            method: 'POST',
            url: `/v1/users/${org.leaver.user.email}/offboarding`,
            headers: org.manager.auth,
            payload: { reason: 'leaving', immediateLockout: true },
          });
          expect(started.statusCode).toBe(202);
          const userId = String(org.leaver.user._id);
          const done = await eventually(
            'the offboarding to finish',
            async () => {
              const p = await getOffboardingProgress(client, userId);
              return ['completed', 'completed_with_access_left_behind', 'failed'].includes(p.status) ? p : undefined;
            },
            30_000,
          );
          // Uses keep arriving for a moment after the process ends, then stop.
          await new Promise((r) => setTimeout(r, 100));
          await load.stop();
          await new Promise((r) => setTimeout(r, 200));

          const refusedAfter = (await get(new Agent(), '/v1/users/active?limit=1', org.leaver.token)) === 401;
          const tokens = await ctx.models.AccessToken.find({ userId: org.leaver.user._id }).lean();
          const liveTokens = tokens.filter((t) => tokenAuthenticates(t)).length;
          outcomes.push({ round, status: done.status, refusedAfter, liveTokens, authenticatedDuring: load.counts.authenticated });
          if (done.status === 'completed') expect(done.verification).toMatchObject({ clean: true, liveTokens: 0 });
        }
      },
      { smtpUrl: smtp.url },
    );
    expect(outcomes.map((o) => o.refusedAfter)).toEqual(Array(ROUNDS).fill(true));
    expect(outcomes.map((o) => o.liveTokens)).toEqual(Array(ROUNDS).fill(0));
    expect(outcomes.map((o) => o.status)).toEqual(Array(ROUNDS).fill('completed'));
    for (const o of outcomes) expect(o.authenticatedDuring).toBeGreaterThanOrEqual(CONNECTIONS * 2);
  });
});

/**
 * Secrets stay out of the logs: the real app writes its request log into a stream the test
 * reads, and no line may hold an invitation token from a path, a credential from a query string
 * or an Authorization header.
 */
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { generateSecret } from '../../src/security/secrets';
import { createTestContext, eventually, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { createClient } from '../helpers/temporal';
import { seedUser, type SeededUser } from '../helpers/users';

let ctx: TestContext;
let client: Client;
let app: App;
let admin: SeededUser;
const lines: string[] = [];

beforeAll(async () => {
  ctx = await createTestContext('logredact');
  client = await createClient(ctx);
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level: 'trace', name: 'log-test', destination });
  app = await createTestApp(ctx, client, {}, { logger });
  await app.listen({ host: '127.0.0.1', port: 0 });
  admin = await seedUser(ctx.models, { email: 'admin@logs.test', siteRole: 'Administrators' });
});

afterAll(async () => {
  await app?.close();
  await client?.connection.close();
  await ctx?.close();
});

/** Every log line written since `mark`, with a check that the stream really captured something. */
function logSince(mark: number): string {
  const text = lines.slice(mark).join('\n');
  expect(text.length, 'the log stream captured nothing').toBeGreaterThan(0);
  // A Buffer logged as {"type":"Buffer","data":[71,69,84,…]} still carries its bytes: read them as text.
  return text.replace(/\{"type":"Buffer","data":\[([\d,]*)\]\}/g, (_m, bytes: string) => Buffer.from(bytes ? bytes.split(',').map(Number) : []).toString('latin1'));
}

function rawRequest(text: string): Promise<string> {
  const { port } = app.server.address() as { port: number };
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('connect', () => socket.write(text));
    setTimeout(() => reject(new Error(`no answer: ${answer}`)), 5_000);
  });
}

describe('hardening #3: secrets in logs', () => {
  it('hardening #3: an invitation token in the path is redacted from the request log', async () => {
    const mark = lines.length;
    const token = generateSecret(32);
    const accepted = await app.inject({ method: 'POST', url: `/v1/invitations/${token}/accept` });
    expect(accepted.statusCode).toBe(404);
    // The same token with a method the route does not take (405) is redacted too, and not echoed.
    const wrongMethod = await app.inject({ method: 'GET', url: `/v1/invitations/${token}/accept` });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.body).not.toContain(token);
    // And on a URL the router refuses before any route matches.
    const badUrl = await app.inject({ method: 'POST', url: `/v1/invitations/${token}/accept%FF` });
    expect(badUrl.statusCode).toBe(400);
    const log = logSince(mark);
    expect(log).toContain('/v1/invitations/[redacted]/accept');
    expect(log).not.toContain(token);
  });

  it('hardening #3: credentials in query strings are redacted, other parameters kept', async () => {
    const mark = lines.length;
    const secrets = { access_token: generateSecret(24), Token: generateSecret(24), client_secret: generateSecret(24), password: generateSecret(24), code: generateSecret(24), api_key: generateSecret(24), signature: generateSecret(24), 'X-Amz-Signature': generateSecret(24), sig: generateSecret(24) };
    const query = new URLSearchParams({ limit: '5', ...secrets }).toString();
    const res = await app.inject({ method: 'GET', url: `/v1/users?${query}`, headers: admin.auth });
    expect(res.statusCode).toBe(400);
    // A public route, a route that does not exist and a refused token all log redacted.
    await app.inject({ method: 'GET', url: `/healthz?access_token=${secrets.access_token}` });
    await app.inject({ method: 'GET', url: `/v1/nowhere?token=${secrets.Token}` });
    await app.inject({ method: 'GET', url: `/v1/users?access_token=${secrets.access_token}`, headers: { authorization: `Bearer ${secrets.password}` } });
    const log = logSince(mark);
    expect(log).toContain('limit=5');
    expect(log).toContain('access_token=[redacted]');
    for (const [name, value] of Object.entries(secrets)) expect(log, `${name} appears in the log`).not.toContain(value);
  });

  it('hardening #3: a malformed request is logged without its URL or headers', async () => {
    const mark = lines.length;
    const token = generateSecret(32);
    const bearer = generateSecret(32);
    const answer = await rawRequest(`GET /v1/invitations/${token}/accept?access_token=${token} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${bearer}\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    await eventually('a log line about the refused request', async () => lines.length > mark);
    const log = logSince(mark);
    expect(log).not.toContain(token);
    expect(log).not.toContain(bearer);
  });
});

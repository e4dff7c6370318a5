/**
 * Requests no HTTP client library would send, written byte by byte on a socket: every answer,
 * including those Node's parser or the router gives before a route runs, is the API's
 * `{ "error": { "code", "message" } }` with a fitting status.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, type Harness } from '../users/harness';
import { seedUser, type SeededUser } from '../helpers/users';

let h: Harness;
let port: number;
let admin: SeededUser;

beforeAll(async () => {
  h = await openHarness('rawrequests');
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  port = (h.app.server.address() as { port: number }).port;
  admin = await seedUser(h.ctx.models, { email: 'admin@raw.test', siteRole: 'Administrators' });
});

afterAll(async () => {
  await h?.close();
});

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes `request` as is and reads the first answer on the connection. */
function send(request: Buffer | string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer: ${Buffer.concat(chunks).toString('latin1').slice(0, 300)}`));
    }, 5_000);
    const finish = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    };
    socket.on('data', (d) => {
      chunks.push(d);
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /content-length:\s*(\d+)/i.exec(text.slice(0, end));
      if (end >= 0 && length && Buffer.concat(chunks).length >= end + 4 + Number(length[1])) {
        socket.destroy();
        finish();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', finish);
    socket.on('connect', () => socket.write(request));
  });
}

function expectEnvelope(answer: RawAnswer, status: number, code?: string) {
  expect(answer.status, JSON.stringify(answer).slice(0, 400)).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(answer.body) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(typeof body.error.code).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(10);
  if (code) expect(body.error.code).toBe(code);
  return body.error;
}

const latin1 = (text: string) => Buffer.from(text, 'latin1');

describe('hardening #9: errors outside the envelope', () => {
  it('hardening #9: a raw 0xFF byte in the path gets the envelope', async () => {
    expectEnvelope(await send(latin1(`GET /v1/users/\xff HTTP/1.1\r\nHost: x\r\nAuthorization: ${admin.auth.authorization}\r\n\r\n`)), 400, 'bad_request');
    expectEnvelope(await send(latin1('GET /healthz\x00 HTTP/1.1\r\nHost: x\r\n\r\n')), 400, 'bad_request');
  });

  it('hardening #9: a 100 KB URL is 414 and oversized headers 431, both with the envelope', async () => {
    expectEnvelope(await send(`GET /v1/users?q=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`), 414, 'uri_too_long');
    expectEnvelope(await send(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(40_000)}\r\n\r\n`), 431, 'headers_too_large');
  });

  it('hardening #9: malformed request lines, headers and framing get the envelope', async () => {
    const malformed = [
      'GARBAGE\r\n\r\n',
      'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
      'POST /v1/groups HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
      'POST /v1/groups HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      'POST /v1/groups HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    ];
    for (const request of malformed) expectEnvelope(await send(request), 400, 'bad_request');
  });

  it('hardening #9: router refusals (bad percent-encoding, overlong parameter) keep the envelope', async () => {
    expectEnvelope(await send(`GET /v1/users/%FF%FE HTTP/1.1\r\nHost: x\r\nAuthorization: ${admin.auth.authorization}\r\n\r\n`), 400, 'bad_url');
    expectEnvelope(await send(`GET /v1/users/${'a'.repeat(2_000)} HTTP/1.1\r\nHost: x\r\nAuthorization: ${admin.auth.authorization}\r\n\r\n`), 414, 'uri_too_long');
  });

  it('hardening #9: a well-formed request on the same server still works', async () => {
    const ok = await send(`GET /v1/users/${admin.user._id} HTTP/1.1\r\nHost: x\r\nAuthorization: ${admin.auth.authorization}\r\nConnection: close\r\n\r\n`);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).email).toBe('admin@raw.test');
  });
});

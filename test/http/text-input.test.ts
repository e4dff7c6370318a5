/**
 * Text typed by people (names, titles, reasons, group names, token names…) follows the one text
 * rule: well-formed Unicode, no control characters. Bodies are UTF-8: broken bytes and another
 * declared charset are refused. Every refusal is a 4xx envelope and changes nothing.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedResource, seedUser, storeSnapshot, type SeededUser } from '../helpers/users';
import { json, openHarness, type Harness } from '../users/harness';

let h: Harness;
let admin: SeededUser;
let target: SeededUser;
let other: SeededUser;
let resourceId: string;
let snapshot: string;

const storeState = () => storeSnapshot(h.ctx.models);

beforeAll(async () => {
  h = await openHarness('textinput');
  admin = await seedUser(h.ctx.models, { email: 'admin@text.test', siteRole: 'Administrators' });
  target = await seedUser(h.ctx.models, { email: 'target@text.test' });
  other = await seedUser(h.ctx.models, { email: 'other@text.test' });
  resourceId = String((await seedResource(h.ctx.models, target.user._id))._id);
});

beforeEach(async () => {
  snapshot = await storeState();
});

afterAll(async () => {
  await h?.close();
});

async function refused(req: InjectOptions & { url: string }, status = 400): Promise<{ code: string; message: string }> {
  const res = await h.app.inject({ ...req, headers: { ...admin.auth, ...(req.headers as Record<string, string> | undefined) } });
  expect(res.statusCode, `${req.method} ${req.url}: ${res.body.slice(0, 300)}`).toBe(status);
  const body = json(res);
  expect(typeof body.error.code).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(5);
  expect(await storeState(), `${req.method} ${req.url} changed the store`).toBe(snapshot);
  return body.error;
}

// As JSON escapes: NUL, a C0 control, DEL, a C1 control (NEL), a lone high and a lone low surrogate.
const BAD_TEXT = ['Ann\u0000', 'Ann\u0007Lee', 'Ann\u007f', 'Ann\u0085', 'Ann\ud800', '\udc00Ann', 'Ann\ufffd'];

describe('hardening #8: text fields and body encodings', () => {
  it('hardening #8: every free-text field refuses control characters and broken Unicode', async () => {
    const fields: Array<{ method: InjectOptions['method']; url: string; body: (text: string) => Record<string, unknown> }> = [
      ...['firstName', 'lastName', 'preferredName', 'title', 'site', 'division'].map((field) => ({ method: 'POST' as const, url: '/v1/users', body: (t: string) => ({ email: 'new.person@text.test', [field]: t }) })),
      { method: 'POST', url: '/v1/groups', body: (t) => ({ name: t }) },
      { method: 'POST', url: '/v1/groups', body: (t) => ({ name: 'Engineering', description: t }) },
      { method: 'POST', url: `/v1/resources/${resourceId}/transfer`, body: (t) => ({ newOwnerId: String(other.user._id), reason: t }) },
      { method: 'POST', url: `/v1/users/${target.user._id}/tokens`, body: (t) => ({ name: t }) },
      { method: 'POST', url: `/v1/users/${target.user._id}/sessions`, body: (t) => ({ userAgent: t }) },
      { method: 'POST', url: `/v1/users/${target.user._id}/offboarding`, body: (t) => ({ reason: t }) },
      { method: 'POST', url: `/v1/users/${target.user._id}/offboarding/reject`, body: (t) => ({ reason: t }) },
      { method: 'POST', url: `/v1/users/${target.user._id}/offboarding/cancel`, body: (t) => ({ reason: t }) },
      { method: 'POST', url: `/v1/users/${target.user._id}/offboarding/undo`, body: (t) => ({ reason: t }) },
      { method: 'POST', url: `/v1/users/${target.user._id}/reactivation`, body: (t) => ({ reason: t }) },
      { method: 'POST', url: `/v1/users/${target.user._id}/invitation/cancel`, body: (t) => ({ reason: t }) },
      { method: 'POST', url: '/v1/offboardings/bulk', body: (t) => ({ users: [String(target.user._id)], reason: t }) },
      { method: 'POST', url: '/v1/offboardings/bulk', body: (t) => ({ users: [{ user: String(target.user._id), reason: t }], reason: 'leaving' }) },
    ];
    for (const field of fields) {
      for (const text of BAD_TEXT) {
        const error = await refused({ method: field.method, url: field.url, payload: JSON.stringify(field.body(text)), headers: { 'content-type': 'application/json' } });
        expect(error.code, `${field.url} ${JSON.stringify(field.body(text))}`).toBe('invalid_request');
      }
    }
  });

  it('hardening #8: text in query strings follows the same rule', async () => {
    for (const q of ['%00ann', 'ann%07', '%C2%85ann', 'ann%EF%BF%BD']) {
      await refused({ method: 'GET', url: `/v1/users?q=${q}` });
      await refused({ method: 'GET', url: `/v1/users/export.csv?q=${q}` });
    }
  });

  it('hardening #8: a user named in the path follows the same rule, and the refusal does not echo it', async () => {
    for (const idOrEmail of ['target%00%40text.test', 'target%07%40text.test', 'tar%C2%85get%40text.test']) {
      const error = await refused({ method: 'GET', url: `/v1/users/${idOrEmail}` });
      expect(error.message).not.toMatch(/[\u0000-\u001f\u0085]/);
    }
  });

  it('hardening #8: bytes that are not valid UTF-8 (overlong, truncated, stray) are refused wherever they are', async () => {
    const overlongSlash = Buffer.from([0xc0, 0xaf]);
    const bodies = [
      Buffer.concat([Buffer.from('{"email":"encoded.person@text.test","firstName":"Ann'), overlongSlash, Buffer.from('"}')]),
      Buffer.concat([Buffer.from('{"email":"encoded.person@text.test","lastName":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')]),
      Buffer.concat([Buffer.from('{"email":"encoded.person@text.test","title":"x'), Buffer.from([0xff]), Buffer.from('"}')]),
      // Outside any free-text field: in an email and in a key.
      Buffer.concat([Buffer.from('{"email":"encoded.pers'), Buffer.from([0xc3, 0x28]), Buffer.from('on@text.test"}')]),
      Buffer.concat([Buffer.from('{"email":"encoded.person@text.test","fi'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('rstName":"Ann"}')]),
    ];
    for (const payload of bodies) {
      const error = await refused({ method: 'POST', url: '/v1/users', payload, headers: { 'content-type': 'application/json' } });
      expect(error.code).toBe('invalid_encoding');
    }
    await refused({ method: 'POST', url: '/v1/groups', payload: Buffer.concat([Buffer.from('{"name":"Eng'), overlongSlash, Buffer.from('"}')]), headers: { 'content-type': 'application/json; charset=utf-8' } });
  });

  it('hardening #8: a body declared in another charset is 415; utf-8 in any spelling is accepted', async () => {
    const utf16 = Buffer.from(JSON.stringify({ email: 'new.person@text.test', firstName: 'Ann' }), 'utf16le');
    for (const type of ['application/json; charset=utf-16', 'application/json; charset=UTF-16LE', 'application/json;charset=iso-8859-1', 'application/json; charset="latin1"']) {
      const error = await refused({ method: 'POST', url: '/v1/users', payload: utf16, headers: { 'content-type': type } }, 415);
      expect(error.code).toBe('unsupported_media_type');
      expect(error.message).toMatch(/UTF-8/);
    }
    const csv = await refused({ method: 'POST', url: '/v1/offboardings/bulk', payload: Buffer.from('email\nx@text.test\n', 'utf16le'), headers: { 'content-type': 'text/csv; charset=utf-16' } }, 415);
    expect(csv.code).toBe('unsupported_media_type');
    for (const type of ['application/json; charset=utf-8', 'application/json; charset=UTF-8', 'application/json; charset="utf-8"', 'application/json']) {
      const res = await h.app.inject({ method: 'POST', url: '/v1/groups', headers: { ...admin.auth, 'content-type': type }, payload: JSON.stringify({ name: `Team ${type.length}${type.includes('"') ? 'q' : ''}${type.includes('UTF') ? 'u' : ''}` }) });
      expect(res.statusCode, `${type}: ${res.body}`).toBe(201);
    }
  });

  it('hardening #8: well-formed text outside ASCII is kept as sent, trimmed', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/groups', headers: admin.auth, payload: { name: '  Équipe 東京 🚀  ', description: 'Ünïcödé is fine' } });
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res).name).toBe('Équipe 東京 🚀');
  });
});

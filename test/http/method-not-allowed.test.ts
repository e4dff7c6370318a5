/**
 * Undeclared methods: every path a route serves answers the methods it does not declare with
 * 405 and an Allow header naming those it does (GET brings HEAD), in the API's error envelope,
 * SCIM's error format or a console page; a path no route serves stays 404 whatever the method.
 * Walked over every operation of the OpenAPI document, so a route added later is covered too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_TOKEN, scimRequest } from '../scim/scim-kit';
import { json, openHarness, type Harness } from '../users/harness';

let h: Harness;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const ORDER: readonly string[] = METHODS;

beforeAll(async () => {
  h = await openHarness('methods', { SCIM_BEARER_TOKEN: SCIM_TOKEN });
});

afterAll(async () => {
  await h?.close();
});

/** A documented path as a pattern of the URLs it serves. */
const templateOf = (path: string) => new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+')}$`);

const allowOf = (res: { headers: Record<string, unknown> }) =>
  String(res.headers.allow ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean)
    .sort();

describe('undeclared methods get 405 with Allow', () => {
  it('every path of the OpenAPI document answers each method it does not declare with 405, Allow listing the declared ones, before authentication', async () => {
    const doc = h.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const paths = Object.entries(doc.paths);
    expect(paths.length).toBeGreaterThan(25);
    let refused = 0;
    for (const [path, byMethod] of paths) {
      const url = path.replace(/\{\w+\}/g, 'some-value-0123');
      // The methods of every documented path this URL matches: /v1/users/search is also a
      // /v1/users/{idOrEmail}, whose DELETE it therefore takes.
      const declared = new Set(
        paths.filter(([other]) => templateOf(other).test(url)).flatMap(([, methods]) => Object.keys(methods).map((m) => m.toUpperCase())),
      );
      expect(Object.keys(byMethod).every((m) => declared.has(m.toUpperCase()))).toBe(true);
      if (declared.has('GET')) declared.add('HEAD');
      const expected = [...declared].sort();
      for (const method of METHODS.filter((m) => !declared.has(m))) {
        // No token: the answer is about the route, not the caller.
        const res = await h.app.inject({ method, url });
        expect(res.statusCode, `${method} ${url}`).toBe(405);
        expect(allowOf(res), `${method} ${url}`).toEqual(expected);
        if (method !== 'HEAD') {
          expect(json(res).error, `${method} ${url}`).toEqual({ code: 'method_not_allowed', message: `${method} is not allowed here; this path takes ${[...expected].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)).join(', ')}.` });
        }
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(100);
  });

  it('the query string does not change the answer; a token changes nothing either', async () => {
    const res = await h.app.inject({ method: 'PUT', url: '/healthz?probe=1', headers: { authorization: 'Bearer not-a-token' } });
    expect(res.statusCode).toBe(405);
    expect(allowOf(res)).toEqual(['GET', 'HEAD']);
    expect(json(res).error.message).toBe('PUT is not allowed here; this path takes GET, HEAD.');
  });

  it('a path no route serves stays 404 route_not_found for every method, and no Allow is sent', async () => {
    for (const url of ['/v1/no-such-route', '/healthz/extra', '/v1/users/a/b/c/d/e', '/nothing']) {
      for (const method of METHODS) {
        const res = await h.app.inject({ method, url });
        expect(res.statusCode, `${method} ${url}`).toBe(404);
        expect(res.headers.allow, `${method} ${url}`).toBeUndefined();
        if (method !== 'HEAD') expect(json(res).error.code).toBe('route_not_found');
      }
    }
  });

  it("a route's own 404 (a user that does not exist) stays 404: the method is declared", async () => {
    const admin = await import('../helpers/users').then((m) => m.seedUser(h.ctx.models, { email: 'admin@methods.test', siteRole: 'Administrators' }));
    const res = await h.app.inject({ method: 'GET', url: '/v1/users/nobody%40methods.test', headers: { authorization: `Bearer ${admin.token}` } });
    expect(res.statusCode).toBe(404);
    expect(res.headers.allow).toBeUndefined();
  });

  it('SCIM answers an undeclared method with 405 in its own error format, after its bearer check', async () => {
    const res = await scimRequest(h.app, 'PUT', '/Users', {});
    expect(res.statusCode).toBe(405);
    expect(allowOf(res)).toEqual(['GET', 'HEAD', 'POST']);
    expect(res.headers['content-type']).toContain('application/scim+json');
    expect(json(res)).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '405', detail: 'PUT is not allowed here; this path takes GET, HEAD, POST.' });
    const onUser = await scimRequest(h.app, 'POST', '/Users/0123456789abcdef01234567', {});
    expect(onUser.statusCode).toBe(405);
    expect(allowOf(onUser)).toEqual(['DELETE', 'GET', 'HEAD', 'PATCH', 'PUT']);
    // Without the token, SCIM says 401 first, as it does for unknown paths.
    expect((await h.app.inject({ method: 'PUT', url: '/scim/v2/Users' })).statusCode).toBe(401);
    expect((await scimRequest(h.app, 'PUT', '/NoSuchResource', {})).statusCode).toBe(404);
  });

  it('the console answers an undeclared method with a 405 page, without a session; unknown console pages stay 404', async () => {
    const res = await h.app.inject({ method: 'PUT', url: '/console/users' });
    expect(res.statusCode).toBe(405);
    expect(allowOf(res)).toContain('GET');
    expect(allowOf(res)).not.toContain('PUT');
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('data-code="method_not_allowed"');
    const signOut = await h.app.inject({ method: 'GET', url: '/console/sign-out' });
    expect(signOut.statusCode).toBe(405);
    expect(allowOf(signOut)).toEqual(['POST']);
    const unknown = await h.app.inject({ method: 'PUT', url: '/console/no-such-page' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toContain('data-code="route_not_found"');
  });
});

/**
 * Signing in to the console the way a browser does, over app.inject: ask for a link, read it
 * from the captured email, confirm, keep the session cookie and the page's CSRF token.
 */
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { App } from '../../src/http/app';
import { eventually } from '../helpers/context';
import type { TestSmtpServer } from '../helpers/smtp';

export interface ConsoleBrowser {
  cookie: string;
  csrf: string;
}

/** `name=value` of a Set-Cookie header, by cookie name. */
export function setCookies(res: LightMyRequestResponse): Map<string, string> {
  const raw = res.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return new Map(list.map((c) => [c.slice(0, c.indexOf('=')), c]));
}

/** A URL-encoded form post, as a browser sends it (a list repeats its field). */
export function form(cookie: string | undefined, fields: Record<string, string | string[]>) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
  return { headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) }, payload: params.toString() };
}

export function cookiePair(setCookie: string): string {
  return setCookie.split(';')[0]!;
}

export function csrfOf(body: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(body);
  if (!match) throw new Error('the page has no CSRF field');
  return match[1]!;
}

/** Asks for a link for `email` as a fresh browser; returns that browser's form cookie. */
export async function askForLink(app: App, email: string): Promise<{ res: LightMyRequestResponse; formCookie: string }> {
  const page = await app.inject({ method: 'GET', url: '/console/sign-in' });
  const formCookie = cookiePair(setCookies(page).get('tenure_console_form')!);
  const res = await app.inject({ method: 'POST', url: '/console/sign-in', ...form(formCookie, { _csrf: csrfOf(page.body), email }) });
  return { res, formCookie };
}

/** The newest sign-in link mailed to `email` after `before` mails had arrived. */
export async function linkFromMail(smtp: TestSmtpServer, email: string, before: number): Promise<string> {
  const mail = await eventually(`a sign-in email to ${email}`, async () => smtp.to(email)[before]);
  const match = /https?:\/\/[^\s"<>]+\/console\/sign-in\/([A-Za-z0-9_-]+)/.exec(mail.body);
  if (!match) throw new Error('the email has no sign-in link');
  return `/console/sign-in/${match[1]}`;
}

/** Signs in as `email` from a fresh browser through the emailed link. */
export async function signIn(app: App, smtp: TestSmtpServer, email: string): Promise<ConsoleBrowser> {
  const before = smtp.to(email).length;
  const { res } = await askForLink(app, email);
  expect(res.statusCode).toBe(200);
  const path = await linkFromMail(smtp, email, before);
  const confirm = await app.inject({ method: 'GET', url: path });
  expect(confirm.statusCode).toBe(200);
  const formCookie = cookiePair(setCookies(confirm).get('tenure_console_form')!);
  const done = await app.inject({ method: 'POST', url: path, ...form(formCookie, { _csrf: csrfOf(confirm.body) }) });
  expect(done.statusCode).toBe(303);
  expect(done.headers.location).toBe('/console/users');
  const cookie = cookiePair(setCookies(done).get('tenure_console')!);
  const users = await app.inject({ method: 'GET', url: '/console/users', headers: { cookie } });
  expect(users.statusCode).toBe(200);
  return { cookie, csrf: csrfOf(users.body) };
}

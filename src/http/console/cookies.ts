/**
 * The console's two cookies, both HttpOnly, SameSite=Strict, Path=/console, and Secure unless
 * the public address is this machine (plain http://localhost while developing):
 * - the session cookie: the session secret, sent by the browser only to the console;
 * - the form cookie: a random value the sign-in forms repeat in a hidden field (double submit),
 *   so even the forms used before a session exists cannot be posted from another site.
 * Parsing and serializing are the cookie package's; only well-formed values of these two are read.
 */
import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'tenure_console';
export const FORM_COOKIE = 'tenure_console_form';
const COOKIE_PATH = '/console';
const VALUE = /^[A-Za-z0-9_-]{16,128}$/;

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether cookies carry `Secure`: everywhere but a public address on this machine. */
export function secureCookies(publicBaseUrl: string): boolean {
  const host = new URL(publicBaseUrl).hostname;
  return !(LOCAL_HOSTS.has(host) || host.endsWith('.localhost'));
}

/** The value of one of the console's cookies, when present and well-formed. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  const value = parseCookie(header)[name];
  return value !== undefined && VALUE.test(value) ? value : undefined;
}

function serialize(name: string, value: string, secure: boolean, maxAgeSeconds?: number): string {
  return stringifySetCookie(name, value, { path: COOKIE_PATH, httpOnly: true, sameSite: 'strict', secure, maxAge: maxAgeSeconds, ...(maxAgeSeconds === 0 ? { expires: new Date(0) } : {}) });
}

function appendCookie(reply: FastifyReply, cookie: string): void {
  const existing = reply.getHeader('set-cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  reply.header('set-cookie', [...list, cookie]);
}

export function setCookie(reply: FastifyReply, name: string, value: string, secure: boolean, maxAgeSeconds?: number): void {
  appendCookie(reply, serialize(name, value, secure, maxAgeSeconds));
}

export function clearCookie(reply: FastifyReply, name: string, secure: boolean): void {
  appendCookie(reply, serialize(name, '', secure, 0));
}

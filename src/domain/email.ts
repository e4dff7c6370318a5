/** Email normalisation, the one email-address rule and the `email=` search patterns. Pure: no I/O. */
import { z } from 'zod';

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function domainOf(email: string): string {
  return normalizeEmail(email).split('@')[1] ?? '';
}

/** Escapes every regular-expression metacharacter, so user input is matched literally. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

export const MAX_PATTERN_LENGTH = 254;
const MAX_WILDCARDS = 4;
const MIN_LITERAL_ALNUM = 2;
const PATTERN_CHARS = /^[a-z0-9._%+'@*-]+$/;

/**
 * A parsed `email=` pattern. `*` is the only wildcard; everything else is literal.
 * - exact: no wildcard
 * - domain: the domain part is literal, so the query narrows on the indexed emailDomain field
 * - prefix: the pattern starts with a literal, so an anchored regex can use the email index
 */
export type EmailPattern = {
  raw: string;
  domain?: string;
  /** Literal prefix before the first wildcard (may be empty). */
  prefix: string;
} & (
  | { exact: string; regex?: undefined }
  | {
      exact?: undefined;
      /** Anchored, RE2-compatible, case-insensitive-safe (input is lower-cased) regular expression. */
      regex: string;
    }
);

export class PatternError extends Error {
  override readonly name = 'PatternError';
}

export function parseEmailPattern(input: string): EmailPattern {
  const raw = normalizeEmail(input);
  if (!raw) throw new PatternError('The email pattern is empty.');
  if (raw.length > MAX_PATTERN_LENGTH) throw new PatternError(`The email pattern is longer than ${MAX_PATTERN_LENGTH} characters.`);
  if (/\s/.test(raw)) throw new PatternError('The email pattern may not contain spaces.');
  // Only characters an unquoted address can hold: "(a+)+$"-style input is refused, not matched.
  if (!PATTERN_CHARS.test(raw)) throw new PatternError('The email pattern may contain only letters, digits, "*" and the characters . _ % + \' - @.');
  const wildcards = (raw.match(/\*/g) ?? []).length;
  // ".*.*.*" names nothing: a wildcard pattern needs at least two literal letters or digits.
  if (wildcards > 0 && (raw.match(/[a-z0-9]/g) ?? []).length < MIN_LITERAL_ALNUM) {
    throw new PatternError(`A wildcard pattern needs at least ${MIN_LITERAL_ALNUM} letters or digits besides "*".`);
  }
  if (wildcards === 0) {
    return { raw, exact: raw, domain: domainOf(raw) || undefined, prefix: raw };
  }
  if (wildcards > MAX_WILDCARDS) throw new PatternError(`The email pattern may contain at most ${MAX_WILDCARDS} "*" wildcards.`);
  if ((raw.match(/@/g) ?? []).length > 1) throw new PatternError('The email pattern may contain at most one "@".');
  const at = raw.lastIndexOf('@');
  const domain = at >= 0 && !raw.slice(at + 1).includes('*') && raw.slice(at + 1) ? raw.slice(at + 1) : undefined;
  // Collapse runs of "*" so "**" cannot build a pathological expression.
  const collapsed = raw.replace(/\*+/g, '*');
  const regex = `^${collapsed.split('*').map(escapeRegex).join('.*')}$`;
  return { raw, domain, regex, prefix: collapsed.slice(0, collapsed.indexOf('*')) };
}

const MAX_EMAIL_LENGTH = 254;
const emailAddressSchema = z.email();

/**
 * The one email-address rule of every way in (API, SCIM, HR, Slack, bootstrap): a single `@`,
 * a dotted domain, no markup or control characters, at most 254 characters. Returns why
 * `input` is not an address, or null when it is.
 */
export function emailAddressProblem(input: string): string | null {
  const email = normalizeEmail(input);
  if (!email) return 'is empty';
  if (email.length > MAX_EMAIL_LENGTH) return `is longer than ${MAX_EMAIL_LENGTH} characters`;
  if (!emailAddressSchema.safeParse(email).success) return 'is not an email address';
  return null;
}

/** Why `domain` cannot be an organization's email domain (the domain part of the one address rule), or null. */
export function emailDomainProblem(domain: string): string | null {
  if (domain.includes('@')) return 'must be a domain without "@" (example.com)';
  return emailAddressProblem(`postmaster@${domain}`) === null ? null : 'is not a domain name (example.com)';
}

export function isEmailAddress(input: string): boolean {
  return emailAddressProblem(input) === null;
}

/** A zod string holding an email address under the one rule, normalised (trimmed, lower-cased). */
export const emailAddress = z
  .string()
  .max(MAX_EMAIL_LENGTH + 64)
  .transform(normalizeEmail)
  .superRefine((email, ctx) => {
    const problem = emailAddressProblem(email);
    if (problem) ctx.addIssue({ code: 'custom', message: `must be an email address (${problem})` });
  });

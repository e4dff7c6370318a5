/**
 * Parsing of the slash commands' text. Pure: returns the parsed arguments or a usage error
 * that says what was wrong and shows the correct form.
 */
import { isEmailAddress, normalizeEmail } from '../domain/email';
import { isSiteRole, SITE_ROLES, type SiteRole } from '../domain/roles';

export const USAGE = {
  offboard: '/offboard @user|email [on YYYY-MM-DD] [reason]',
  onboard: `/onboard email [role] [group…] [--outside-domain]   (role: ${SITE_ROLES.join(', ')})`,
  reactivate: '/reactivate email',
  lifecycle: '/lifecycle email',
} as const;

export type CommandName = keyof typeof USAGE;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** A person named in a command: a Slack mention or an email address. */
export type PersonRef = { slackUserId: string } | { email: string };

const MENTION = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/;
const MAILTO = /^<mailto:([^|>]+)(?:\|[^>]*)?>$/;

function usage(command: CommandName, problem: string): { ok: false; error: string } {
  return { ok: false, error: `${problem}\nUsage: \`${USAGE[command]}\`` };
}

function tokens(text: string): string[] {
  return text.trim().split(/\s+/).filter(Boolean);
}

export function parsePerson(token: string | undefined): PersonRef | undefined {
  if (!token) return undefined;
  const mention = MENTION.exec(token);
  if (mention) return { slackUserId: mention[1]! };
  const mailto = MAILTO.exec(token);
  const email = (mailto ? mailto[1]! : token).toLowerCase();
  return isEmailAddress(email) ? { email: normalizeEmail(email) } : undefined;
}

function parseEmail(token: string | undefined): string | undefined {
  const person = parsePerson(token);
  return person && 'email' in person ? person.email : undefined;
}

export interface OffboardArgs {
  person: PersonRef;
  effectiveDate?: string;
  reason: string;
}

export function parseOffboard(text: string, today: Date): Parsed<OffboardArgs> {
  const [first, ...rest] = tokens(text);
  if (!first) return usage('offboard', 'Say who is leaving.');
  const person = parsePerson(first);
  if (!person) return usage('offboard', `"${first}" is neither a @mention nor an email address.`);
  let effectiveDate: string | undefined;
  if (rest[0]?.toLowerCase() === 'on') {
    const date = rest[1];
    if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)) || new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date) {
      return usage('offboard', `"${date ?? ''}" is not a date in the form YYYY-MM-DD.`);
    }
    if (date < today.toISOString().slice(0, 10)) return usage('offboard', `${date} is in the past; give today or a later date, or leave the date out to start now.`);
    effectiveDate = date;
    rest.splice(0, 2);
  }
  const reason = rest.join(' ').slice(0, 500) || 'Offboarded from Slack';
  return { ok: true, value: { person, effectiveDate, reason } };
}

export interface OnboardArgs {
  email: string;
  siteRole?: SiteRole;
  groups: string[];
  /** Confirms an invitee outside the organization's email domain; without it such an invitation is refused. */
  confirmDomainMismatch: boolean;
}

export const OUTSIDE_DOMAIN_FLAG = '--outside-domain';

export function parseOnboard(text: string): Parsed<OnboardArgs> {
  const all = tokens(text);
  const confirmDomainMismatch = all.includes(OUTSIDE_DOMAIN_FLAG);
  const unknownFlag = all.find((t) => t.startsWith('--') && t !== OUTSIDE_DOMAIN_FLAG);
  if (unknownFlag) return usage('onboard', `"${unknownFlag}" is not an option.`);
  const [first, second, ...rest] = all.filter((t) => t !== OUTSIDE_DOMAIN_FLAG);
  if (!first) return usage('onboard', 'Say whom to invite.');
  const email = parseEmail(first);
  if (!email) return usage('onboard', `"${first}" is not an email address.`);
  let siteRole: SiteRole | undefined;
  let groups = rest;
  if (second) {
    const role = SITE_ROLES.find((r) => r.toLowerCase() === second.toLowerCase());
    if (role && isSiteRole(role)) siteRole = role;
    else if (/^(admin|administrator|poweruser|user|auditor|securitymanager)s?$/i.test(second)) return usage('onboard', `"${second}" is not a role; roles are spelled ${SITE_ROLES.join(', ')}.`);
    else groups = [second, ...rest];
  }
  if (groups.length > 20) return usage('onboard', 'At most 20 groups at once.');
  return { ok: true, value: { email, siteRole, groups, confirmDomainMismatch } };
}

export function parseSingleEmail(command: 'reactivate' | 'lifecycle', text: string): Parsed<{ email: string }> {
  const parts = tokens(text);
  if (parts.length !== 1) return usage(command, parts.length ? 'Give exactly one email address.' : 'Say whom you mean.');
  const email = parseEmail(parts[0]);
  if (!email) return usage(command, `"${parts[0]}" is not an email address.`);
  return { ok: true, value: { email } };
}

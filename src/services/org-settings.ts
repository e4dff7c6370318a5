/**
 * The organization's settings as Administrators read and change them (API, console): validated
 * here once, changed in one write, audited with what changed from what. A plan whose limit is
 * below the seats in use is refused unless the change is confirmed, and then the answer says
 * what that means: nobody loses access, and nobody is invited or reactivated until seats are freed.
 */
import type { Models } from '../db/models';
import { getOrgSettings, offboardingRetentionMs, ORG_SETTINGS_ID, type OrgSettings } from '../db/models/org-settings';
import { ACTIVE_USER_LIMITS, type Plan } from '../domain/plans';
import { ConflictError, UnprocessableError } from '../errors';
import { recordAudit, type Actor } from './audit';
import { seatsInUse } from './users';

interface SettingsView {
  name: string;
  plan: Plan;
  domain: string;
  invitationLifetimeMs: number;
  invitationResends: number;
  offboarding: {
    approvalRequired: boolean;
    defaultNewOwnerId: string | null;
    retentionMs: number | null;
    immediateLockoutOnHrTermination: boolean;
  };
}

interface SettingsUsage {
  plan: Plan;
  /** Active users the plan allows; null when unlimited. */
  limit: number | null;
  /** Active and pending users (a pending invitee holds a seat). */
  seatsInUse: number;
}

export type SettingsChange = Partial<Omit<SettingsView, 'offboarding'>> & { offboarding?: Partial<SettingsView['offboarding']> };

export interface SettingsAnswer {
  settings: SettingsView;
  usage: SettingsUsage;
  /** What the change means beyond itself (e.g. a plan below the seats in use). */
  notices: string[];
}

function view(settings: OrgSettings): SettingsView {
  return {
    name: settings.name,
    plan: settings.plan,
    domain: settings.domain ?? '',
    invitationLifetimeMs: settings.invitationLifetimeMs,
    invitationResends: settings.invitationResends,
    offboarding: {
      approvalRequired: settings.offboarding?.approvalRequired ?? true,
      defaultNewOwnerId: settings.offboarding?.defaultNewOwnerId ? String(settings.offboarding.defaultNewOwnerId) : null,
      retentionMs: offboardingRetentionMs(settings),
      immediateLockoutOnHrTermination: settings.offboarding?.immediateLockoutOnHrTermination ?? true,
    },
  };
}

async function usageOf(models: Models, plan: Plan): Promise<SettingsUsage> {
  const limit = ACTIVE_USER_LIMITS[plan];
  return { plan, limit: Number.isFinite(limit) ? limit : null, seatsInUse: await seatsInUse(models) };
}

export async function readSettings(models: Models): Promise<SettingsAnswer> {
  const settings = view(await getOrgSettings(models.OrgSettings));
  return { settings, usage: await usageOf(models, settings.plan), notices: [] };
}

/** Flattens a change to the stored field paths it sets. */
function storedPaths(change: SettingsChange): Record<string, unknown> {
  const { offboarding, ...top } = change;
  const paths: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(top)) if (value !== undefined) paths[key] = value;
  for (const [key, value] of Object.entries(offboarding ?? {})) if (value !== undefined) paths[`offboarding.${key}`] = value;
  return paths;
}

function currentAt(current: SettingsView, path: string): unknown {
  const [head, tail] = path.split('.') as [keyof SettingsView, string | undefined];
  const value = current[head];
  return tail ? (value as Record<string, unknown>)[tail] : value;
}

/** Applies `change` for `actor`; `confirmOverLimit` accepts a plan below the seats in use. */
export async function changeSettings(models: Models, change: SettingsChange, actor: Actor, options: { confirmOverLimit?: boolean } = {}): Promise<SettingsAnswer> {
  const current = view(await getOrgSettings(models.OrgSettings));
  const wanted = storedPaths(change);
  const changes = Object.fromEntries(
    Object.entries(wanted)
      .filter(([path, to]) => currentAt(current, path) !== to)
      .map(([path, to]) => [path, { from: currentAt(current, path), to }]),
  );
  const notices: string[] = [];
  const plan = change.plan ?? current.plan;
  const usage = await usageOf(models, plan);

  if (changes['offboarding.defaultNewOwnerId']?.to) {
    const owner = await models.User.findOne({ _id: changes['offboarding.defaultNewOwnerId'].to as string, status: 'active' }, { _id: 1 }).lean();
    if (!owner) throw new UnprocessableError('The default new owner must be an active user.', 'default_owner_inactive');
  }
  if (changes.plan && usage.limit !== null && usage.seatsInUse > usage.limit) {
    const over = usage.seatsInUse - usage.limit;
    const consequence = `Nobody loses access, but nobody can be invited, re-invited or reactivated until ${over} seat${over === 1 ? ' is' : 's are'} freed (deactivate users or cancel pending invitations).`;
    if (!options.confirmOverLimit) {
      throw new ConflictError(`The ${plan} plan allows ${usage.limit} active users and ${usage.seatsInUse} seats are taken (active and pending). ${consequence} Send "confirmOverLimit": true to change the plan anyway.`, 'plan_below_usage', {
        plan,
        limit: usage.limit,
        seatsInUse: usage.seatsInUse,
        over,
      });
    }
    notices.push(`The organization is ${over} seat${over === 1 ? '' : 's'} above the ${plan} plan's limit of ${usage.limit}. ${consequence}`);
  }
  if (!Object.keys(changes).length) return { settings: current, usage, notices };

  const set = Object.fromEntries(Object.entries(changes).map(([path, { to }]) => [path, to]));
  // The retention now has a unit of its own: a document still holding days stops doing so.
  const unset = 'offboarding.retentionMs' in set ? { 'offboarding.retentionDays': '' } : {};
  // (`strict: false` lets the unset name the field the schema no longer has.)
  await models.OrgSettings.updateOne({ _id: ORG_SETTINGS_ID }, { $set: set, $unset: unset }, { strict: false });
  await recordAudit(models, { action: 'settings.changed', actor, details: { changes, ...(notices.length ? { notices } : {}) } });
  return { settings: view(await getOrgSettings(models.OrgSettings)), usage, notices };
}


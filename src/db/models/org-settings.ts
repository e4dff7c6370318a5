import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';
import { PLANS } from '../../domain/plans';

export const ORG_SETTINGS_ID = 'org';

/** The organization's settings: one document. */
const orgSettingsSchema = new Schema(
  {
    _id: { type: String, default: ORG_SETTINGS_ID },
    name: { type: String, default: 'Example Inc.' },
    plan: { type: String, enum: PLANS, default: 'Enterprise' },
    /** The organization's email domain; invitees outside it need an explicit confirmation. */
    domain: { type: String, default: '' },
    invitationLifetimeMs: { type: Number, default: 7 * 86_400_000 },
    /** Automatic resends after the first invitation expires. */
    invitationResends: { type: Number, default: 3 },
    offboarding: {
      approvalRequired: { type: Boolean, default: true },
      defaultNewOwnerId: { type: Schema.Types.ObjectId },
      /**
       * How long a deactivated account is kept before its permanent delete, in milliseconds;
       * null keeps it forever. Read it with `offboardingRetentionMs` (older documents hold days).
       */
      retentionMs: { type: Number, default: null },
      immediateLockoutOnHrTermination: { type: Boolean, default: true },
    },
  },
  { collection: 'org_settings', timestamps: true, versionKey: false },
);

export type OrgSettings = InferSchemaType<typeof orgSettingsSchema>;
export type OrgSettingsModel = Model<OrgSettings>;

export function orgSettingsModel(conn: Connection): OrgSettingsModel {
  return (conn.models.OrgSettings as OrgSettingsModel | undefined) ?? conn.model<OrgSettings>('OrgSettings', orgSettingsSchema);
}

const DAY_MS = 86_400_000;

/**
 * The retention period of deactivated accounts in milliseconds, null to keep them forever.
 * Documents written before the setting had a unit of its own hold `offboarding.retentionDays`
 * instead (and no `retentionMs`): that is read as whole days.
 */
export function offboardingRetentionMs(settings: OrgSettings): number | null {
  const offboarding = settings.offboarding as (OrgSettings['offboarding'] & { retentionDays?: number | null }) | undefined;
  if (offboarding?.retentionMs !== undefined) return offboarding.retentionMs ?? null;
  const days = offboarding?.retentionDays;
  return typeof days === 'number' ? days * DAY_MS : null;
}

/** Reads the settings, creating the defaults on first use. */
export async function getOrgSettings(model: OrgSettingsModel): Promise<OrgSettings> {
  const found = await model.findById(ORG_SETTINGS_ID).lean();
  if (found) return found as OrgSettings;
  await model.updateOne({ _id: ORG_SETTINGS_ID }, { $setOnInsert: { _id: ORG_SETTINGS_ID } }, { upsert: true, setDefaultsOnInsert: true });
  return (await model.findById(ORG_SETTINGS_ID).lean()) as OrgSettings;
}

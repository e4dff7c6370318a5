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
      /** Days a deactivated account is kept before permanent delete; null means never. */
      retentionDays: { type: Number, default: null },
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

/** Reads the settings, creating the defaults on first use. */
export async function getOrgSettings(model: OrgSettingsModel): Promise<OrgSettings> {
  const found = await model.findById(ORG_SETTINGS_ID).lean();
  if (found) return found as OrgSettings;
  await model.updateOne({ _id: ORG_SETTINGS_ID }, { $setOnInsert: { _id: ORG_SETTINGS_ID } }, { upsert: true, setDefaultsOnInsert: true });
  return (await model.findById(ORG_SETTINGS_ID).lean()) as OrgSettings;
}

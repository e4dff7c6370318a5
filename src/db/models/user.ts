import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';
import { SITE_ROLES } from '../../domain/roles';
import { USER_STATUSES } from '../../domain/user-state';
import { domainOf, normalizeEmail } from '../../domain/email';

const invitationSchema = new Schema(
  {
    /** SHA-256 of the current invitation token; the token itself is never stored. */
    tokenHash: { type: String },
    sentAt: { type: Date },
    expiresAt: { type: Date },
    /** How many times an invitation has been sent (first send included). */
    sendCount: { type: Number, default: 0 },
    acceptedAt: { type: Date },
    expiredAt: { type: Date },
    invitedBy: { type: Schema.Types.ObjectId },
    /** The onboarding workflow that owns this invitation. */
    workflowId: { type: String },
    /** When access ended (lockout, deactivation, delete) while this invitation was outstanding. */
    revokedAt: { type: Date },
  },
  { _id: false },
);

const lockoutSchema = new Schema(
  {
    at: { type: Date, required: true },
    /** The offboarding that locked the account out, and its run. */
    processId: { type: String, required: true },
    runId: { type: String },
  },
  { _id: false },
);

/**
 * A user account: profile (names, email, organization, groups, site role) plus lifecycle state. Email is stored
 * lower-cased (so uniqueness is case-insensitive) with its domain in an indexed field of its own,
 * so `email=*@example.com` is an index lookup, never a collection scan.
 */
const userSchema = new Schema(
  {
    email: { type: String, required: true, set: normalizeEmail },
    emailDomain: { type: String, required: true },
    firstName: { type: String, default: '' },
    lastName: { type: String, default: '' },
    preferredName: { type: String },
    title: { type: String },
    site: { type: String },
    division: { type: String },
    organization: { type: String },
    domain: { type: String },
    sso: { type: String },
    groups: { type: [Schema.Types.ObjectId], default: [] },
    applications: { type: [String], default: [] },
    tools: { type: [String], default: [] },
    siteRole: { type: String, enum: SITE_ROLES, required: true, default: 'Users' },
    status: { type: String, enum: USER_STATUSES, required: true, default: 'pending' },
    managerId: { type: Schema.Types.ObjectId },
    hrEmployeeId: { type: String },
    /** What the HR system last said of this person (reconciliation compares it with status). */
    hrStatus: { type: String, enum: ['employed', 'terminated'] },
    lastLoginAt: { type: Date },
    deactivatedAt: { type: Date },
    /** Session that is currently valid; a new login replaces it (one active session per account). */
    activeSessionId: { type: Schema.Types.ObjectId },
    invitation: { type: invitationSchema },
    /**
     * Set by an offboarding's immediate lockout (see src/services/access.ts): while it holds, no
     * session, API token or invitation is created and no invitation accepted. Lifted by the
     * offboarding's cancel or rejection, and by a reactivation or re-invite.
     */
    lockout: { type: lockoutSchema },
    /** Lower-cased words of name and email, for prefix text search through a multikey index. */
    searchTokens: { type: [String], default: [] },
    createdBy: { type: Schema.Types.ObjectId },
  },
  { collection: 'users', timestamps: true, versionKey: false },
);

/*
 * Every filter the code sends has an index here. Expected mongod plans (explain "winningPlan"):
 *   { email }                                   exact lookup, login, invite     IXSCAN email_1 (unique), FETCH
 *   { email: /^john/ } sort email, limit 2      email prefix search             IXSCAN email_1 [bounds "john", "joho"), no SORT
 *   { emailDomain, email?: /re/ } sort email    email search *@d, *x*@d         IXSCAN emailDomain_1_email_1, regex on keys, no SORT
 *   { status: {$in}, siteRole?: {$in} } sort createdAt   users table tabs       IXSCAN status_1_createdAt_-1 or status_1_siteRole_1_createdAt_-1, SORT_MERGE
 *   { status: {$in} } count (limit)             plan seat check                 COUNT_SCAN on the status prefix
 *   { siteRole, status }                        admins to notify                IXSCAN status_1_siteRole_1_createdAt_-1
 *   { status: 'pending', invitation.expiresAt: {$lte} }   expiry sweep           IXSCAN status_1_invitation.expiresAt_1
 *   { searchTokens: /^w/ } (every word)         q= text search                  IXSCAN searchTokens_1 (multikey) on the first word
 *   { hrEmployeeId } / { managerId } / { groups }   HR intake, reports, members IXSCAN on each
 */
userSchema.index({ email: 1 }, { unique: true });
userSchema.index({ emailDomain: 1, email: 1 });
userSchema.index({ status: 1, createdAt: -1 });
userSchema.index({ status: 1, siteRole: 1, createdAt: -1 });
userSchema.index({ status: 1, 'invitation.expiresAt': 1 });
userSchema.index({ searchTokens: 1 });
userSchema.index({ hrEmployeeId: 1 });
userSchema.index({ managerId: 1 });
userSchema.index({ groups: 1 });

userSchema.pre('validate', function () {
  if (this.email) this.emailDomain = domainOf(this.email);
  this.searchTokens = searchTokensFor(this);
});

export function searchTokensFor(user: { email?: string; firstName?: string | null; lastName?: string | null; preferredName?: string | null }): string[] {
  const words = [user.firstName, user.lastName, user.preferredName, user.email?.split('@')[0], user.email]
    .filter((w): w is string => !!w)
    .flatMap((w) => w.toLowerCase().split(/[\s._+-]+/).concat(w.toLowerCase()))
    .filter(Boolean);
  return [...new Set(words)];
}

export type User = InferSchemaType<typeof userSchema>;
export type UserModel = Model<User>;

export function userModel(conn: Connection): UserModel {
  return (conn.models.User as UserModel | undefined) ?? conn.model<User>('User', userSchema);
}

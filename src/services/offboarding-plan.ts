/**
 * The offboarding plan: what an offboarding of one user would do, read from the store without
 * changing anything. The API's dry run and the workflow's planning activity share it.
 */
import { Types } from 'mongoose';
import type { Models } from '../db/models';
import { getOrgSettings } from '../db/models/org-settings';
import type { OffboardingPlan, OwnerSource } from '../../workflows/offboarding-messages';
import { getUserById } from './users';
import { countSubjectDocuments } from '../db/count';

/** The plan lists at most this many resources; `resourcesTotal` counts them all. */
const PLAN_RESOURCE_LIMIT = 1000;

export interface PlanOptions {
  userId: Types.ObjectId | string;
  /** The new owner the requester asked for, if any. */
  newOwnerId?: string;
}

/** Why a candidate cannot receive the leaver's resources, or undefined when it can. */
export async function newOwnerProblem(models: Models, candidateId: string, leaverId: string): Promise<string | undefined> {
  if (candidateId === leaverId) return 'the leaver cannot receive their own resources';
  if (!Types.ObjectId.isValid(candidateId) || !/^[0-9a-f]{24}$/i.test(candidateId)) return `${candidateId} is not a valid user id`;
  const user = await models.User.findById(candidateId, { status: 1, email: 1 }).lean();
  if (!user) return `no user with id ${candidateId}`;
  if (user.status !== 'active') return `${user.email} is ${user.status}; only an active user can own resources`;
  return undefined;
}

export async function buildOffboardingPlan(models: Models, options: PlanOptions): Promise<OffboardingPlan> {
  const leaver = await getUserById(models, options.userId);
  const leaverId = String(leaver._id);
  const settings = await getOrgSettings(models.OrgSettings);
  const candidates: Array<{ id: string | undefined; source: OwnerSource; label: string }> = [
    { id: options.newOwnerId, source: 'given', label: 'the requested new owner' },
    { id: leaver.managerId ? String(leaver.managerId) : undefined, source: 'manager', label: 'the manager' },
    { id: settings.offboarding?.defaultNewOwnerId ? String(settings.offboarding.defaultNewOwnerId) : undefined, source: 'org_default', label: "the organization's default owner" },
  ];
  const notes: string[] = [];
  let newOwner: OffboardingPlan['newOwner'] = null;
  for (const candidate of candidates) {
    if (!candidate.id) continue;
    const problem = await newOwnerProblem(models, candidate.id, leaverId);
    if (problem) {
      notes.push(`Passed over ${candidate.label}: ${problem}.`);
      continue;
    }
    const user = await models.User.findById(candidate.id, { email: 1 }).lean();
    newOwner = { id: candidate.id, email: user!.email, source: candidate.source };
    break;
  }

  const [resources, resourcesTotal, activeSessions, tokens] = await Promise.all([
    models.Resource.find({ ownerId: leaver._id }, { kind: 1, name: 1 }).sort({ kind: 1, name: 1 }).limit(PLAN_RESOURCE_LIMIT).lean(),
    countSubjectDocuments(models.Resource, { ownerId: leaver._id }),
    countSubjectDocuments(models.Session, { userId: leaver._id, endedAt: null }),
    models.AccessToken.find({ userId: leaver._id, revokedAt: null }, { tokenId: 1, name: 1 }).lean(),
  ]);
  // A new owner is needed only for something to own.
  if (!newOwner) notes.push(resourcesTotal ? 'No new owner could be proposed; the approver has to choose one.' : 'Nothing is owned, so no new owner is needed.');

  return {
    userId: leaverId,
    email: leaver.email,
    status: leaver.status,
    hrStatus: leaver.hrStatus ?? null,
    managerId: leaver.managerId ? String(leaver.managerId) : null,
    newOwner,
    notes,
    resources: resources.map((r) => ({ id: String(r._id), kind: r.kind, name: r.name, newOwnerId: newOwner?.id ?? null })),
    resourcesTotal,
    sessions: { active: activeSessions },
    tokens: tokens.map((t) => ({ tokenId: t.tokenId, name: t.name ?? 'API token' })),
    groups: (leaver.groups ?? []).map(String),
    builtAt: new Date().toISOString(),
  };
}

/**
 * The lifecycle events tenure publishes to the platform's own services (outbound webhooks), and
 * which audit entries they are read from: the audit log is where every way in records these
 * changes, so it is the one source (the webhook outbox reads it). Pure: no I/O.
 */
export const LIFECYCLE_EVENT_TYPES = ['user.created', 'user.activated', 'user.deactivated', 'user.deleted', 'offboarding.completed'] as const;
export type LifecycleEventType = (typeof LIFECYCLE_EVENT_TYPES)[number];

/** Every audit action a lifecycle event is read from. */
export const LIFECYCLE_AUDIT_ACTIONS = [
  'user.created',
  'user.bootstrapped',
  'invitation.accepted',
  'registration.completed',
  'user.reactivated',
  'user.deactivated',
  'invitation.cancelled',
  'user.deleted',
  'offboarding.completed',
  'offboarding.access_left_behind',
] as const;

/** The fields of an audit entry the mapping reads. */
export interface LifecycleAuditEntry {
  action: string;
  at: Date;
  actorType: string;
  targetUserId?: unknown;
  targetEmail?: string | null;
  processId?: string | null;
  details?: unknown;
}

export interface LifecycleEvent {
  type: LifecycleEventType;
  timestamp: string;
  data: Record<string, unknown>;
}

const record = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

/**
 * The connected systems an offboarding left access behind in: the audit details of
 * `offboarding.access_left_behind` carry the verification, whose `systems` are each system's
 * check (`{system, clean, ...}`).
 */
function systemsLeftBehind(details: unknown): string[] {
  const systems = record(details).systems;
  if (!Array.isArray(systems)) return [];
  return systems.map(record).filter((check) => check.clean === false && typeof check.system === 'string').map((check) => check.system as string);
}

/** The lifecycle event an audit entry stands for, or undefined when it stands for none. */
export function lifecycleEventOf(entry: LifecycleAuditEntry): LifecycleEvent | undefined {
  const details = record(entry.details);
  const user = { userId: entry.targetUserId == null ? null : String(entry.targetUserId), email: entry.targetEmail ?? null };
  const base = { ...user, actorType: entry.actorType, ...(entry.processId ? { processId: entry.processId } : {}) };
  const event = (type: LifecycleEventType, data: Record<string, unknown>): LifecycleEvent => ({ type, timestamp: entry.at.toISOString(), data: { ...base, ...data } });
  switch (entry.action) {
    case 'user.created':
      return event('user.created', { siteRole: details.siteRole ?? null, source: 'created' });
    case 'user.bootstrapped':
      // Bootstrapping an existing account promotes it; only a new account is a creation.
      return details.created === true ? event('user.created', { siteRole: 'Administrators', source: 'bootstrap' }) : undefined;
    case 'invitation.accepted':
      return event('user.activated', { via: 'invitation_accepted' });
    case 'registration.completed':
      return event('user.activated', { via: 'registration_completed', siteRole: details.siteRole ?? null });
    case 'user.reactivated':
      return event('user.activated', { via: 'reactivated' });
    case 'user.deactivated':
      return event('user.deactivated', { via: 'deactivated' });
    case 'invitation.cancelled':
      return event('user.deactivated', { via: 'invitation_cancelled' });
    case 'user.deleted':
      // `reason: onboarding_not_started`: the invitation's user was removed because its onboarding could not start.
      return event('user.deleted', typeof details.reason === 'string' ? { reason: details.reason } : {});
    case 'offboarding.completed':
      return event('offboarding.completed', { outcome: 'completed', accessLeftBehind: false, systemsLeftBehind: [] });
    case 'offboarding.access_left_behind':
      return event('offboarding.completed', { outcome: 'completed_with_access_left_behind', accessLeftBehind: true, systemsLeftBehind: systemsLeftBehind(details) });
    default:
      return undefined;
  }
}

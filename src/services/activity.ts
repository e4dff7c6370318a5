/** A user's activity log: the audit events about them, newest first. */
import type { Types } from 'mongoose';
import type { Models } from '../db/models';
import type { AuditEvent } from '../db/models/audit-event';
import { readPage, type PageRequest } from './paging';

type StoredEvent = AuditEvent & { _id: Types.ObjectId };

function toApiAuditEvent(e: StoredEvent) {
  return {
    _id: String(e._id),
    at: e.at.toISOString(),
    action: e.action,
    actorType: e.actorType,
    actorId: e.actorId ? String(e.actorId) : undefined,
    actorEmail: e.actorEmail ?? undefined,
    targetUserId: e.targetUserId ? String(e.targetUserId) : undefined,
    targetEmail: e.targetEmail ?? undefined,
    processId: e.processId ?? undefined,
    ip: e.ip ?? undefined,
    details: (e.details as Record<string, unknown> | undefined) ?? undefined,
  };
}

/** Index { targetUserId: 1, at: -1 }: equality on the user, then the index order (IXSCAN, no sort stage). */
export async function userActivity(models: Models, userId: Types.ObjectId, filter: { action?: string }, page: PageRequest) {
  const query: Record<string, unknown> = { targetUserId: userId };
  if (filter.action) query.action = filter.action;
  const { items, page: info } = await readPage(
    page,
    (skip, limit) => models.AuditEvent.find(query).sort({ at: -1, _id: -1 }).skip(skip).limit(limit).lean<StoredEvent[]>(),
    () => models.AuditEvent.countDocuments(query),
  );
  return { page: info, events: items.map(toApiAuditEvent) };
}

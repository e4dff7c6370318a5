import type { Types } from 'mongoose';
import type { Models } from '../db/models';

export interface Actor {
  type: 'user' | 'system' | 'hr' | 'scim' | 'slack';
  id?: Types.ObjectId | string;
  email?: string;
  ip?: string;
}

export const SYSTEM_ACTOR: Actor = { type: 'system' };

/**
 * Who an audit entry names: an Actor, or a platform service by its credential. Only the resource
 * operations take a service; every other operation takes an Actor, so a service cannot reach them.
 */
export type AuditActor = Actor | { type: 'service'; id: Types.ObjectId; email?: undefined; ip?: string };

export interface AuditInput {
  action: string;
  actor: AuditActor;
  target?: { id?: Types.ObjectId | string; email?: string };
  processId?: string;
  details?: Record<string, unknown>;
  /** When set, the event is written once however often this is called (retried activities). */
  eventKey?: string;
}

/** Appends one event to the audit log. */
export async function recordAudit(models: Models, input: AuditInput): Promise<void> {
  const doc = {
    at: new Date(),
    action: input.action,
    actorType: input.actor.type,
    actorId: input.actor.id,
    actorEmail: input.actor.email,
    ip: input.actor.ip,
    targetUserId: input.target?.id,
    targetEmail: input.target?.email,
    processId: input.processId,
    details: input.details,
    eventKey: input.eventKey,
  };
  if (input.eventKey) {
    // Insert-if-absent keyed on eventKey (the append-only guard allows inserts only, so the
    // driver's collection is used directly). The unique index decides a race: the loser's
    // duplicate-key error means the event is already recorded.
    try {
      await models.AuditEvent.collection.updateOne({ eventKey: input.eventKey }, { $setOnInsert: doc }, { upsert: true });
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
    }
    return;
  }
  await models.AuditEvent.create(doc);
}

/**
 * The dead-letter mechanism of tenure's queues (the HR intake, outbound webhooks): a failed job
 * is kept once per job id, listed newest first, and replayed under a new job id
 * `<job id>-replay-<n>`, counted atomically so concurrent replays differ (the queue keeps the
 * first id and would ignore it). Each list is its own collection with these fields.
 */
import type { Model } from 'mongoose';

export interface DeadLetterFields {
  jobId: string;
  at: Date;
  replays?: number | null;
  replayedAt?: Date | null;
  replayJobId?: string | null;
}

// The collections differ in their other fields; the mechanism reads and writes only these.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type DeadLetterModel = Model<any>;

/** Keeps the letter once per job id (a retried job does not add a second one); true when this call stored it. */
export async function keepDeadLetter<T extends DeadLetterFields>(model: DeadLetterModel, letter: T): Promise<boolean> {
  const result = await model.updateOne({ jobId: letter.jobId }, { $setOnInsert: letter }, { upsert: true });
  return result.upsertedCount === 1;
}

export async function listDeadLettersOf<T extends DeadLetterFields>(model: DeadLetterModel, options: { limit: number; before?: Date }): Promise<T[]> {
  const query = options.before ? { at: { $lt: options.before } } : {};
  return (await model.find(query).sort({ at: -1 }).limit(options.limit).lean()) as unknown as T[];
}

/** Takes a letter up for a replay: the stored letter and the new job id, or undefined when there is none. */
export async function claimReplay<T extends DeadLetterFields>(model: DeadLetterModel, jobId: string): Promise<{ letter: T; replayJobId: string } | undefined> {
  const letter = (await model.findOneAndUpdate({ jobId }, { $inc: { replays: 1 } }, { returnDocument: 'after' }).lean()) as unknown as T | null;
  if (!letter) return undefined;
  return { letter, replayJobId: `${jobId}-replay-${letter.replays ?? 1}` };
}

/** Records that the replay's job is queued. */
export async function markReplayed<T extends DeadLetterFields>(model: DeadLetterModel, jobId: string, replayJobId: string): Promise<void> {
  await model.updateOne({ jobId }, { $set: { replayedAt: new Date(), replayJobId } });
}

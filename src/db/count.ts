import type { Model } from 'mongoose';

/**
 * Counts one subject's documents (a user's sessions, tokens or resources, a group's members) by
 * reading their ids through the index on the filter's field. Such sets are small, and this shape
 * is answered from the index everywhere: `countDocuments` runs an aggregation ($match, $group),
 * which mongod answers from the index but the embedded server answers by scanning the collection.
 * Counts over a whole collection (seats in use, list totals) keep `countDocuments`.
 */
export async function countSubjectDocuments(model: Model<any>, filter: Record<string, unknown>): Promise<number> {
  return (await model.find(filter, { _id: 1 }).lean()).length;
}

import type { Connection } from 'mongoose';
import { systemCheckModel } from './models/system-check';

/** Every model, bound to one connection. */
export function createModels(conn: Connection) {
  return {
    SystemCheck: systemCheckModel(conn),
  };
}

export type Models = ReturnType<typeof createModels>;

/** Builds every declared index (idempotent); run once at start-up by each process. */
export async function ensureIndexes(models: Models): Promise<void> {
  for (const model of Object.values(models)) {
    await model.createIndexes();
  }
}

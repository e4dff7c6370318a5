/**
 * CSV export of the user list: name, email, role, status, last login, created.
 * Streamed from a cursor, so a large directory is never held in memory.
 */
import { pipeline, Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Models } from '../db/models';
import { buildUserFilter, type UserFilter } from './user-queries';
import { displayName } from './user-view';

const CSV_COLUMNS = ['name', 'email', 'role', 'status', 'lastLoginAt', 'createdAt'] as const;

/**
 * A spreadsheet runs a cell that begins with = + - @ (or a tab or carriage return) as a formula;
 * a leading apostrophe makes it text (CSV formula injection).
 */
export function csvSafeCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

export function exportUsersCsv(models: Models, filter: UserFilter, logger: { error(obj: object, msg: string): void }): Readable {
  const cursor = models.User.find(buildUserFilter(filter), { firstName: 1, lastName: 1, preferredName: 1, email: 1, siteRole: 1, status: 1, lastLoginAt: 1, createdAt: 1 })
    .sort({ createdAt: 1, _id: 1 })
    .lean()
    .cursor();
  async function* rows() {
    for await (const u of cursor) {
      yield [displayName(u), u.email, u.siteRole, u.status, u.lastLoginAt?.toISOString() ?? '', (u as { createdAt?: Date }).createdAt?.toISOString() ?? ''].map(csvSafeCell);
    }
  }
  return pipeline(Readable.from(rows()), stringify({ header: true, columns: [...CSV_COLUMNS] }), (err) => {
    if (err) logger.error({ err }, 'user CSV export failed mid-stream');
  });
}

import { normalizeEmail } from '../domain/email';
import type { Models } from '../db/models';
import type { StoredUser } from '../services/users';
import type { HrEmployee } from './events';

/** The tenure user an HR record is about: by HR employee id first, then by work email. */
export async function findUserForEmployee(models: Models, employee: HrEmployee): Promise<StoredUser | null> {
  const byHrId = await models.User.findOne({ hrEmployeeId: employee.id }).lean<StoredUser>();
  if (byHrId) return byHrId;
  if (!employee.email) return null;
  return models.User.findOne({ email: normalizeEmail(employee.email) }).lean<StoredUser>();
}

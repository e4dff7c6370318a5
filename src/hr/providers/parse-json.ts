import type { z } from 'zod';
import { ValidationError } from '../../errors';

export function parseJsonBody(rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new ValidationError('The request body is not valid JSON.', undefined, 'malformed_json');
  }
}

/** Validates with a zod schema; the first problem becomes the 400's sentence. */
export function validateBody<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const first = details[0]!;
  throw new ValidationError(`Invalid ${what}: ${first.path ? `field "${first.path}" ` : ''}${first.message}.`, details, 'invalid_event');
}

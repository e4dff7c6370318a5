/**
 * Who asks a process for something, the same shape for every process. No Node imports: this
 * module is part of the workflow bundle.
 */

/** A person acting on a running process; id and role come from our authenticated API or Slack mapping. */
export interface Caller {
  id: string;
  role: string;
  email?: string;
}

/** Who started a process (a person, or a system such as HR or SCIM). */
export interface Requester {
  type: 'user' | 'system' | 'hr' | 'scim' | 'slack';
  id?: string;
  email?: string;
}

/**
 * A caller as a recorded or running history may carry it: the offboarding's messages named the id
 * `userId` before there was one Caller shape. Anything else is no caller.
 */
export function callerFrom(value: unknown): Caller | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { id, userId, role, email } = value as { id?: unknown; userId?: unknown; role?: unknown; email?: unknown };
  const which = typeof id === 'string' && id ? id : typeof userId === 'string' && userId ? userId : undefined;
  if (!which) return undefined;
  return { id: which, role: typeof role === 'string' ? role : '', ...(typeof email === 'string' ? { email } : {}) };
}

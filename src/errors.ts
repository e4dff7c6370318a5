/**
 * Typed errors. Every error that reaches an HTTP client is an AppError with a stable
 * machine-readable `code`, an HTTP `status` and a human sentence. Anything else is a 500
 * whose message is never sent to the client.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details?: unknown, code = 'invalid_request') {
    super(400, code, message, details);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'A valid Bearer token is required.', code = 'unauthorized') {
    super(401, code, message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'Your role does not allow this action.', code = 'forbidden') {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(message: string, code = 'not_found') {
    super(404, code, message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = 'conflict', details?: unknown) {
    super(409, code, message, details);
  }
}

export class GoneError extends AppError {
  constructor(message: string, code = 'gone') {
    super(410, code, message);
  }
}

export class UnprocessableError extends AppError {
  constructor(message: string, code = 'unprocessable', details?: unknown) {
    super(422, code, message, details);
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message: string, code = 'service_unavailable') {
    super(503, code, message);
  }
}

/** A client sent more requests than a limit allows; the answer carries Retry-After. */
export class TooManyRequestsError extends AppError {
  constructor(message: string, code = 'rate_limited') {
    super(429, code, message);
  }
}

/** A server tenure depends on cannot be reached. */
export class DependencyUnavailableError extends Error {
  /** The address tried, with any password in it hidden. */
  readonly address: string;

  constructor(
    readonly service: string,
    address: string,
    cause: unknown,
  ) {
    super(`${service} is unreachable at ${hidePassword(address)}: ${describeCause(cause)}`);
    this.address = hidePassword(address);
    this.name = 'DependencyUnavailableError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Hides a password in a connection string (`scheme://user:***@host`) before it reaches a message or a log. */
function hidePassword(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]+@/, '//$1:***@');
}

/** Configuration is missing or invalid; the message has one line per bad value. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** A local command found no running `npm start` to talk to, or found one already running. */
export class LocalStackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalStackError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

function describeCause(cause: unknown): string {
  if (!cause) return 'no answer';
  const e = cause as { code?: string; message?: string; errors?: Array<{ message?: string }> };
  const message = e.message || e.errors?.map((x) => x.message).join('; ') || String(cause);
  return (e.code && !message.includes(e.code) ? `${e.code} ` : '') + message.split('\n')[0];
}

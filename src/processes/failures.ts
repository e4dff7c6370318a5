/**
 * The one mapping from a process's failure to the typed AppError that every way in answers with
 * (the API's error body, Slack's sentence, SCIM's error, HR intake's dead letter): an update
 * refused by its validator or handler, a failed process, a process that is not there or has
 * already finished. By failure class and ErrorType only; a refusal that carries its own
 * `{ status, code }` (an AppError raised in an activity) keeps them.
 */
import { ApplicationFailure, WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ErrorType } from '../../workflows/errors';
import { AppError, ConflictError, ForbiddenError, GoneError, NotFoundError, UnprocessableError, ValidationError } from '../errors';

/** What each failure type answers when its failure carries no status of its own. */
const ANSWERS: Record<ErrorType, { status: number; code: string }> = {
  [ErrorType.NotFound]: { status: 404, code: 'not_found' },
  [ErrorType.InvalidInput]: { status: 422, code: 'invalid_input' },
  [ErrorType.Unauthorized]: { status: 403, code: 'forbidden' },
  [ErrorType.Conflict]: { status: 409, code: 'process_refused' },
  [ErrorType.NotAllowed]: { status: 403, code: 'not_an_approver' },
  [ErrorType.InvalidState]: { status: 409, code: 'invalid_process_state' },
  [ErrorType.StalePlan]: { status: 409, code: 'stale_plan' },
  [ErrorType.UserGone]: { status: 404, code: 'user_not_found' },
  [ErrorType.NewOwnerInactive]: { status: 422, code: 'new_owner_inactive' },
  [ErrorType.NotAdministrator]: { status: 403, code: 'not_administrator' },
  [ErrorType.ProcessFinished]: { status: 409, code: 'process_finished' },
  [ErrorType.AlreadyActive]: { status: 409, code: 'already_active' },
};

function isErrorType(type: string | undefined | null): type is ErrorType {
  return !!type && Object.hasOwn(ANSWERS, type);
}

/** The AppError class of a status, so that `instanceof ConflictError` and the like hold. */
function appError(status: number, code: string, message: string, details?: unknown): AppError {
  switch (status) {
    case 400:
      return new ValidationError(message, details, code);
    case 403:
      return new ForbiddenError(message, code);
    case 404:
      return new NotFoundError(message, code);
    case 409:
      return new ConflictError(message, code, details);
    case 410:
      return new GoneError(message, code);
    case 422:
      return new UnprocessableError(message, code, details);
    default:
      return new AppError(status, code, message, details);
  }
}

/** The ApplicationFailure at the root of a failure chain (an activity's failure inside an update's, say). */
function applicationFailureIn(err: unknown): ApplicationFailure | undefined {
  for (let cause = err, depth = 0; cause instanceof Error && depth < 10; cause = cause.cause, depth++) {
    if (cause instanceof ApplicationFailure) return cause;
  }
  return undefined;
}

/** A refusal of a process as the AppError its type (and any carried status and code) stands for. */
function refusalError(failure: ApplicationFailure): AppError {
  const carried = failure.details?.[0] as { status?: unknown; code?: unknown; details?: unknown } | undefined;
  const code = typeof carried?.code === 'string' ? carried.code : undefined;
  if (typeof carried?.status === 'number' && carried.status >= 400 && carried.status < 600 && code) return appError(carried.status, code, failure.message, carried.details);
  const answer = isErrorType(failure.type) ? ANSWERS[failure.type] : ANSWERS[ErrorType.Conflict];
  return appError(answer.status, code ?? answer.code, failure.message);
}

/**
 * The typed error for a failure of `workflowId`'s process; anything that is not a failure of the
 * process (the server unreachable, a bug) is returned as it is.
 */
async function processError(client: Client, workflowId: string, err: unknown): Promise<unknown> {
  if (err instanceof AppError) return err;
  if (err instanceof WorkflowUpdateFailedError) {
    const failure = applicationFailureIn(err.cause);
    // An update that failed without a refusal (cancelled, timed out) is ours, not the caller's.
    return failure ? refusalError(failure) : err;
  }
  if (err instanceof WorkflowFailedError) {
    const failure = applicationFailureIn(err.cause);
    return failure ? refusalError(failure) : new ConflictError(`The process ${workflowId} did not finish: ${err.message}`, 'process_failed');
  }
  if (err instanceof WorkflowNotFoundError) {
    // An update to a process that has finished comes back as "not found" too.
    const status = await client.workflow
      .getHandle(workflowId)
      .describe()
      .then((d) => d.status.name)
      .catch(() => undefined);
    if (status && status !== 'RUNNING') return new ConflictError(`The process ${workflowId} has already finished.`, 'process_finished');
    return new NotFoundError(`No process ${workflowId}.`, 'process_not_found');
  }
  return err;
}

/** Runs one call to `workflowId`'s process, its failures thrown as typed errors. */
export async function mapped<T>(client: Client, workflowId: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw await processError(client, workflowId, err);
  }
}

import type { RespondFn } from '@slack/bolt';
import { AppError } from '../../../errors';
import type { SlackContext } from '../../context';

export async function ephemeral(respond: RespondFn, text: string): Promise<void> {
  await respond({ response_type: 'ephemeral', replace_original: false, text });
}

/**
 * Turns a failure of the domain call into a sentence for the caller: a refusal (an AppError, the
 * processes' refusals included, see src/processes/failures.ts) is said as it is; anything else is logged.
 */
export async function respondWithError(ctx: SlackContext, respond: RespondFn, err: unknown, command: string): Promise<void> {
  if (err instanceof AppError) {
    await ephemeral(respond, `:warning: ${err.message}`);
    return;
  }
  ctx.logger.error({ err, command }, 'slack command failed');
  await ephemeral(respond, ':x: Something went wrong on our side; the error has been logged. Try again in a minute.');
}

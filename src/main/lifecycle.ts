import { ConfigError, DependencyUnavailableError, LocalStackError } from '../errors';
import { ConnectorRefusedError } from '../connectors/contract';
import type { Logger } from '../logger';

/**
 * Runs `close` once on SIGINT or SIGTERM and exits; a second signal exits at once.
 */
export function onShutdown(logger: Logger, close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    closing = true;
    logger.info({ signal }, 'shutting down');
    close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** Start-up failures that are the operator's to fix print one sentence, not a stack trace. */
export function exitOnStartupError(err: unknown): never {
  if (err instanceof ConnectorRefusedError) {
    process.stderr.write(`tenure: the connected system ${err.system} refused tenure's credentials: ${err.message}\n`);
  } else if (err instanceof ConfigError || err instanceof DependencyUnavailableError || err instanceof LocalStackError) {
    process.stderr.write(`tenure: ${err.message}\n`);
  } else {
    process.stderr.write(`tenure: start-up failed: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exit(1);
}

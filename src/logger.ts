import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs; human-readable only on an interactive terminal outside production. */
export function createLogger(options: { level?: string; name?: string; production?: boolean; destination?: DestinationStream } = {}): Logger {
  const pretty = !options.production && !options.destination && process.stdout.isTTY;
  return pino(
    {
      name: options.name ?? 'tenure',
      level: options.level ?? 'info',
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.token', '*.password'], censor: '[redacted]' },
      transport: pretty ? { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss' } } : undefined,
    },
    options.destination,
  );
}

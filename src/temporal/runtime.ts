import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../logger';

let installed = false;
let metricsUrl: string | undefined;

export interface TemporalRuntimeOptions {
  level?: LogLevel;
  /**
   * The port on 127.0.0.1 where the SDK runtime serves its own Prometheus metrics (worker
   * polls, task latencies, slots, sticky cache, the worker's gRPC requests to Temporal).
   */
  metricsPort?: number;
}

/**
 * Routes the Temporal SDK's own logs into ours and, when asked, turns on the runtime's Prometheus
 * exporter; once per process, before any worker is created.
 */
export function installTemporalRuntime(logger: Logger, options: TemporalRuntimeOptions = {}): void {
  if (installed) return;
  installed = true;
  const log = logger.child({ component: 'temporal-sdk' });
  const bindAddress = options.metricsPort ? `127.0.0.1:${options.metricsPort}` : undefined;
  Runtime.install({
    logger: new DefaultLogger(options.level ?? 'WARN', (entry) => {
      const meta = { ...entry.meta, sdkComponent: entry.meta?.sdkComponent };
      const method = ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[entry.level];
      log[method](meta, entry.message);
    }),
    ...(bindAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress } } } } : {}),
  });
  if (bindAddress) metricsUrl = `http://${bindAddress}/metrics`;
}

/**
 * The SDK runtime's metrics in the Prometheus text format (`temporal_*`), read from its exporter;
 * empty when the exporter is off or does not answer within a second.
 */
export async function temporalRuntimeMetrics(): Promise<string> {
  if (!metricsUrl) return '';
  try {
    const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(1_000) });
    return response.ok ? await response.text() : '';
  } catch {
    return '';
  }
}

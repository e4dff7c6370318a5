import { Client, Connection } from '@temporalio/client';
import { DependencyUnavailableError } from '../errors';
import { temporalClientInterceptors } from '../telemetry/tracing';

export async function createTemporalClient(options: { address: string; namespace: string }): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: options.address, connectTimeout: 5_000 });
  } catch (err) {
    throw new DependencyUnavailableError('Temporal', options.address, err);
  }
  // With tracing on, a started workflow continues the caller's trace (telemetry/tracing.ts).
  return new Client({ connection, namespace: options.namespace, interceptors: temporalClientInterceptors() });
}

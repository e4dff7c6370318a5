import { Client, Connection } from '@temporalio/client';
import { DependencyUnavailableError } from '../errors';

export async function createTemporalClient(options: { address: string; namespace: string }): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: options.address, connectTimeout: 5_000 });
  } catch (err) {
    throw new DependencyUnavailableError('Temporal', options.address, err);
  }
  return new Client({ connection, namespace: options.namespace });
}

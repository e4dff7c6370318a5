import mongoose, { type Connection } from 'mongoose';
import { DependencyUnavailableError } from '../errors';

/**
 * Opens a connection to one database. Each process (and each test file) gets its own
 * connection object, so models are bound per connection and never to mongoose's global one.
 */
export async function connectMongo(uri: string, dbName: string): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    dbName,
    serverSelectionTimeoutMS: 5_000,
    // Indexes are built by ensureIndexes() at start-up, not lazily on first model use.
    autoIndex: false,
  });
  try {
    await conn.asPromise();
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw new DependencyUnavailableError('MongoDB', uri, err);
  }
  return conn;
}

/**
 * Reachability probes for the three servers tenure depends on. Each throws a
 * DependencyUnavailableError whose message names the service, the address and the cause,
 * so a failing start-up or test says in one sentence what is missing.
 */
import { Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { DependencyUnavailableError } from '../errors';

const PROBE_TIMEOUT_MS = 2_000;

export async function checkMongo(uri: string): Promise<void> {
  const conn = mongoose.createConnection(uri, { serverSelectionTimeoutMS: PROBE_TIMEOUT_MS, connectTimeoutMS: PROBE_TIMEOUT_MS });
  try {
    await conn.asPromise();
    await conn.db!.admin().command({ ping: 1 });
  } catch (err) {
    throw new DependencyUnavailableError('MongoDB', uri, err);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

export async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new DependencyUnavailableError('Redis', url, err);
  } finally {
    redis.disconnect();
  }
}

export async function checkTemporal(address: string, namespace = 'default'): Promise<void> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: PROBE_TIMEOUT_MS });
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    throw new DependencyUnavailableError('Temporal', address, err);
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

export interface DependencyStatus {
  name: 'mongodb' | 'redis' | 'temporal';
  ok: boolean;
  error?: string;
}

export async function checkAll(addresses: { mongoUri: string; redisUrl: string; temporalAddress: string; temporalNamespace?: string }): Promise<DependencyStatus[]> {
  const probes: Array<[DependencyStatus['name'], () => Promise<void>]> = [
    ['mongodb', () => checkMongo(addresses.mongoUri)],
    ['redis', () => checkRedis(addresses.redisUrl)],
    ['temporal', () => checkTemporal(addresses.temporalAddress, addresses.temporalNamespace)],
  ];
  return Promise.all(
    probes.map(async ([name, probe]) => {
      try {
        await probe();
        return { name, ok: true };
      } catch (err) {
        return { name, ok: false, error: (err as Error).message };
      }
    }),
  );
}

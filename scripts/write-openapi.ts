/**
 * Writes the API's OpenAPI document (and SCIM's) from the routes, without any server running:
 * the app is built on connections that are never opened. `npm run openapi:write [dir]` writes
 * `openapi.json` and `scim-openapi.json` to `dir` (default `dist/openapi/`); `npm run lint:openapi` lints them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { loadConfig } from '../src/config/env';
import { createModels } from '../src/db/models';
import { buildApp } from '../src/http/app';
import { createLogger } from '../src/logger';

const dir = process.argv[2] ?? 'dist/openapi';
const config = loadConfig({ MONGODB_URI: 'mongodb://127.0.0.1:1/tenure', REDIS_URL: 'redis://127.0.0.1:1', TEMPORAL_ADDRESS: '127.0.0.1:1', NODE_ENV: 'test', LOG_LEVEL: 'silent' });
const conn = mongoose.createConnection();
const redis = new Redis(config.REDIS_URL, { lazyConnect: true });
const app = await buildApp({
  config,
  logger: createLogger({ level: 'silent' }),
  conn,
  models: createModels(conn),
  redis,
  temporal: new Client({ connection: Connection.lazy({ address: config.TEMPORAL_ADDRESS }) }),
  // Never called: no request is served.
  hrIntake: undefined as never,
  slack: undefined,
});
await app.ready();
await mkdir(dir, { recursive: true });
for (const [file, url] of [['openapi.json', '/openapi.json'], ['scim-openapi.json', '/scim/v2/openapi.json']] as const) {
  const res = await app.inject({ method: 'GET', url });
  if (res.statusCode !== 200) continue;
  await writeFile(join(dir, file), `${JSON.stringify(res.json(), null, 2)}\n`);
  console.log(`wrote ${join(dir, file)}`);
}
await app.close();
redis.disconnect();

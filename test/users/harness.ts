/** One real app per test file on its own database: the servers are the shared real ones. */
import type { Client } from '@temporalio/client';
import type { Config } from '../../src/config/env';
import type { App } from '../../src/http/app';
import { createTestContext, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { createClient } from '../helpers/temporal';

export interface Harness {
  ctx: TestContext;
  client: Client;
  app: App;
  close(): Promise<void>;
}

export async function openHarness(label: string, overrides: Partial<Config> = {}): Promise<Harness> {
  const ctx = await createTestContext(label);
  const client = await createClient(ctx);
  const app = await createTestApp(ctx, client, overrides);
  return {
    ctx,
    client,
    app,
    async close() {
      await app.close();
      await client.connection.close();
      await ctx.close();
    },
  };
}

/** The JSON body of an injected response. */
export function json<T = any>(res: { body: string }): T {
  return JSON.parse(res.body) as T;
}

/**
 * The console served on a real port with a headless Chromium to drive it (Debian's `chromium`,
 * found or installed by the devstack; no browser download): what the browser tests share.
 */
import type { Client } from '@temporalio/client';
import { chromium, type Browser } from 'playwright-core';
import { findOrInstallChromium } from '../../src/devstack/binaries';
import { freePort } from '../../src/devstack/ports';
import type { App } from '../../src/http/app';
import { createTestContext, type TestContext } from '../helpers/context';
import { createTestApp } from '../helpers/http';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createClient } from '../helpers/temporal';

export interface ConsoleInBrowser {
  ctx: TestContext;
  client: Client;
  app: App;
  smtp: TestSmtpServer;
  browser: Browser;
  /** Where the console listens: http://127.0.0.1:<port>. */
  base: string;
  close(): Promise<void>;
}

/** Starts the app on a free port (mail to a test SMTP server, links to that port) and Chromium. Fails with one sentence when Chromium cannot be had. */
export async function startConsoleInBrowser(label: string): Promise<ConsoleInBrowser> {
  const executablePath = findOrInstallChromium();
  const ctx = await createTestContext(label);
  const client = await createClient(ctx);
  const smtp = await startSmtpServer();
  let app: App | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await app?.close();
    await smtp.close();
    await client.connection.close();
    await ctx.close();
  };
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    app = await createTestApp(ctx, client, { SMTP_URL: smtp.url, PUBLIC_BASE_URL: base });
    await app.listen({ host: '127.0.0.1', port });
    browser = await chromium.launch({ executablePath, headless: true });
    return { ctx, client, app, smtp, browser, base, close };
  } catch (err) {
    await close();
    throw err;
  }
}

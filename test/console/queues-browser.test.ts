/**
 * The queue dashboard in a real browser (headless Chromium, as test/console/browser.test.ts):
 * an Administrator's page loads its scripts under its own Content-Security-Policy and lists the
 * queues; the only thing the policy blocks is the web font Bull Board links from elsewhere.
 * `SCREENSHOTS=1` saves the page to docs/screenshots/console-queues.png (the README shows it).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import { QUEUE_NAMES } from '../../src/jobs/queues';
import type { TestContext } from '../helpers/context';
import type { TestSmtpServer } from '../helpers/smtp';
import { seedUser } from '../helpers/users';
import { startConsoleInBrowser, type ConsoleInBrowser } from './browser-kit';
import { signIn } from './console-kit';

const SCREENSHOTS = process.env.SCREENSHOTS ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)) : undefined;

let ctx: TestContext;
let served: ConsoleInBrowser;
let app: App;
let smtp: TestSmtpServer;
let browser: Browser;
let base: string;

beforeAll(async () => {
  // Fails the file with one sentence naming what is missing when Chromium cannot be had.
  served = await startConsoleInBrowser('queueboardbrowser');
  ({ ctx, app, smtp, browser, base } = served);
  await seedUser(ctx.models, { email: 'ada@acme.test', siteRole: 'Administrators' });
  // Something to show: a few waiting HR events.
  const intake = new Queue(QUEUE_NAMES.hrIntake, ctx.queue);
  for (const n of [1, 2, 3]) await intake.add('hr-event', { provider: 'generic', eventId: `evt-${n}` });
  await intake.close();
}, 300_000);

afterAll(async () => {
  await served?.close();
});

describe('the queue dashboard in a browser', () => {
  it("loads under its own policy and lists tenure's queues; only the off-site web font is blocked", async () => {
    const session = await signIn(app, smtp, 'ada@acme.test');
    const [name, value] = session.cookie.split('=') as [string, string];
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addCookies([{ name, value, url: `${base}/console` }]);
    const page = await context.newPage();
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
    });
    const failedScripts: string[] = [];
    // The dashboard polls its API; a poll in flight when the test navigates away is aborted by the
    // navigation, not refused, so only the page's own assets (and anything not aborted) count.
    page.on('requestfailed', (request) => {
      const aborted = request.failure()?.errorText === 'net::ERR_ABORTED';
      if (!(aborted && ['fetch', 'xhr'].includes(request.resourceType()))) failedScripts.push(request.url());
    });

    await page.goto(`${base}/console/queues`);
    for (const queue of Object.values(QUEUE_NAMES)) await expect.poll(() => page.getByText(queue, { exact: true }).first().isVisible(), { timeout: 15_000 }).toBe(true);
    await page.goto(`${base}/console/queues/queue/${QUEUE_NAMES.hrIntake}?status=waiting`);
    await expect.poll(() => page.getByText('hr-event').first().isVisible(), { timeout: 15_000 }).toBe(true);
    if (SCREENSHOTS) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: `${SCREENSHOTS}console-queues.png`, fullPage: false });
    }
    expect(blocked.filter((text) => !text.includes('fonts.googleapis.com'))).toEqual([]);
    expect(failedScripts.filter((url) => url.startsWith(base))).toEqual([]);
    await context.close();
  }, 120_000);
});

/**
 * The console in a real browser: headless Chromium (Debian's package) driven by playwright-core
 * against the API listening on a loopback port. Sign in through the emailed link, the users table
 * with search and filters, a user's detail page; a second sign-in ends the first browser's
 * session and it is told why; a Security Manager sees no action forms and a forged post is
 * refused; a post without the CSRF token is refused. Without Chromium the test fails, naming it.
 *
 * `SCREENSHOTS=1` also saves the main pages to docs/screenshots/ (the README shows them).
 */
import type { Client } from '@temporalio/client';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app';
import type { TestContext } from '../helpers/context';
import type { TestSmtpServer } from '../helpers/smtp';
import { seedResource, seedUser, type SeededUser } from '../helpers/users';
import { startConsoleInBrowser, type ConsoleInBrowser } from './browser-kit';
import { linkFromMail } from './console-kit';

const SCREENSHOTS = process.env.SCREENSHOTS ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)) : undefined;

let ctx: TestContext;
let client: Client;
let served: ConsoleInBrowser;
let app: App;
let smtp: TestSmtpServer;
let browser: Browser;
let base: string;
let admin: SeededUser;
let manager: SeededUser;
let owner: SeededUser;

beforeAll(async () => {
  // Fails the file with one sentence naming what is missing when Chromium cannot be had.
  served = await startConsoleInBrowser('consolebrowser');
  ({ ctx, client, app, smtp, browser, base } = served);

  await ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { name: 'Acme' } }, { upsert: true });
  admin = await seedUser(ctx.models, { email: 'grace@acme.test', siteRole: 'Administrators', firstName: 'Grace', lastName: 'Hopper' });
  manager = await seedUser(ctx.models, { email: 'sam@acme.test', siteRole: 'SecurityManagers', firstName: 'Sam', lastName: 'Secure' });
  owner = await seedUser(ctx.models, { email: 'olive@acme.test', siteRole: 'PowerUsers', firstName: 'Olive', lastName: 'Owner' });
  await seedResource(ctx.models, owner.user._id, { kind: 'pipeline', name: 'deploy-prod' });
  await seedUser(ctx.models, { email: 'nina@acme.test', status: 'pending', firstName: 'Nina', lastName: 'Newbie' });
  for (const [first, last, role] of [
    ['Alan', 'Turing', 'Users'],
    ['Edsger', 'Dijkstra', 'Users'],
    ['Barbara', 'Liskov', 'Auditors'],
    ['Ken', 'Thompson', 'PowerUsers'],
  ] as const) {
    await seedUser(ctx.models, { email: `${first.toLowerCase()}@acme.test`, siteRole: role, firstName: first, lastName: last });
  }
}, 300_000);

afterAll(async () => {
  await served?.close();
});

async function shot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
}

/** A new browser (its own cookies) signed in as `email` through the emailed link. */
async function signInBrowser(email: string, screenshot = false): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${base}/console/sign-in`);
  if (screenshot) await shot(page, 'console-sign-in');
  await page.fill('#email', email);
  const before = smtp.to(email).length;
  await page.click('button[type=submit]');
  await expect.poll(() => page.textContent('#sent')).toContain('If this address may sign in');
  const link = await linkFromMail(smtp, email, before);
  await page.goto(`${base}${link}`);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/console/users`);
  return { context, page };
}

describe('the console in a browser', () => {
  it('signs in from the emailed link, searches and filters the users table, opens a detail page; a second sign-in ends the first and it sees why', async () => {
    const { context, page } = await signInBrowser(admin.user.email, true);
    expect(await page.textContent('h1')).toBe('Users');
    expect(await page.locator('#users tbody tr').count()).toBe(7); // the active users; Nina is pending
    await shot(page, 'console-users');

    await page.fill('#q', 'tur');
    await page.click('form.filters button');
    await page.waitForURL(/q=tur/);
    expect(await page.locator('#users td.email').allTextContents()).toEqual(['alan@acme.test']);

    await page.fill('#q', '');
    await page.selectOption('#role', 'Users');
    await page.click('form.filters button');
    await page.waitForURL(/role=Users/);
    expect((await page.locator('#users td.email').allTextContents()).sort()).toEqual(['alan@acme.test', 'edsger@acme.test']);

    await page.click('.tabs >> text=Pending');
    expect(await page.locator('#users td.status').allTextContents()).toEqual(['Invited User']);

    await page.goto(`${base}/console/users?q=olive`);
    await page.click('text=Olive Owner');
    await page.waitForURL(/\/console\/users\/[0-9a-f]{24}$/);
    expect(await page.textContent('#resources')).toContain('deploy-prod');
    expect(await page.isVisible('#role-form')).toBe(true);
    await shot(page, 'console-user-detail');

    // The same account signs in from a second browser: the first is signed out and told why.
    const second = await signInBrowser(admin.user.email);
    await page.reload();
    await page.waitForURL(/\/console\/sign-in\?why=superseded/);
    expect(await page.textContent('.notice')).toContain('signed in somewhere else');
    await shot(page, 'console-signed-out');

    // The second browser acts: a role change through the form works, a post without the token does not.
    await second.page.goto(`${base}/console/users/${owner.user._id}`);
    await second.page.selectOption('#siteRole', 'Users');
    await second.page.click('#role-form button');
    await second.page.waitForURL(/done=role/);
    expect(await second.page.textContent('#role')).toBe('User');
    const noToken = await second.context.request.post(`${base}/console/users/${owner.user._id}/role`, { form: { siteRole: 'Administrators' }, maxRedirects: 0 });
    expect(noToken.status()).toBe(403);
    expect(await noToken.text()).toContain('csrf_failed');
    expect((await ctx.models.User.findById(owner.user._id).lean())!.siteRole).toBe('Users');
    await context.close();
    await second.context.close();
  });

  it('a Security Manager sees no action forms, and a forged form post with their own valid token is refused', async () => {
    const { context, page } = await signInBrowser(manager.user.email);
    expect(await page.locator('.tabs a').allTextContents()).toEqual(['Active', 'Pending', 'All']);
    await page.goto(`${base}/console/users/${owner.user._id}`);
    expect(await page.textContent('h1')).toBe('Olive Owner');
    expect(await page.locator('#role-form').count()).toBe(0);
    expect(await page.locator('main form[method=post]').count()).toBe(0);
    const token = await page.getAttribute('nav form input[name=_csrf]', 'value');
    const forged = await context.request.post(`${base}/console/users/${owner.user._id}/role`, { form: { _csrf: token!, siteRole: 'Administrators' }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    expect((await ctx.models.User.findById(owner.user._id).lean())!.siteRole).not.toBe('Administrators');
    await context.close();
  });

  it('an Administrator invites from the form, confirming an address outside the domain, and the table lists them as Invited User', async () => {
    await ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { domain: 'acme.test' } });
    const { context, page } = await signInBrowser(admin.user.email);
    await page.click('#invite-link');
    await page.fill('#email', 'linus@kernel.test');
    await page.fill('#firstName', 'Linus');
    await page.selectOption('#siteRole', 'PowerUsers');
    await shot(page, 'console-invite');
    await page.click('#invite-form button');
    expect(await page.textContent('[data-code=domain_mismatch]')).toContain("outside the organization's domain");
    expect(await ctx.models.User.countDocuments({ email: 'linus@kernel.test' })).toBe(0);
    await page.click('text=Invite anyway');
    await page.waitForURL(/done=invited/);
    expect(await page.textContent('#done')).toContain('linus@kernel.test is invited');
    await page.goto(`${base}/console/users?status=pending&q=linus`);
    expect(await page.locator('#users td.status').allTextContents()).toEqual(['Invited User']);
    await client.workflow.getHandle('onboarding:linus@kernel.test').terminate('test done');
    await context.close();
  });
});

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { browserUnavailable, cspViolations, launchBrowser, newPage } from './browser.ts';

const unavailable = browserUnavailable();
if (unavailable) console.log(`skipping the API reference browser test: ${unavailable}`);

describe.skipIf(unavailable !== null)('the API reference in a real browser', () => {
  let t: TestContext;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    t = await createTestContext();
    baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('renders the operations of this API from its own OpenAPI document, with no error on the page', async () => {
    const { context, page } = await newPage(browser);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(baseUrl) && !request.url().startsWith('data:'))
        foreign.push(request.url());
    });
    try {
      // Scalar's script is 4 MB, loaded by the server on this first request: slow on a busy machine.
      await page.goto(`${baseUrl}/docs`, { timeout: 60_000 });
      expect(new URL(page.url()).pathname).toBe('/docs/');
      await page.getByRole('heading', { name: 'PMS backend API' }).first().waitFor({ timeout: 60_000 });
      // Rendered by Scalar's script from the app's own route schemas: an operation's summary in the
      // first, open group, and the tag of the inventory routes.
      await page.getByText('The database is reachable and migrations are current').first().waitFor();
      await page.getByRole('button', { name: 'Open Group - inventory' }).waitFor();
      await page.getByRole('button', { name: 'Open Group - inventory' }).click();
      await page.getByText('/api/inventory/check/').first().waitFor();
      expect(errors).toEqual([]);
      // ...under its own Content-Security-Policy: no inline script but its own, no eval, nothing
      // loaded from another origin, and nothing the page did was blocked.
      const policy = (await page.request.get(`${baseUrl}/docs/`)).headers()['content-security-policy']!;
      const scripts = policy.split(';').find((d) => d.startsWith('script-src'))!;
      expect(scripts).toMatch(/^script-src 'self'( 'sha256-[\w+/=]+')+$/);
      expect(policy).not.toMatch(/unsafe-eval|https?:/);
      expect(foreign).toEqual([]);
      expect(cspViolations.splice(0)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { browserUnavailable, launchBrowser, newPage } from './browser.ts';

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
    try {
      await page.goto(`${baseUrl}/docs`);
      expect(new URL(page.url()).pathname).toBe('/docs/');
      await page.getByRole('heading', { name: 'PMS backend API' }).first().waitFor();
      // Rendered by Scalar's script from the app's own route schemas: an operation's summary in the
      // first, open group, and the tag of the inventory routes.
      await page.getByText('The database is reachable and migrations are current').first().waitFor();
      await page.getByRole('button', { name: 'Open Group - inventory' }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

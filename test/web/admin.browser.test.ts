import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminBuild } from '../../src/modules/web/web.build.ts';
import { call, createTestContext, type TestContext } from '../helpers/context.ts';
import { createUser, login } from '../helpers/factories.ts';
import { browserUnavailable, launchBrowser, newPage, screenshot, signIn } from './browser.ts';

const unavailable = browserUnavailable();
if (unavailable) console.log(`skipping the admin browser tests: ${unavailable}`);

describe.skipIf(unavailable !== null)('web admin in a real browser', () => {
  let t: TestContext;
  let browser: Browser;
  let baseUrl: string;
  let admin: { email: string; password: string; token: string };
  let propertyId: string;

  beforeAll(async () => {
    await ensureAdminBuild({ rebuildIfStale: true });
    t = await createTestContext();
    baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const user = await createUser(t.db, { role: 'SUPER_ADMIN' });
    admin = { ...user, token: await login(t.app, user.email) };
    const property = await call(t.app, 'POST', '/api/properties/', {
      token: admin.token,
      body: { code: 'BER', name: 'Hotel Berlin Mitte', timezone: 'Europe/Berlin', currency: 'EUR' },
    });
    expect(property.status).toBe(201);
    propertyId = property.body.id;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('signs in and shows the navigation for the role', async () => {
    const { context, page } = await newPage(browser);
    await page.goto(`${baseUrl}/admin/`);
    await page.getByRole('heading', { name: 'PMS admin' }).waitFor();
    await screenshot(page, 'login');

    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'UNAUTHENTICATED' }).waitFor();

    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.waitFor();
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Inventory',
      'Reservations',
      'Rates',
      'Properties',
      'Users',
      'Integrations',
      'Webhooks',
    ]);
    expect(await page.getByTestId('current-role').textContent()).toBe('SUPER_ADMIN');
    await context.close();
  });

  it('creates a property, showing the API field errors beside the fields', async () => {
    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, admin.email, admin.password);
    await page.getByRole('link', { name: 'Properties' }).click();
    await page.getByRole('link', { name: 'BER' }).waitFor();
    await page.getByRole('button', { name: 'New property' }).click();
    const dialog = page.getByRole('dialog', { name: 'New property' });
    await dialog.getByLabel('Code', { exact: true }).fill('bad code!');
    await dialog.getByLabel('Name', { exact: true }).fill('Hotel Hamburg');
    await dialog.getByLabel('Country', { exact: true }).fill('1X');
    await dialog.getByRole('button', { name: 'Create property' }).click();

    // The API's problem+json names each bad field by pointer; the form shows each beside its field.
    const codeError = dialog.locator('.field-error[data-pointer="/code"]');
    await codeError.waitFor();
    expect(await codeError.textContent()).toMatch(/pattern/);
    await dialog.locator('.field-error[data-pointer="/address/country"]').waitFor();
    expect(await dialog.getByLabel('Code', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'property-field-errors');

    await dialog.getByLabel('Code', { exact: true }).fill('HAM');
    await dialog.getByLabel('Country', { exact: true }).fill('DE');
    await dialog.getByRole('button', { name: 'Create property' }).click();
    await page.getByRole('heading', { name: 'Hotel Hamburg' }).waitFor();

    const listed = await call(t.app, 'GET', '/api/properties/?search=HAM', { token: admin.token });
    expect(listed.body.results.map((p: { code: string }) => p.code)).toEqual(['HAM']);
    expect(listed.body.results[0].address).toEqual({ country: 'DE' });

    await page.getByRole('button', { name: 'New room type' }).click();
    const roomTypeDialog = page.getByRole('dialog', { name: 'New room type' });
    await roomTypeDialog.getByLabel('Code', { exact: true }).fill('DBL');
    await roomTypeDialog.getByLabel('Name', { exact: true }).fill('Double room');
    await roomTypeDialog.getByLabel('Total units').fill('12');
    await roomTypeDialog.getByRole('button', { name: 'Create room type' }).click();
    await page.getByRole('cell', { name: 'Double room' }).waitFor();
    await screenshot(page, 'property-room-types');
    await context.close();
  });

  it('does not show admin-only screens to a STAFF user', async () => {
    const staff = await createUser(t.db, { role: 'STAFF', propertyIds: [propertyId] });
    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, staff.email, staff.password);
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Inventory',
      'Reservations',
      'Rates',
      'Properties',
    ]);
    for (const screen of ['users', 'integrations', 'webhooks']) {
      await page.goto(`${baseUrl}/admin/${screen}`);
      await page.getByRole('heading', { name: 'Not available' }).waitFor();
    }
    // Read-only where STAFF may read: no create buttons on the properties screen.
    await page.goto(`${baseUrl}/admin/properties`);
    await page.getByRole('link', { name: 'BER' }).waitFor();
    expect(await page.getByRole('button', { name: 'New property' }).count()).toBe(0);
    await context.close();
  });
});

import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminBuild } from '../../src/modules/web/web.build.ts';
import { call, createTestContext, type TestContext } from '../helpers/context.ts';
import { createUser, login } from '../helpers/factories.ts';
import { browserUnavailable, cspViolations, launchBrowser, newPage, screenshot, signIn } from './browser.ts';
import { bookThroughApi, isoDay, type SeededHotel, seedHotel } from './seed.ts';

const unavailable = browserUnavailable();
if (unavailable) console.log(`skipping the API keys browser tests: ${unavailable}`);

const KEY_FORMAT = /^pms_key_[0-9a-f]{32}_[0-9A-Za-z]{43}$/;

/**
 * Partners' API keys in a real browser (Debian's Chromium): created with the key shown once and
 * copied, then used, rotated and revoked, each checked against the API with the key itself.
 */
describe.skipIf(unavailable !== null)('API keys in the web admin', () => {
  let t: TestContext;
  let browser: Browser;
  let baseUrl: string;
  let admin: { email: string; password: string; token: string };
  let hotel: SeededHotel;
  let other: SeededHotel;

  beforeAll(async () => {
    await ensureAdminBuild({ rebuildIfStale: true });
    t = await createTestContext();
    baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const user = await createUser(t.db, { role: 'SUPER_ADMIN' });
    admin = { ...user, token: await login(t.app, user.email) };
    hotel = await seedHotel(t.app, admin.token, { code: 'KEY', name: 'Hotel Keys' });
    other = await seedHotel(t.app, admin.token, { code: 'OTH', name: 'Other Hotel' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  afterEach(() => {
    expect(cspViolations.splice(0)).toEqual([]);
  });

  /** An availability check of the seeded hotel made with `key`: the partner's first call. */
  const checkWith = async (key: string) =>
    (
      await call(t.app, 'POST', '/api/inventory/check/', {
        token: key,
        body: { room_type_id: hotel.roomTypes.DBL, check_in: isoDay(3), check_out: isoDay(5) },
      })
    ).status;

  it('creates a key shown once with a copy button, then rotates and revokes it', async () => {
    const { context, page } = await newPage(browser);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
    await signIn(page, baseUrl, admin.email, admin.password);
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys', exact: true }).waitFor();
    await page.getByText('No API keys yet.').waitFor();

    await page.getByRole('button', { name: 'New API key' }).click();
    const form = page.getByRole('dialog', { name: 'New API key' });
    await form.getByLabel('Name').fill('Acme booking engine');
    await form.getByLabel(/^book:/).check();
    // No property chosen: the API's answer is shown beside the field.
    await form.getByRole('button', { name: 'Create key' }).click();
    await form
      .locator('[data-pointer="/property_ids"]')
      .filter({ hasText: /at least one property/ })
      .waitFor();
    await form.getByLabel('Hotel Keys (KEY)').check();
    await form.getByLabel('Requests per minute').fill('120');
    await form.getByRole('button', { name: 'Create key' }).click();

    const shown = page.getByRole('dialog', { name: 'Key of Acme booking engine' });
    const secret = (await shown.getByTestId('api-key-secret').textContent())!.trim();
    expect(secret).toMatch(KEY_FORMAT);
    await screenshot(page, 'api-key-created');
    await shown.getByRole('button', { name: 'Copy key' }).click();
    await page.getByText('Key copied to the clipboard.').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await shown.getByRole('button', { name: 'Done' }).click();
    // Once closed, the key is nowhere on the page any more.
    expect(await page.content()).not.toContain(secret.slice(-43));

    const row = page.getByTestId('api-key-row').filter({ hasText: 'Acme booking engine' });
    await row.getByText('search, book').waitFor();
    await row.getByText('KEY', { exact: true }).waitFor();
    await row.getByText('120/min').waitFor();
    await row.getByText('never').first().waitFor();

    // The partner calls the API with it; the next look shows when.
    expect(await checkWith(secret)).toBe(200);
    await t.app.apiKeyUsage.flush();
    await page.reload();
    await row.locator('td').nth(4).filter({ hasNotText: 'never' }).waitFor();

    // What it books is in the reservation's history under the key's name.
    const booked = await bookThroughApi(t.app, secret, {
      propertyId: hotel.propertyId,
      roomTypeId: hotel.roomTypes.DBL,
      ratePlanId: hotel.ratePlanId,
      checkIn: isoDay(3),
      checkOut: isoDay(5),
      lastName: 'Partner',
    });
    await page.goto(`${baseUrl}/admin/reservations/${booked.id}`);
    await page.getByTestId('audit-history').getByText('by API key "Acme booking engine"').waitFor();
    await page.getByRole('link', { name: 'API keys' }).click();

    await row.getByRole('button', { name: 'Rotate Acme booking engine' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate Acme booking engine' });
    await rotate.getByLabel('The old key').selectOption('3600');
    await rotate.getByRole('button', { name: 'Rotate key' }).click();
    const rotatedDialog = page.getByRole('dialog', { name: 'Key of Acme booking engine' });
    const rotated = (await rotatedDialog.getByTestId('api-key-secret').textContent())!.trim();
    expect(rotated).toMatch(KEY_FORMAT);
    expect(rotated).not.toBe(secret);
    await rotatedDialog.getByRole('button', { name: 'Done' }).click();
    await row.getByText(/old secret works until/).waitFor();
    expect(await checkWith(secret)).toBe(200);
    expect(await checkWith(rotated)).toBe(200);
    await screenshot(page, 'api-keys');

    page.once('dialog', (confirm) => void confirm.accept());
    await row.getByRole('button', { name: 'Revoke Acme booking engine' }).click();
    await row.getByText('revoked').waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    expect(await checkWith(rotated)).toBe(401);
    expect(await checkWith(secret)).toBe(401);
    await context.close();
  });

  it("shows a property administrator its own properties' keys only, and no key for all properties", async () => {
    const everywhere = await call(t.app, 'POST', '/api/auth/api-keys/', {
      token: admin.token,
      body: { name: 'Group channel manager', scopes: ['search'], all_properties: true },
    });
    const otherKey = await call(t.app, 'POST', '/api/auth/api-keys/', {
      token: admin.token,
      body: { name: 'Other hotel engine', scopes: ['search'], property_ids: [other.propertyId] },
    });
    expect([everywhere.status, otherKey.status]).toEqual([201, 201]);
    const propertyAdmin = await createUser(t.db, { role: 'PROPERTY_ADMIN', propertyIds: [hotel.propertyId] });

    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, propertyAdmin.email, propertyAdmin.password);
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByTestId('api-key-row').filter({ hasText: 'Acme booking engine' }).waitFor();
    const names = await page.getByTestId('api-key-row').locator('td:first-child').allTextContents();
    expect(names.join('|')).not.toMatch(/Group channel manager|Other hotel engine/);

    await page.getByRole('button', { name: 'New API key' }).click();
    const form = page.getByRole('dialog', { name: 'New API key' });
    expect(await form.getByLabel('All properties, present and future').count()).toBe(0);
    await form.getByLabel('Name').fill('Front desk kiosk');
    await form.getByLabel('Hotel Keys (KEY)').check();
    await form.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('api-key-secret').textContent())!.trim();
    expect(await checkWith(secret)).toBe(200);
    await context.close();
  });
});

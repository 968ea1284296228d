import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminBuild } from '../../src/modules/web/web.build.ts';
import { call, createTestContext, type TestContext } from '../helpers/context.ts';
import { createUser, login } from '../helpers/factories.ts';
import { browserUnavailable, cspViolations, launchBrowser, newPage, screenshot, signIn } from './browser.ts';
import { isoDay, type SeededHotel, seedHotel } from './seed.ts';

const unavailable = browserUnavailable();
if (unavailable) console.log(`skipping the guests browser tests: ${unavailable}`);

/**
 * The Guests screen in a real browser (Debian's Chromium): search, a profile with its stays (those
 * of the user's hotels only), and erasure behind a typed confirmation, checked against the API.
 */
describe.skipIf(unavailable !== null)('guests in the web admin', () => {
  let t: TestContext;
  let browser: Browser;
  let baseUrl: string;
  let superToken: string;
  let root: { email: string; password: string };
  let admin: { email: string; password: string };
  let staff: { email: string; password: string };
  let lakeside: SeededHotel;
  let harbour: SeededHotel;

  async function book(hotel: SeededHotel, guest: Record<string, string>, offset: number) {
    const res = await call(t.app, 'POST', '/api/reservations/create/', {
      token: superToken,
      body: {
        property_id: hotel.propertyId,
        check_in: isoDay(offset),
        check_out: isoDay(offset + 2),
        guest,
        rooms: [{ room_type_id: hotel.roomTypes.DBL }],
        notes: 'Late arrival',
      },
    });
    if (res.status !== 201) throw new Error(`booking: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { id: string; confirmation_code: string };
  }

  const findGuest = async (search: string) =>
    (await call(t.app, 'GET', `/api/guests/?search=${encodeURIComponent(search)}`, { token: superToken }))
      .body.results[0];

  beforeAll(async () => {
    await ensureAdminBuild({ rebuildIfStale: true });
    t = await createTestContext();
    baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
    root = await createUser(t.db, { role: 'SUPER_ADMIN' });
    superToken = await login(t.app, root.email);
    lakeside = await seedHotel(t.app, superToken, { code: 'LAKE', name: 'Lakeside Hotel' });
    harbour = await seedHotel(t.app, superToken, { code: 'HARB', name: 'Harbour Hotel' });
    admin = await createUser(t.db, { role: 'PROPERTY_ADMIN', propertyIds: [lakeside.propertyId] });
    staff = await createUser(t.db, { role: 'STAFF', propertyIds: [lakeside.propertyId] });
    const marguerite = {
      first_name: 'Marguerite',
      last_name: 'Okonkwo-Blanc',
      email: 'marguerite.okonkwo@guests-browser.example',
      phone: '+33 6 12 34 56 78',
    };
    await book(lakeside, marguerite, 2);
    await book(lakeside, { ...marguerite, email: 'Marguerite.Okonkwo@Guests-Browser.example' }, 10);
    await book(harbour, marguerite, 20);
    await book(lakeside, { full_name: 'Ines Solo', email: 'ines.solo@guests-browser.example' }, 4);
    await book(lakeside, { full_name: 'Tomas Walk-In' }, 5);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  afterEach(() => {
    expect(cspViolations.splice(0)).toEqual([]);
  });

  it("finds a guest by name and shows only the stays at the user's hotels", async () => {
    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, admin.email, admin.password);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Guests' }).click();
    await page.getByTestId('guest-row').first().waitFor();
    expect(await page.getByTestId('guest-row').count()).toBe(3);
    await screenshot(page, 'guests');
    await page.getByLabel('Search name, e-mail or phone').fill('okonkwo');
    await page.getByTestId('guest-row').filter({ hasText: 'Ines' }).waitFor({ state: 'detached' });
    const row = page.getByTestId('guest-row');
    expect(await row.count()).toBe(1);
    // Two stays at Lakeside; the stay at Harbour is not this administrator's to know.
    expect(await row.locator('td').nth(3).textContent()).toBe('2');
    expect(await row.locator('td').nth(5).textContent()).toBe('LAKE');
    await row.getByRole('link', { name: 'Marguerite Okonkwo-Blanc' }).click();
    await page.getByTestId('guest-stay').first().waitFor();
    expect(await page.getByTestId('guest-stay').count()).toBe(2);
    expect(await page.getByTestId('guest-facts').textContent()).toContain(
      'marguerite.okonkwo@guests-browser.example',
    );
    await screenshot(page, 'guest-profile');

    // Her stay at Harbour makes erasure a super administrator's: the screen says so, nothing changes.
    await page.getByRole('button', { name: 'Erase personal data' }).click();
    const dialog = page.getByRole('dialog', { name: 'Erase Marguerite Okonkwo-Blanc' });
    await dialog.getByLabel('Type ERASE to confirm').fill('ERASE');
    await dialog.getByRole('button', { name: 'Erase for good' }).click();
    await dialog.getByText('also has stays at properties you do not administer').waitFor();
    expect(await findGuest('okonkwo')).toMatchObject({ erased: false, stay_count: 3 });
    await context.close();
  });

  it('erases a guest after a typed confirmation, and shows the profile erased with its stays', async () => {
    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, admin.email, admin.password);
    const ines = await findGuest('Ines Solo');
    await page.goto(`${baseUrl}/admin/guests/${ines.id}`);
    await page.getByTestId('guest-stay').first().waitFor();
    await page.getByRole('button', { name: 'Erase personal data' }).click();
    const dialog = page.getByRole('dialog', { name: 'Erase Ines Solo' });
    const confirm = dialog.getByRole('button', { name: 'Erase for good' });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel('Type ERASE to confirm').fill('erase');
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel('Type ERASE to confirm').fill('ERASE');
    await screenshot(page, 'guest-erase');
    await confirm.click();
    await page.getByTestId('guest-erased').waitFor();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Erased guest');
    expect(await page.getByTestId('guest-stay').count()).toBe(1);
    const after = await call(t.app, 'GET', `/api/guests/${ines.id}/`, { token: superToken });
    expect(after.body).toMatchObject({ erased: true, full_name: null, email: null, stay_count: 1 });
    expect(after.body.stays[0]).toMatchObject({ guest_name: null, nights: 2 });
    expect(await findGuest('ines')).toBeUndefined();
    await context.close();
  });

  it('lets staff search and read guests, without the administrators’ actions', async () => {
    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, staff.email, staff.password);
    await page.goto(`${baseUrl}/admin/guests`);
    await page.getByLabel('Search name, e-mail or phone').fill('walk-in');
    await page.getByTestId('guest-row').filter({ hasText: 'Tomas Walk-In' }).waitFor();
    await page.getByRole('link', { name: 'Tomas Walk-In' }).click();
    await page.getByTestId('guest-stay').first().waitFor();
    expect(await page.getByRole('button', { name: 'Erase personal data' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Edit details' }).count()).toBe(0);
    await context.close();
  });

  it('labels every control of the guests screens and keeps them within a tablet screen', async () => {
    const { context, page } = await newPage(browser, { width: 820, height: 1180 });
    await signIn(page, baseUrl, admin.email, admin.password);
    const marguerite = await findGuest('okonkwo');
    const check = () =>
      page.evaluate(() => {
        const found: string[] = [];
        for (const control of Array.from(document.querySelectorAll('input, select, textarea'))) {
          const element = control as HTMLInputElement;
          if (element.type === 'hidden' || element.labels?.length || element.getAttribute('aria-label'))
            continue;
          found.push(`unlabelled ${element.tagName.toLowerCase()} ${element.id}`);
        }
        for (const button of Array.from(document.querySelectorAll('button'))) {
          if (!(button.textContent?.trim() || button.getAttribute('aria-label')))
            found.push('a button without a name');
        }
        if (document.documentElement.scrollWidth > window.innerWidth) {
          found.push(
            `page is ${document.documentElement.scrollWidth}px wide on a ${window.innerWidth}px screen`,
          );
        }
        return found;
      });
    await page.goto(`${baseUrl}/admin/guests`);
    await page.getByTestId('guest-row').first().waitFor();
    expect(await check()).toEqual([]);
    await page.goto(`${baseUrl}/admin/guests/${marguerite.id}`);
    await page.getByTestId('guest-stay').first().waitFor();
    expect(await check()).toEqual([]);
    for (const [button, dialog] of [
      ['Edit details', 'Edit Marguerite Okonkwo-Blanc'],
      ['Merge a duplicate', 'Merge a duplicate into Marguerite Okonkwo-Blanc'],
      ['Erase personal data', 'Erase Marguerite Okonkwo-Blanc'],
    ] as const) {
      await page.getByRole('button', { name: button }).click();
      await page.getByRole('dialog', { name: dialog }).waitFor();
      expect(await check(), dialog).toEqual([]);
      await page.getByRole('dialog', { name: dialog }).getByRole('button', { name: 'Close' }).click();
    }
    await context.close();
  });

  it("edits a guest's details and merges its duplicate booked by phone only", async () => {
    const byPhone = await book(harbour, { full_name: 'M. Okonkwo', phone: '+33 6 12 34 56 78' }, 30);
    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, root.email, root.password);
    const marguerite = await findGuest('okonkwo-blanc');
    await page.goto(`${baseUrl}/admin/guests/${marguerite.id}`);
    await page.getByTestId('guest-stay').first().waitFor();
    await page.getByRole('button', { name: 'Edit details' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit Marguerite Okonkwo-Blanc' });
    await edit.getByLabel('E-mail').fill('not an address');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.getByText('is not a valid email').waitFor();
    await edit.getByLabel('E-mail').fill('m.okonkwo@guests-browser.example');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Guest saved.').waitFor();
    await page
      .getByTestId('guest-facts')
      .getByText('m.okonkwo@guests-browser.example', { exact: true })
      .waitFor();

    await page.getByRole('button', { name: 'Merge a duplicate' }).click();
    const merge = page.getByRole('dialog', { name: 'Merge a duplicate into Marguerite Okonkwo-Blanc' });
    await merge.getByLabel('Find the duplicate (name, e-mail or phone)').fill('M. Okonkwo');
    await merge.getByRole('button', { name: 'Merge M. Okonkwo into this guest' }).click();
    await page.getByText('Profiles merged.').waitFor();
    await page.getByTestId('guest-stay').filter({ hasText: byPhone.confirmation_code }).waitFor();
    expect(await page.getByTestId('guest-stay').count()).toBe(4);
    const after = await call(t.app, 'GET', `/api/guests/${marguerite.id}/`, { token: superToken });
    expect(after.body).toMatchObject({ email: 'm.okonkwo@guests-browser.example', stay_count: 4 });
    await context.close();
  });
});

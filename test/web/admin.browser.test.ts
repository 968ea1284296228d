import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.ts';
import { ADMIN_CSP } from '../../src/app/plugins/security-headers.ts';
import { resolveSecretsKey } from '../../src/app/secrets.ts';
import { startRelay } from '../../src/modules/events/relay/relay.ts';
import { createWebhookSink } from '../../src/modules/events/sinks/webhook.sink.ts';
import { startSimulator } from '../../src/modules/integrations/simulator/server.ts';
import { ensureAdminBuild } from '../../src/modules/web/web.build.ts';
import { call, createTestContext, LOOPBACK_EGRESS, type TestContext } from '../helpers/context.ts';
import { startHookServer } from '../helpers/events.ts';
import { createUser, login } from '../helpers/factories.ts';
import { browserUnavailable, cspViolations, launchBrowser, newPage, screenshot, signIn } from './browser.ts';
import { bookThroughApi, isoDay, type SeededHotel, seedHotel } from './seed.ts';

const unavailable = browserUnavailable();
if (unavailable) console.log(`skipping the admin browser tests: ${unavailable}`);

describe.skipIf(unavailable !== null)('web admin in a real browser', () => {
  let t: TestContext;
  let browser: Browser;
  let baseUrl: string;
  let admin: { email: string; password: string; token: string };
  let hotel: SeededHotel;

  beforeAll(async () => {
    await ensureAdminBuild({ rebuildIfStale: true });
    // The webhook receiver and the simulated PMS listen on 127.0.0.1.
    t = await createTestContext({ env: LOOPBACK_EGRESS });
    baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const user = await createUser(t.db, { role: 'SUPER_ADMIN' });
    admin = { ...user, token: await login(t.app, user.email) };
    hotel = await seedHotel(t.app, admin.token, { code: 'BER', name: 'Hotel Berlin Mitte' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  // Every flow of this file runs under the admin's policy: none may break it.
  afterEach(() => {
    expect(cspViolations.splice(0)).toEqual([]);
  });

  /** A signed-in admin's page on the seeded hotel's inventory calendar. */
  async function openInventory() {
    const opened = await newPage(browser);
    await signIn(opened.page, baseUrl, admin.email, admin.password);
    await opened.page.getByLabel('Property').selectOption(hotel.propertyId);
    await opened.page.getByRole('link', { name: 'Inventory' }).click();
    return opened;
  }

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
      'Guests',
      'Rates',
      'Properties',
      'Users',
      'Integrations',
      'Webhooks',
      'API keys',
    ]);
    expect(await page.getByTestId('current-role').textContent()).toBe('SUPER_ADMIN');

    await context.close();
  });

  it('keeps the refresh token where no script of the page can read it, and stays signed in across reloads', async () => {
    const { context, page } = await newPage(browser);
    const refreshCookie = async () => (await context.cookies()).find((c) => c.name === 'pms_refresh');
    // What an older admin left behind is removed on sight.
    await page.goto(`${baseUrl}/admin/`);
    await page.evaluate(() => localStorage.setItem('pms.admin.tokens', '{"access":"a","refresh":"r"}'));
    await signIn(page, baseUrl, admin.email, admin.password);
    const nav = page.getByRole('navigation', { name: 'Main' });

    const cookie = await refreshCookie();
    expect(cookie).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
      path: '/api/auth/token/',
      secure: false,
    });
    expect(cookie!.value.split('.')).toHaveLength(3);
    const readable = () =>
      page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage, cookie: document.cookie }));
    // No token of any kind (a JWT starts with "eyJ") in what the page's scripts can read.
    expect(await readable()).not.toContain(cookie!.value);
    expect(await readable()).not.toContain('eyJ');

    // A reload keeps the user signed in: the page gets a new access token through the cookie (rotated).
    await page.reload();
    await nav.waitFor();
    expect(await page.getByTestId('current-role').textContent()).toBe('SUPER_ADMIN');
    const rotated = await refreshCookie();
    expect(rotated!.value).not.toBe(cookie!.value);
    expect(await readable()).not.toContain('eyJ');
    // The replaced token is spent: presenting it again is refused (and revokes its sign-in).
    const replay = await call(t.app, 'POST', '/api/auth/token/refresh/', {
      body: { refresh: cookie!.value },
    });
    expect(replay.status).toBe(401);
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await signIn(page, baseUrl, admin.email, admin.password);

    // An access token the API refuses is refreshed once, transparently, and the request retried.
    const beforeRefusal = await refreshCookie();
    let forged = 0;
    await page.route(
      (url) => url.pathname === '/api/properties/',
      async (route) => {
        forged++;
        await route.continue({
          headers: { ...route.request().headers(), authorization: 'Bearer expired.or.forged' },
        });
      },
      { times: 1 },
    );
    await page.getByRole('link', { name: 'Properties' }).click();
    await page.getByRole('link', { name: 'BER' }).waitFor();
    expect(forged).toBe(1);
    expect((await refreshCookie())!.value).not.toBe(beforeRefusal!.value);

    // Logging out revokes the sign-in on the server and clears the cookie.
    const last = await refreshCookie();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await expect.poll(refreshCookie).toBeUndefined();
    const afterLogout = await call(t.app, 'POST', '/api/auth/token/refresh/', {
      body: { refresh: last!.value },
    });
    expect(afterLogout.status).toBe(401);
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => localStorage.getItem('pms.admin.tokens'))).toBeNull();
    await context.close();
  });

  it('serves the admin under a strict Content-Security-Policy that its screens and live feeds keep', async () => {
    const response = await fetch(`${baseUrl}/admin/`);
    expect(response.headers.get('content-security-policy')).toBe(ADMIN_CSP);
    const policy = ADMIN_CSP.split(';');
    expect(policy).toContain("script-src 'self'");
    expect(ADMIN_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*/);

    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, admin.email, admin.password);
    await page.getByLabel('Property').selectOption(hotel.propertyId);
    for (const screen of ['Inventory', 'Reservations']) {
      await page.getByRole('link', { name: screen }).click();
      // The realtime feed (a WebSocket to this origin) connects under connect-src 'self'.
      await page.locator('[data-testid="live-status"][data-status="live"]').waitFor();
    }
    for (const [screen, heading] of [
      ['Rates', 'Rates'],
      ['Properties', 'Properties'],
      ['Users', 'Users'],
      ['Integrations', 'Integrations'],
      ['Webhooks', 'Webhooks'],
      ['API keys', 'API keys'],
    ] as const) {
      await page.getByRole('link', { name: screen }).click();
      await page.getByRole('heading', { name: heading, exact: true }).first().waitFor();
    }
    // The check itself works: what breaks the policy is blocked and reported. Trusted Types refuse
    // a script address given as a string outright; an image from elsewhere is a reported violation.
    const injected = await page.evaluate(() => {
      try {
        document.createElement('script').src = 'https://example.invalid/injected.js';
        return 'assigned';
      } catch (error) {
        return String(error);
      }
    });
    expect(injected).toMatch(/TrustedScriptURL/);
    cspViolations.splice(0);
    await page.evaluate(() => {
      document.body.append(
        Object.assign(document.createElement('img'), { src: 'https://example.invalid/x.png' }),
      );
    });
    await expect
      .poll(() => cspViolations.some((v) => /img-src blocked https:\/\/example.invalid/.test(v)))
      .toBe(true);
    cspViolations.splice(0);
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
    expect(await codeError.textContent()).toMatch(/format/);
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
    await context.close();
  });

  it('creates a reservation through the UI, with availability and quote, and lists it', async () => {
    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, admin.email, admin.password);
    await page.getByLabel('Property').selectOption(hotel.propertyId);
    await page.getByRole('link', { name: 'Reservations' }).click();
    await page.getByRole('button', { name: 'New reservation' }).click();
    await page.getByRole('heading', { name: 'New reservation' }).waitFor();

    await page.getByLabel('Check-in').fill(isoDay(3));
    await page.getByLabel('Check-out').fill(isoDay(6));
    // Three nights of the Double room at 120.00 on BAR, quoted as the dates are picked.
    await page.getByTestId('quote-total').filter({ hasText: 'Total 360.00 EUR' }).waitFor();
    await page.getByTestId('stay-bookable').and(page.locator('[data-bookable="true"]')).waitFor();
    await page.getByLabel('First name').fill('Ada');
    await page.getByLabel('Last name').fill('Lovelace');
    await page.getByLabel('Email').fill('ada@example.test');
    await screenshot(page, 'reservation-new');
    await page.getByRole('button', { name: 'Create reservation' }).click();

    await page.getByRole('heading', { name: /Ada Lovelace/ }).waitFor();
    expect(await page.getByTestId('reservation-status').textContent()).toBe('Confirmed');
    expect(await page.getByTestId('reservation-total').textContent()).toBe('360.00 EUR');
    await page.getByTestId('audit-history').getByText('reservation.created').waitFor();
    await screenshot(page, 'reservation-detail');

    await page.getByRole('link', { name: 'Reservations', exact: true }).first().click();
    const row = page.getByTestId('reservation-row').filter({ hasText: 'Ada Lovelace' });
    await row.waitFor();
    expect(await row.textContent()).toContain(isoDay(3));
    await screenshot(page, 'reservations');

    const listed = await call(
      t.app,
      'GET',
      `/api/reservations/?property_id=${hotel.propertyId}&guest=Lovelace`,
      {
        token: admin.token,
      },
    );
    expect(listed.body.results).toHaveLength(1);
    expect(listed.body.results[0]).toMatchObject({
      check_in: isoDay(3),
      check_out: isoDay(6),
      status: 'confirmed',
    });
    await context.close();
  });

  it('updates the open calendar live when a booking is made through the API', async () => {
    const { context, page } = await openInventory();
    await page.locator('[data-testid="live-status"][data-status="live"]').waitFor();

    const night = isoDay(10);
    const cell = page.getByTestId(`inv-DBL-${night}`);
    expect(await cell.getAttribute('data-available')).toBe('10');
    // A marker on the window proves the page is never reloaded.
    await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = 'same page';
    });

    await bookThroughApi(t.app, admin.token, {
      propertyId: hotel.propertyId,
      roomTypeId: hotel.roomTypes.DBL,
      ratePlanId: hotel.ratePlanId,
      checkIn: night,
      checkOut: isoDay(12),
      lastName: 'Live',
    });

    await page.locator(`[data-testid="inv-DBL-${night}"][data-available="9"]`).waitFor();
    await page.locator(`[data-testid="inv-DBL-${isoDay(11)}"][data-available="9"]`).waitFor();
    expect(await page.getByTestId(`inv-DBL-${isoDay(12)}`).getAttribute('data-available')).toBe('10');
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same page');
    await screenshot(page, 'inventory');
    await context.close();
  });

  it('keeps a live change that arrives while the calendar is reloading', async () => {
    const { context, page } = await openInventory();
    await page.locator('[data-testid="live-status"][data-status="live"]').waitFor();
    const night = isoDay(8);
    const cell = page.getByTestId(`inv-DBL-${night}`);
    await page.locator(`[data-testid="inv-DBL-${night}"][data-available]`).waitFor();
    const before = Number(await cell.getAttribute('data-available'));

    // The next calendar load is answered by the server now, before the booking, and reaches the
    // page only after the booking's live event did: the order a slow response gives.
    let answered!: () => void;
    const serverAnswered = new Promise<void>((resolve) => (answered = resolve));
    let deliver!: () => void;
    const delivered = new Promise<void>((resolve) => (deliver = resolve));
    await page.route('**/api/inventory/calendar/**', async (route) => {
      const response = await route.fetch();
      answered();
      await delivered;
      await route.fulfill({ response });
    });
    await page.getByLabel('Nights shown').selectOption('21');
    await serverAnswered;
    await bookThroughApi(t.app, admin.token, {
      propertyId: hotel.propertyId,
      roomTypeId: hotel.roomTypes.DBL,
      ratePlanId: hotel.ratePlanId,
      checkIn: night,
      checkOut: isoDay(9),
      lastName: 'Reload',
    });
    await page.locator(`[data-testid="inv-DBL-${night}"][data-available="${before - 1}"]`).waitFor();

    deliver();
    // A night only the 21-night range shows gets its counts once the held load is applied.
    await page.locator(`[data-testid="inv-DBL-${isoDay(17)}"][data-available]`).waitFor();
    expect(await cell.getAttribute('data-available')).toBe(String(before - 1));
    await page.unrouteAll();
    await context.close();
  });

  it('shows the nights asked for last when an earlier load answers after them', async () => {
    const { context, page } = await openInventory();
    const calendar = page.getByRole('table', { name: 'Inventory calendar' });
    const tomorrow = page.locator(`[data-testid="inv-DBL-${isoDay(1)}"][data-available]`);
    await tomorrow.waitFor();
    await page.locator('table[aria-label="Inventory calendar"][aria-busy="false"]').waitFor();

    // The load of the later nights is answered only after the one that follows it (the live
    // feed's own reloads of the nights on screen pass through).
    let deliver!: () => void;
    const delivered = new Promise<void>((resolve) => (deliver = resolve));
    let answered!: () => void;
    const serverAnswered = new Promise<void>((resolve) => (answered = resolve));
    await page.route('**/api/inventory/calendar/**', async (route) => {
      const start = new URL(route.request().url()).searchParams.get('start') ?? '';
      if (start < isoDay(7)) return route.continue();
      const response = await route.fetch();
      answered();
      await delivered;
      await route.fulfill({ response });
    });
    await page.getByRole('button', { name: 'Later nights' }).click();
    await serverAnswered;
    await page.getByRole('button', { name: 'Earlier nights' }).click();
    await tomorrow.waitFor();

    deliver();
    await page.locator('table[aria-label="Inventory calendar"][aria-busy="false"]').waitFor();
    expect(await calendar.getAttribute('aria-busy')).toBe('false');
    // The late answer was for the later nights: the nights on screen keep their counts.
    expect(await tomorrow.count()).toBe(1);
    await page.unrouteAll();
    await context.close();
  });

  it('selects a range in the calendar and stops sales on it', async () => {
    const { context, page } = await openInventory();
    await page.getByTestId(`inv-STE-${isoDay(2)}`).click();
    await page.getByTestId(`inv-STE-${isoDay(4)}`).click({ modifiers: ['Shift'] });
    expect(await page.getByTestId(`inv-STE-${isoDay(3)}`).getAttribute('aria-pressed')).toBe('true');
    await page.getByLabel('Stop-sell').selectOption('on');
    await page.getByLabel('Out of order units').fill('1');
    await page.getByRole('button', { name: 'Apply to selection' }).click();
    await page.locator(`[data-testid="inv-STE-${isoDay(4)}"][data-available="2"]`).waitFor();

    const calendar = await call(
      t.app,
      'GET',
      `/api/inventory/calendar/?property_id=${hotel.propertyId}&room_type_id=${hotel.roomTypes.STE}&start=${isoDay(1)}&end=${isoDay(5)}`,
      { token: admin.token },
    );
    expect(
      calendar.body.results.map((n: { date: string; stop_sell: boolean; out_of_order_units: number }) => [
        n.date,
        n.stop_sell,
        n.out_of_order_units,
      ]),
    ).toEqual([
      [isoDay(1), false, 0],
      [isoDay(2), true, 1],
      [isoDay(3), true, 1],
      [isoDay(4), true, 1],
      [isoDay(5), false, 0],
    ]);
    await context.close();
  });

  it('follows the reservations feed live and takes a reservation through its lifecycle', async () => {
    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, admin.email, admin.password);
    await page.getByLabel('Property').selectOption(hotel.propertyId);
    await page.getByRole('link', { name: 'Reservations' }).click();
    await page.locator('[data-testid="live-status"][data-status="live"]').waitFor();

    const booked = await bookThroughApi(t.app, admin.token, {
      propertyId: hotel.propertyId,
      roomTypeId: hotel.roomTypes.STE,
      ratePlanId: hotel.ratePlanId,
      checkIn: isoDay(20),
      checkOut: isoDay(22),
      lastName: 'Feedson',
    });
    await page.getByTestId('live-feed').getByText(`New ${booked.confirmation_code}`).waitFor();
    await page.getByTestId('reservation-row').filter({ hasText: 'Feedson' }).waitFor();
    await screenshot(page, 'reservations-live');

    await page.getByRole('link', { name: booked.confirmation_code }).first().click();
    await page.getByRole('button', { name: 'Change dates' }).click();
    const dialog = page.getByRole('dialog', { name: `Change dates of ${booked.confirmation_code}` });
    // Moved to arrive today, the hotel's business date: check-in opens on the arrival day.
    await dialog.getByLabel('New check-in').fill(isoDay(0));
    await dialog.getByLabel('New check-out').fill(isoDay(2));
    await dialog.getByRole('button', { name: 'Change dates' }).click();
    await page.getByText(`${isoDay(0)} → ${isoDay(2)} (2 nights)`).waitFor();
    expect(await page.getByTestId('reservation-total').textContent()).toBe('500.00 EUR');

    await page.getByRole('button', { name: 'Check in' }).click();
    await page.getByTestId('reservation-status').filter({ hasText: 'Checked in' }).waitFor();
    await page.getByRole('button', { name: 'Check out' }).click();
    await page.getByTestId('reservation-status').filter({ hasText: 'Checked out' }).waitFor();
    await page.getByTestId('audit-history').getByText('reservation.checked_out').waitFor();

    const stored = await call(t.app, 'GET', `/api/reservations/${booked.id}/`, { token: admin.token });
    expect(stored.body).toMatchObject({ status: 'checked_out', check_in: isoDay(0), check_out: isoDay(2) });

    // Cancelling asks first; the answer is given to the browser's confirm dialog.
    const other = await bookThroughApi(t.app, admin.token, {
      propertyId: hotel.propertyId,
      roomTypeId: hotel.roomTypes.STE,
      checkIn: isoDay(30),
      checkOut: isoDay(31),
      lastName: 'Canceller',
    });
    page.once('dialog', (confirm) => void confirm.accept());
    await page.goto(`${baseUrl}/admin/reservations/${other.id}`);
    await page.getByRole('button', { name: 'Cancel reservation' }).click();
    await page.getByTestId('reservation-status').filter({ hasText: 'Cancelled' }).waitFor();
    // Thirty days ahead, within BAR's free period (two days before arrival).
    expect(await page.getByTestId('reservation-fee').textContent()).toBe('0.00 EUR');
    expect(await page.getByTestId('reservation-fee-reason').textContent()).toContain('free until');
    await context.close();
  });

  it('shows the fees of late cancellations and no-shows, the business date, and runs the night audit', async () => {
    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, admin.email, admin.password);
    // Arriving tomorrow: BAR's free period (until two days before arrival) is over, the first night is due.
    const late = await bookThroughApi(t.app, admin.token, {
      propertyId: hotel.propertyId,
      roomTypeId: hotel.roomTypes.DBL,
      checkIn: isoDay(1),
      checkOut: isoDay(3),
      lastName: 'Latecanceller',
    });
    page.once('dialog', (confirm) => void confirm.accept());
    await page.goto(`${baseUrl}/admin/reservations/${late.id}`);
    await page.getByRole('button', { name: 'Cancel reservation' }).click();
    await page.getByTestId('reservation-status').filter({ hasText: 'Cancelled' }).waitFor();
    expect(await page.getByText('Cancellation fee').count()).toBe(1);
    expect(await page.getByTestId('reservation-fee').textContent()).toBe('120.00 EUR');
    expect(await page.getByTestId('reservation-fee-reason').textContent()).toContain('first night');

    // Arriving today; once the business date is past the arrival day, the front desk declares the no-show.
    const absent = await bookThroughApi(t.app, admin.token, {
      propertyId: hotel.propertyId,
      roomTypeId: hotel.roomTypes.STE,
      checkIn: isoDay(0),
      checkOut: isoDay(2),
      lastName: 'Absent',
    });
    const moveBusinessDate = (date: string) =>
      t.db.updateTable('property').set({ business_date: date }).where('id', '=', hotel.propertyId).execute();
    await moveBusinessDate(isoDay(1));
    try {
      page.once('dialog', (confirm) => void confirm.accept());
      await page.goto(`${baseUrl}/admin/reservations/${absent.id}`);
      await page.getByRole('button', { name: 'Mark no-show' }).click();
      await page.getByTestId('reservation-status').filter({ hasText: 'No-show' }).waitFor();
      expect(await page.getByText('No-show fee').count()).toBe(1);
      expect(await page.getByTestId('reservation-fee').textContent()).toBe('250.00 EUR');
    } finally {
      await moveBusinessDate(isoDay(0));
    }

    await page.goto(`${baseUrl}/admin/properties/${hotel.propertyId}`);
    expect(await page.getByTestId('business-date').textContent()).toBe(isoDay(0));
    await page.getByRole('button', { name: 'Run night audit' }).click();
    const result = page.getByTestId('night-audit-result');
    await result.waitFor();
    // Today is not over yet: the date stays, nobody else is a no-show, the horizon was loaded with the room types.
    expect(await result.textContent()).toContain(`Business date ${isoDay(0)} is current, 0 no-show(s)`);
    await context.close();
  });

  it('bulk-edits rates over a range on some weekdays, with restrictions per cell', async () => {
    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, admin.email, admin.password);
    await page.getByLabel('Property').selectOption(hotel.propertyId);
    await page.getByRole('link', { name: 'Rates' }).click();
    await page.getByTestId(`rate-BAR-DBL-${isoDay(1)}`).click();
    await page.getByTestId(`rate-BAR-DBL-${isoDay(7)}`).click({ modifiers: ['Shift'] });
    const mask = page.getByRole('group', { name: 'Days of the week' });
    for (const day of ['Mon', 'Tue', 'Wed', 'Thu', 'Sun']) await mask.getByLabel(day).uncheck();
    await page.getByLabel('Amount per night (EUR)').fill('150.00');
    await page.getByLabel('Minimum stay').fill('2');
    await page.getByRole('button', { name: 'Apply to range' }).click();

    const week = Array.from({ length: 7 }, (_, i) => isoDay(i + 1));
    const weekend = week.filter((d) => [5, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay()));
    expect(weekend).toHaveLength(2);
    for (const night of weekend) {
      await page.locator(`[data-testid="rate-BAR-DBL-${night}"][data-amount="150.00"]`).waitFor();
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'rates');

    const grid = await call(
      t.app,
      'GET',
      `/api/rates/grid/?property_id=${hotel.propertyId}&rate_plan_id=${hotel.ratePlanId}&room_type_id=${hotel.roomTypes.DBL}&start=${week[0]}&end=${week[6]}`,
      { token: admin.token },
    );
    const nights = grid.body.results[0].nights as Array<{
      date: string;
      amount: string;
      min_stay: number | null;
    }>;
    for (const night of nights) {
      const isWeekend = weekend.includes(night.date);
      expect([night.date, night.amount, night.min_stay]).toEqual([
        night.date,
        isWeekend ? '150.00' : '120.00',
        isWeekend ? 2 : null,
      ]);
    }
    await context.close();
  });

  it('subscribes a webhook, shows its delivery log and redelivers a failed attempt', async () => {
    const endpoint = await startHookServer(500);
    const logger = createLogger({ logLevel: 'silent' });
    // Automatic retries are pushed far out, so the only second attempt is the one clicked.
    const relay = await startRelay({
      db: t.db,
      databaseUrl: t.databaseUrl,
      sinks: [
        createWebhookSink({
          db: t.db,
          secretsKey: resolveSecretsKey(t.config),
          logger,
          retryWindowMs: 3_600_000,
          allowedNetworks: t.config.webhookAllowedNetworks,
          retryBaseMs: 600_000,
          timeoutMs: 2000,
        }),
      ],
      logger,
      leaseMs: 5000,
      pollMs: 100,
    });
    const { context, page } = await newPage(browser);
    try {
      await signIn(page, baseUrl, admin.email, admin.password);
      await page.getByLabel('Property').selectOption(hotel.propertyId);
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByRole('button', { name: 'New webhook' }).click();
      const form = page.getByRole('dialog', { name: 'New webhook' });
      await form.getByLabel('Endpoint URL').fill(endpoint.url);
      await form.getByLabel('Description').fill('Channel manager');
      await form.getByRole('button', { name: 'Create webhook' }).click();
      const secret = (await page.getByTestId('webhook-secret').textContent())!;
      expect(secret).toMatch(/^whsec_/);
      await page.getByRole('button', { name: 'Done' }).click();

      await bookThroughApi(t.app, admin.token, {
        propertyId: hotel.propertyId,
        roomTypeId: hotel.roomTypes.DBL,
        checkIn: isoDay(40),
        checkOut: isoDay(41),
        lastName: 'Hooked',
      });
      await page.getByRole('button', { name: `Delivery log of ${endpoint.url}` }).click();
      const failed = page.getByTestId('delivery-row').filter({ hasText: 'HTTP 500' });
      await failed.waitFor();
      expect(await failed.textContent()).toContain('pms.reservation.created');

      endpoint.state.status = 200;
      await failed.getByRole('button', { name: 'Redeliver' }).click();
      await page
        .getByTestId('delivery-row')
        .filter({ hasText: 'manual' })
        .filter({ hasText: 'succeeded' })
        .waitFor();
      await screenshot(page, 'webhooks');

      expect(endpoint.received.map((r) => r.status)).toEqual([500, 200]);
      const delivered = endpoint.received[1]!;
      const event = new Webhook(secret).verify(delivered.body, delivered.headers) as {
        type: string;
        data: any;
      };
      expect(event.type).toBe('pms.reservation.created');
      expect(event.data.reservation.guest.last_name).toBe('Hooked');
    } finally {
      await context.close();
      await relay.stop();
      await endpoint.close();
    }
  });

  it('refuses a bad config upload and shows each problem by JSON pointer', async () => {
    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, admin.email, admin.password);
    await page.getByRole('link', { name: 'Integrations' }).click();
    await page.getByRole('tab', { name: 'PMS configs' }).click();
    await page.getByRole('cell', { name: 'acme', exact: true }).first().waitFor();

    const before = await call(t.app, 'GET', '/api/integrations/pms/configs/', { token: admin.token });
    const config = JSON.parse(
      readFileSync(new URL('../../pms-configs/acme-2.1.json', import.meta.url), 'utf8'),
    );
    delete config.version;
    config.source.records = '$.data[*';
    config.status_mappings.BOOKED = 'booked';
    config.field_mappings.check_in.transform = 'parse_dat';
    await page.getByLabel('Config JSON').fill(JSON.stringify(config, null, 2));
    await page.getByRole('button', { name: 'Upload config' }).click();

    const errors = page.getByTestId('config-errors');
    await errors.waitFor();
    const rows = await errors.locator('tbody tr').allTextContents();
    expect(rows).toHaveLength(4);
    for (const [pointer, message] of [
      ['/version', 'is required'],
      ['/source/records', 'is not a usable JSONPath'],
      ['/status_mappings/BOOKED', 'is not a canonical status'],
      ['/field_mappings/check_in/transform', 'unknown transform "parse_dat"'],
    ]) {
      expect(
        rows.some((row) => row.startsWith(pointer!) && row.includes(message!)),
        `${pointer} ${message}`,
      ).toBe(true);
    }
    await screenshot(page, 'integrations-config-errors');

    // Preview: the shipped config against pasted raw records, one good and one with a bad date.
    await page
      .getByRole('row', { name: /acme 2\.1/ })
      .getByRole('button', { name: 'Open in editor' })
      .click();
    await page.getByText('Loaded acme 2.1 into the editor.').waitFor();
    const pages = JSON.parse(
      readFileSync(new URL('../../pms-configs/fixtures/acme-2.1/pages.json', import.meta.url), 'utf8'),
    );
    const good = pages[0].data[0];
    const bad = { ...good, id: 'bad-1', arrival: '2026-02-30' };
    await page.getByLabel('Raw records (JSON array)').fill(JSON.stringify([good, bad]));
    await page.getByRole('button', { name: 'Preview mapping' }).click();
    const preview = page.getByTestId('preview-result');
    await preview.waitFor();
    expect(await preview.textContent()).toContain('1 mapped');
    expect(await preview.textContent()).toContain('1 failed');
    expect(await preview.textContent()).toContain('PMSMappingError');
    expect(await preview.textContent()).toContain('"external_id": "100000"');
    const after = await call(t.app, 'GET', '/api/integrations/pms/configs/', { token: admin.token });
    expect(after.body.results.map((c: { checksum: string }) => c.checksum)).toEqual(
      before.body.results.map((c: { checksum: string }) => c.checksum),
    );
    await context.close();
  });

  it('connects a hotel to a PMS, syncs now with progress, and shows runs and quarantined records', async () => {
    const simulator = await startSimulator({
      host: '127.0.0.1',
      port: 0,
      dialects: ['acme'],
      bookings: 40,
      badRatio: 0.1,
      seed: 'admin-browser-test',
    });
    const { context, page } = await newPage(browser);
    try {
      await signIn(page, baseUrl, admin.email, admin.password);
      await page.getByLabel('Property').selectOption(hotel.propertyId);
      await page.getByRole('link', { name: 'Integrations' }).click();
      await page.getByLabel('PMS config').selectOption('acme@2.1');
      await page.getByLabel('Base URL').fill(simulator.url);
      await page.getByLabel('Hotel id at the PMS').fill('BER');
      await page.getByLabel('Secret 1 value').fill(simulator.credentials.acme);
      await page.getByRole('button', { name: 'Save connection' }).click();
      await page.getByText('Next scheduled run').waitFor();

      await page.getByRole('button', { name: 'Sync now' }).click();
      const progress = page.getByTestId('sync-progress');
      await progress
        .getByTestId('run-status')
        .filter({ hasText: /^(succeeded|partial)$/ })
        .waitFor();
      await screenshot(page, 'integrations-sync');

      const runs = await call(
        t.app,
        'GET',
        `/api/integrations/pms/sync-runs/?property_id=${hotel.propertyId}`,
        {
          token: admin.token,
        },
      );
      const run = runs.body.results[0];
      expect(run.fetched).toBe(40);
      expect(run.quarantined).toBeGreaterThan(0);
      expect(run.status).toBe('partial');
      expect(await progress.textContent()).toContain(`Quarantined${run.quarantined}`);

      await page.getByRole('tab', { name: 'Sync runs' }).click();
      await page.getByTestId('run-row').first().waitFor();
      await page
        .getByRole('button', { name: `Show the ${run.quarantined} quarantined records of this run` })
        .click();
      const records = page.getByTestId('quarantined-record');
      await records.first().waitFor();
      expect(await records.count()).toBe(run.quarantined);
      await records.first().getByText('Raw payload').click();
      expect(await records.first().locator('pre').textContent()).toContain('"id"');
      await screenshot(page, 'integrations-quarantine');

      // Replay one record through the (unchanged) config: it is tried again and fails again.
      const first = await call(
        t.app,
        'GET',
        `/api/integrations/pms/errors/?property_id=${hotel.propertyId}&replay_status=pending`,
        { token: admin.token },
      );
      const record = first.body.results.find((r: { external_id: string | null }) => r.external_id !== null);
      await records
        .filter({ hasText: `external id ${record.external_id}` })
        .getByRole('button', { name: 'Replay this record' })
        .click();
      await page.getByText(/^Replay (partial|failed|succeeded)/).waitFor();
      await records.filter({ hasText: `external id ${record.external_id}` }).waitFor({ state: 'detached' });
      expect(await records.count()).toBe(run.quarantined - 1);
      const replayed = await call(
        t.app,
        'GET',
        `/api/integrations/pms/errors/?property_id=${hotel.propertyId}&replay_status=failed`,
        { token: admin.token },
      );
      expect(replayed.body.results.map((r: { external_id: string }) => r.external_id)).toContain(
        record.external_id,
      );
    } finally {
      await context.close();
      await simulator.close();
    }
  });

  it('labels every control on every screen and keeps the page within a tablet screen', async () => {
    const { context, page } = await newPage(browser, { width: 820, height: 1180 });
    await signIn(page, baseUrl, admin.email, admin.password);
    await page.getByLabel('Property').selectOption(hotel.propertyId);
    const screens: Array<[string, string]> = [
      ['inventory', `inv-DBL-${isoDay(1)}`],
      ['reservations', 'live-status'],
      ['reservations/new', 'availability'],
      ['rates', `rate-BAR-DBL-${isoDay(1)}`],
      ['properties', ''],
      ['users', ''],
      ['integrations', ''],
      ['webhooks', ''],
    ];
    for (const [screen, testId] of screens) {
      await page.goto(`${baseUrl}/admin/${screen}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      if (testId) await page.getByTestId(testId).first().waitFor();
      const problems = await page.evaluate(() => {
        const found: string[] = [];
        for (const control of Array.from(document.querySelectorAll('input, select, textarea'))) {
          const element = control as HTMLInputElement;
          if (element.type === 'hidden') continue;
          if (element.labels?.length || element.getAttribute('aria-label')) continue;
          found.push(`unlabelled ${element.tagName.toLowerCase()} ${element.id}`);
        }
        for (const button of Array.from(document.querySelectorAll('button'))) {
          if (!(button.textContent?.trim() || button.getAttribute('aria-label')))
            found.push('a button without a name');
        }
        // The page itself never scrolls sideways on a tablet; wide grids scroll inside their frame.
        if (document.documentElement.scrollWidth > window.innerWidth) {
          found.push(
            `page is ${document.documentElement.scrollWidth}px wide on a ${window.innerWidth}px screen`,
          );
        }
        return found;
      });
      expect(problems, `${screen}: ${problems.join('; ')}`).toEqual([]);
    }
    await page.goto(`${baseUrl}/admin/inventory`);
    await page.getByTestId(`inv-DBL-${isoDay(1)}`).waitFor();
    await screenshot(page, 'tablet-inventory');

    // The calendar works from the keyboard: focus a night, Enter selects it, Shift+Enter extends.
    await page.getByTestId(`inv-STE-${isoDay(6)}`).focus();
    await page.keyboard.press('Enter');
    await page.getByTestId(`inv-STE-${isoDay(8)}`).focus();
    await page.keyboard.press('Shift+Enter');
    expect(await page.getByTestId(`inv-STE-${isoDay(7)}`).getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByLabel('First night').inputValue()).toBe(isoDay(6));
    expect(await page.getByLabel('Last night').inputValue()).toBe(isoDay(8));
    await context.close();
  });

  it("edits a user's role, sending only the field that changed", async () => {
    const staff = await createUser(t.db, { role: 'STAFF', propertyIds: [hotel.propertyId] });
    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, admin.email, admin.password);
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('button', { name: `Edit ${staff.email}` }).click();
    const dialog = page.getByRole('dialog', { name: `Edit ${staff.email}` });
    await dialog.getByLabel('Role').selectOption('PROPERTY_ADMIN');
    const patched = page.waitForRequest((request) => request.method() === 'PATCH');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    // The email, name, properties and active flag were left as they were: a PATCH names none of them.
    expect((await patched).postDataJSON()).toEqual({ role: 'PROPERTY_ADMIN' });
    await page.getByText('User saved.').waitFor();
    const saved = await call(t.app, 'GET', `/api/auth/users/${staff.id}/`, { token: admin.token });
    expect(saved.body).toMatchObject({
      role: 'PROPERTY_ADMIN',
      property_ids: [hotel.propertyId],
      is_active: true,
    });
    await context.close();
  });

  it('does not show admin-only screens to a STAFF user', async () => {
    const staff = await createUser(t.db, { role: 'STAFF', propertyIds: [hotel.propertyId] });
    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, staff.email, staff.password);
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Inventory',
      'Reservations',
      'Guests',
      'Rates',
      'Properties',
    ]);
    for (const screen of ['users', 'integrations', 'webhooks']) {
      await page.goto(`${baseUrl}/admin/${screen}`);
      await page.getByRole('heading', { name: 'Not available' }).waitFor();
    }
    // Read-only where STAFF may read: no adjustment form under the calendar, no new property.
    await page.goto(`${baseUrl}/admin/inventory`);
    await page.getByTestId(`inv-DBL-${isoDay(1)}`).waitFor();
    expect(await page.getByRole('button', { name: 'Apply to selection' }).count()).toBe(0);
    await page.goto(`${baseUrl}/admin/properties`);
    await page.getByRole('link', { name: 'BER' }).waitFor();
    expect(await page.getByRole('button', { name: 'New property' }).count()).toBe(0);
    await context.close();
  });
});

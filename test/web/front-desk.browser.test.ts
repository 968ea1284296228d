import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminBuild } from '../../src/modules/web/web.build.ts';
import { call, createTestContext, type TestContext } from '../helpers/context.ts';
import { createUser, login } from '../helpers/factories.ts';
import { browserUnavailable, cspViolations, launchBrowser, newPage, screenshot, signIn } from './browser.ts';
import { bookThroughApi, isoDay, type SeededHotel, seedHotel } from './seed.ts';

const unavailable = browserUnavailable();
if (unavailable) console.log(`skipping the front-desk browser tests: ${unavailable}`);

/**
 * The front desk in a real browser (Debian's Chromium): room states on the property's Rooms tab,
 * housekeeping set by staff, rooms put out of order and back, and a stay checked in (a room given
 * to it), its guest corrected and its departure moved, each checked against the API afterwards.
 */
describe.skipIf(unavailable !== null)('front desk in the web admin', () => {
  let t: TestContext;
  let browser: Browser;
  let baseUrl: string;
  let admin: { email: string; password: string; token: string };
  let staff: { email: string; password: string };
  let hotel: SeededHotel;

  beforeAll(async () => {
    await ensureAdminBuild({ rebuildIfStale: true });
    t = await createTestContext();
    baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const user = await createUser(t.db, { role: 'SUPER_ADMIN' });
    admin = { ...user, token: await login(t.app, user.email) };
    hotel = await seedHotel(t.app, admin.token, { code: 'FDK', name: 'Front Desk Hotel' });
    staff = await createUser(t.db, { role: 'STAFF', propertyIds: [hotel.propertyId] });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  afterEach(() => {
    expect(cspViolations.splice(0)).toEqual([]);
  });

  const roomId = async (number: string): Promise<string> => {
    const rooms = await call(t.app, 'GET', `/api/properties/${hotel.propertyId}/rooms/?search=${number}`, {
      token: admin.token,
    });
    return rooms.body.results[0].id;
  };

  async function openRooms(email: string, password: string) {
    const opened = await newPage(browser);
    await signIn(opened.page, baseUrl, email, password);
    await opened.page.goto(`${baseUrl}/admin/properties/${hotel.propertyId}`);
    await opened.page.getByRole('tab', { name: 'Rooms' }).click();
    await opened.page.getByTestId('room-row').first().waitFor();
    return opened;
  }

  it('lets staff mark rooms dirty, clean or inspected, and shows each room state', async () => {
    const { context, page } = await openRooms(staff.email, staff.password);
    const row = page.getByTestId('room-row').filter({ hasText: '101' });
    await page.getByLabel('Housekeeping of room 101').selectOption('dirty');
    await row.getByTestId('room-status').filter({ hasText: 'dirty' }).waitFor();
    await page.getByLabel('Housekeeping of room 102').selectOption('inspected');
    await page.getByText('Room 102 is inspected.').waitFor();
    await screenshot(page, 'rooms-housekeeping');
    const rooms = await call(t.app, 'GET', `/api/properties/${hotel.propertyId}/rooms/`, {
      token: admin.token,
    });
    const states = Object.fromEntries(
      rooms.body.results.map((r: { number: string; housekeeping_status: string }) => [
        r.number,
        r.housekeeping_status,
      ]),
    );
    expect(states).toMatchObject({ '101': 'dirty', '102': 'inspected', '301': 'clean' });
    // Staff see the out-of-order history, but only administrators change it.
    await page.getByRole('button', { name: 'Out of order: room 101' }).click();
    const dialog = page.getByRole('dialog', { name: 'Room 101: out of order' });
    await dialog.getByText('Never out of order.').waitFor();
    expect(await dialog.getByRole('button', { name: 'Put out of order' }).count()).toBe(0);
    await context.close();
  });

  it('puts a room out of order for some nights, counted in the calendar, and returns it to service', async () => {
    const { context, page } = await openRooms(admin.email, admin.password);
    await page.getByRole('button', { name: 'Out of order: room 301' }).click();
    const dialog = page.getByRole('dialog', { name: 'Room 301: out of order' });
    await dialog.getByLabel('Out of order from').fill(isoDay(0));
    await dialog.getByLabel('Back in service on').fill(isoDay(3));
    await dialog.getByLabel('Reason').fill('Broken window');
    await dialog.getByRole('button', { name: 'Put out of order' }).click();
    await dialog.getByTestId('out-of-order-blocks').getByText('Broken window').waitFor();
    const calendar = () =>
      call(
        t.app,
        'GET',
        `/api/inventory/calendar/?property_id=${hotel.propertyId}&room_type_id=${hotel.roomTypes.STE}&start=${isoDay(0)}&end=${isoDay(3)}`,
        { token: admin.token },
      ).then((res) => res.body.results.map((n: { out_of_order_units: number }) => n.out_of_order_units));
    expect(await calendar()).toEqual([1, 1, 1, 0]);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page
      .getByTestId('room-row')
      .filter({ hasText: '301' })
      .getByTestId('room-status')
      .filter({ hasText: 'out of order' })
      .waitFor();

    await page.getByRole('button', { name: 'Out of order: room 301' }).click();
    await dialog.getByRole('button', { name: 'Return to service' }).click();
    await page.getByText(`Room 301 is back in service from ${isoDay(0)}.`).waitFor();
    expect(await calendar()).toEqual([0, 0, 0, 0]);
    await context.close();
  });

  it('checks a guest in to a clean room, corrects the guest and extends the stay', async () => {
    const booked = await bookThroughApi(t.app, admin.token, {
      propertyId: hotel.propertyId,
      roomTypeId: hotel.roomTypes.DBL,
      ratePlanId: hotel.ratePlanId,
      checkIn: isoDay(0),
      checkOut: isoDay(2),
      lastName: 'Deskson',
    });
    const { context, page } = await newPage(browser);
    await signIn(page, baseUrl, staff.email, staff.password);
    await page.goto(`${baseUrl}/admin/reservations/${booked.id}`);
    await page.getByTestId('reservation-status').filter({ hasText: 'Confirmed' }).waitFor();

    await page.getByRole('button', { name: 'Edit guest' }).click();
    const guest = page.getByRole('dialog', { name: `Guest of ${booked.confirmation_code}` });
    await guest.getByLabel('Last name').fill('Deskington');
    await guest.getByLabel('Email').fill('not an email');
    await guest.getByRole('button', { name: 'Save guest' }).click();
    await guest.getByText('is not a valid email').waitFor();
    await guest.getByLabel('Email').fill('desk@example.test');
    await guest.getByLabel('Notes').fill('Late arrival, quiet room');
    await guest.getByRole('button', { name: 'Save guest' }).click();
    await page.getByText('desk@example.test').waitFor();
    await page.getByText('Late arrival, quiet room').waitFor();

    // 101 is dirty and 102 inspected (the first test): check-in gives the guest 102.
    await page.getByRole('button', { name: 'Check in' }).click();
    await page.getByTestId('reservation-status').filter({ hasText: 'Checked in' }).waitFor();
    const room102 = await roomId('102');
    expect(await page.getByLabel('Room for line 1').inputValue()).toBe(room102);

    await page.getByRole('button', { name: 'Extend or shorten' }).click();
    const stay = page.getByRole('dialog', { name: `Extend or shorten ${booked.confirmation_code}` });
    await stay.getByLabel('New check-out').fill(isoDay(3));
    await stay.getByRole('button', { name: 'Change check-out' }).click();
    await page.getByText(`${isoDay(0)} → ${isoDay(3)} (3 nights)`).waitFor();
    expect(await page.getByTestId('reservation-total').textContent()).toBe('360.00 EUR');
    await screenshot(page, 'reservation-stay');

    const stored = await call(t.app, 'GET', `/api/reservations/${booked.id}/`, { token: admin.token });
    expect(stored.body).toMatchObject({
      status: 'checked_in',
      check_out: isoDay(3),
      notes: 'Late arrival, quiet room',
      guest: { last_name: 'Deskington', full_name: 'Test Deskington', email: 'desk@example.test' },
      rooms: [{ room_id: room102 }],
    });
    const room = await call(t.app, 'GET', `/api/properties/${hotel.propertyId}/rooms/${room102}/`, {
      token: admin.token,
    });
    expect(room.body).toMatchObject({ occupancy: 'occupied', occupied_by: { reservation_id: booked.id } });
    await context.close();
  });
});

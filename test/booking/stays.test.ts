import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext } from '../helpers/context.ts';
import { databaseFingerprint } from '../helpers/db-fingerprint.ts';
import { userWithToken } from '../helpers/factories.ts';
import { inventoryProblems } from './invariants.ts';
import {
  auditActions,
  book,
  doubleHeldRoomNights,
  eventsSince,
  lastSeq,
  post,
  type RoomsWorld,
  roomsWorld,
} from './rooms-world.ts';
import { calendarNight, insertImportedReservation } from './world.ts';

/**
 * Stays after check-in: extended or shortened under the calendar's locks like a booking, priced
 * from the rate plan, held to the rate rules and to the assigned room; guest details corrected
 * after creation. Races run over real HTTP on a pool of 16 connections; counts are exact.
 */
const COMPETITORS = 12;

let t: TestContext;
let baseUrl: string;

beforeAll(async () => {
  t = await createTestContext({ poolSize: COMPETITORS + 4 });
  baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => t.close());

const departure = (w: RoomsWorld, id: string, checkOut: string, token = w.staff.token) =>
  call(t.app, 'POST', `/api/reservations/${id}/departure/`, { token, body: { check_out: checkOut } });

/** A guest checked in today for `nights` nights (in a room, when the world has one free). */
async function inHouse(w: RoomsWorld, nights: number) {
  const reservation = await book(t, w, 0, nights);
  const res = await post(t, w, `/api/reservations/${reservation.id}/check-in/`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

function setRates(w: RoomsWorld, from: number, to: number, fields: Record<string, unknown>) {
  return call(t.app, 'PUT', '/api/rates/daily/', {
    token: w.admin.token,
    body: {
      rate_plan_id: w.plan.id,
      room_type_id: w.roomType.id,
      start_date: w.day(from),
      end_date: w.day(to),
      ...fields,
    },
  }).then((res) => {
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });
}

describe('extending a checked-in stay', () => {
  it('takes the added nights like a booking, priced from the rate plan, audited and announced', async () => {
    const w = await roomsWorld(t, { units: 4, rooms: 2 });
    const guest = await inHouse(w, 2);
    await setRates(w, 2, 3, { amount: '150.00' });
    const seq = await lastSeq(t.db);
    const res = await departure(w, guest.id, w.day(4));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      status: 'checked_in',
      check_out: w.day(4),
      nights: 4,
      total_amount: '500.00',
    });
    expect(res.body.version).toBe(guest.version + 1);
    expect(res.body.rooms[0]).toMatchObject({ room_id: guest.rooms[0].room_id, amount: '500.00' });
    expect(res.body.rooms[0].nightly_prices).toEqual([
      { date: w.day(0), amount: '100.00' },
      { date: w.day(1), amount: '100.00' },
      { date: w.day(2), amount: '150.00' },
      { date: w.day(3), amount: '150.00' },
    ]);
    for (const offset of [2, 3])
      expect(await calendarNight(t, w, w.day(offset))).toMatchObject({ booked_units: 1 });
    expect(await calendarNight(t, w, w.day(4))).toMatchObject({ booked_units: 0 });
    const [event] = await eventsSince(t.db, w.property.id, 'pms.reservation.modified', seq);
    expect(event!.data).toMatchObject({
      change: 'extended',
      previous: { check_out: w.day(2), total_amount: '200.00' },
    });
    expect((await auditActions(t.db, guest.id)).at(-1)).toBe('reservation.extended');
    const ledger = await t.db
      .selectFrom('inventory_ledger')
      .select(['date', 'delta'])
      .where('reservation_id', '=', guest.id)
      .where('reason', '=', 'reservation.extended')
      .orderBy('date')
      .execute();
    expect(ledger).toEqual([
      { date: w.day(2), delta: 1 },
      { date: w.day(3), delta: 1 },
    ]);
    expect(await inventoryProblems(t.db, w.property.id)).toEqual([]);
    // The same departure again changes nothing.
    const before = await databaseFingerprint(t.db);
    expect((await departure(w, guest.id, w.day(4))).body.version).toBe(res.body.version);
    expect(await databaseFingerprint(t.db)).toEqual(before);
  });

  it('sells no added night at an inactive hotel, and prices a legacy room without a plan on the default one', async () => {
    const w = await roomsWorld(t, { units: 4, rooms: 2 });
    const guest = await inHouse(w, 2);
    // A room booked without a plan before plans were required (as migrated rows are).
    await t.db
      .updateTable('reservation_room')
      .set({ rate_plan_id: null })
      .where('reservation_id', '=', guest.id)
      .execute();
    await t.db
      .updateTable('property')
      .set({ default_rate_plan_id: null })
      .where('id', '=', w.property.id)
      .execute();
    const before = await databaseFingerprint(t.db);
    const unpriced = await departure(w, guest.id, w.day(3));
    expect(unpriced.status, JSON.stringify(unpriced.body)).toBe(422);
    expect(unpriced.body.code).toBe('RATE_PLAN_REQUIRED');
    expect(await databaseFingerprint(t.db)).toEqual(before);

    await t.db
      .updateTable('property')
      .set({ default_rate_plan_id: w.plan.id })
      .where('id', '=', w.property.id)
      .execute();
    await setRates(w, 2, 2, { amount: '130.00' });
    const priced = await departure(w, guest.id, w.day(3));
    expect(priced.status, JSON.stringify(priced.body)).toBe(200);
    expect(priced.body.rooms[0].nightly_prices.at(-1)).toEqual({ date: w.day(2), amount: '130.00' });

    await t.db.updateTable('property').set({ status: 'inactive' }).where('id', '=', w.property.id).execute();
    const longer = await departure(w, guest.id, w.day(4));
    expect(longer.status, JSON.stringify(longer.body)).toBe(409);
    expect(longer.body.code).toBe('PROPERTY_INACTIVE');
    // Giving nights back is no sale.
    expect((await departure(w, guest.id, w.day(2))).status).toBe(200);
    expect(await inventoryProblems(t.db, w.property.id)).toEqual([]);
  });

  it('refuses, changing nothing, a night that is sold out, a room another stay holds, or one out of order', async () => {
    const w = await roomsWorld(t, { units: 2, rooms: 2 });
    const [r101, r102] = w.rooms;
    const guest = await inHouse(w, 2);
    const room = guest.rooms[0].room_id;
    expect(room).toBe(r101!.id);
    // Sold out on day 3: both units are booked there.
    await book(t, w, 3, 4);
    await book(t, w, 3, 4);
    let before = await databaseFingerprint(t.db);
    const soldOut = await departure(w, guest.id, w.day(4));
    expect(soldOut.status).toBe(409);
    expect(soldOut.body).toMatchObject({
      code: 'INVENTORY_UNAVAILABLE',
      nights: [{ date: w.day(3), reason: 'SOLD_OUT' }],
    });
    expect(await databaseFingerprint(t.db)).toEqual(before);

    // Day 2 has a free unit, but the guest's room is held there by the next arrival.
    const next = await book(t, w, 2, 3);
    expect((await post(t, w, `/api/reservations/${next.id}/assign-room/`, { room_id: room })).status).toBe(
      200,
    );
    before = await databaseFingerprint(t.db);
    const taken = await departure(w, guest.id, w.day(3));
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('ROOM_UNAVAILABLE');
    expect(taken.body.detail).toContain(next.confirmation_code);
    expect(await databaseFingerprint(t.db)).toEqual(before);

    // Moved into r102, which goes out of order on day 2.
    expect((await post(t, w, `/api/reservations/${next.id}/assign-room/`, { room_id: null })).status).toBe(
      200,
    );
    expect(
      (await post(t, w, `/api/reservations/${guest.id}/assign-room/`, { room_id: r102!.id })).status,
    ).toBe(200);
    const block = await post(
      t,
      w,
      `/api/properties/${w.property.id}/rooms/${r102!.id}/out-of-order/`,
      { start_date: w.day(2), end_date: w.day(3) },
      w.admin.token,
    );
    expect(block.status).toBe(201);
    before = await databaseFingerprint(t.db);
    const broken = await departure(w, guest.id, w.day(3));
    expect(broken.status).toBe(409);
    expect(broken.body.code).toBe('ROOM_UNAVAILABLE');
    expect(broken.body.detail).toContain('out of order');
    expect(await databaseFingerprint(t.db)).toEqual(before);
    expect(await inventoryProblems(t.db, w.property.id)).toEqual([]);
  });

  it('answers to the rate rules of the longer stay, but not to closed-to-arrival on a day already arrived', async () => {
    const w = await roomsWorld(t, { rooms: 0 });
    const guest = await inHouse(w, 2);
    await setRates(w, 0, 0, { closed_to_arrival: true });
    await setRates(w, 3, 3, { stop_sell: true });
    const stopSell = await departure(w, guest.id, w.day(4));
    expect(stopSell.status).toBe(409);
    expect(stopSell.body.code).toBe('RESTRICTION_VIOLATED');
    expect(stopSell.body.nights).toEqual([
      expect.objectContaining({ date: w.day(3), reasons: ['STOP_SELL'] }),
    ]);
    await setRates(w, 0, 0, { max_stay: 3 });
    const tooLong = await departure(w, guest.id, w.day(4));
    expect(tooLong.body.nights.flatMap((n: { reasons: string[] }) => n.reasons)).toContain('MAX_STAY');
    await setRates(w, 3, 3, { closed_to_departure: true });
    const closed = await departure(w, guest.id, w.day(3));
    expect(closed.status).toBe(409);
    expect(closed.body.nights).toEqual([
      expect.objectContaining({ date: w.day(2), reasons: ['CLOSED_TO_DEPARTURE'] }),
    ]);
    await setRates(w, 3, 3, { closed_to_departure: false });
    const ok = await departure(w, guest.id, w.day(3));
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.nights).toBe(3);
  });

  it(`lets exactly one of an extension and ${COMPETITORS} bookings take the last unit of a night`, async () => {
    const w = await roomsWorld(t, { units: 3, rooms: 0 });
    const guest = await inHouse(w, 2);
    await book(t, w, 2, 3);
    await book(t, w, 2, 3);
    // Day 2 has one unit left: the in-house guest's extension and the bookings race for it.
    const requests = [
      () => departure(w, guest.id, w.day(3)).then((res) => ({ ...res, kind: 'extension' })),
      ...Array.from({ length: COMPETITORS }, () => async () => {
        const response = await fetch(`${baseUrl}/api/reservations/create/`, {
          method: 'POST',
          headers: { authorization: `Bearer ${w.staff.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            property_id: w.property.id,
            check_in: w.day(2),
            check_out: w.day(3),
            guest: { full_name: 'Racer' },
            rooms: [{ room_type_id: w.roomType.id, rate_plan_id: w.plan.id }],
          }),
        });
        return { status: response.status, body: (await response.json()) as any, kind: 'booking' };
      }),
    ];
    const results = await Promise.all(requests.map((run) => run()));
    const won = results.filter((r) => r.status === 200 || r.status === 201);
    expect(won).toHaveLength(1);
    for (const lost of results.filter((r) => r.status !== 200 && r.status !== 201)) {
      expect(lost.status).toBe(409);
      expect(lost.body.code).toBe('INVENTORY_UNAVAILABLE');
    }
    expect(await calendarNight(t, w, w.day(2))).toMatchObject({ booked_units: 3, available_units: 0 });
    const stored = await call(t.app, 'GET', `/api/reservations/${guest.id}/`, { token: w.staff.token });
    expect(stored.body.check_out).toBe(won[0]!.kind === 'extension' ? w.day(3) : w.day(2));
    expect(await inventoryProblems(t.db, w.property.id)).toEqual([]);
  });
});

describe('shortening a checked-in stay', () => {
  it('gives the nights back and drops their prices; not below the business date or the arrival', async () => {
    const w = await roomsWorld(t, { units: 2, rooms: 1 });
    const guest = await inHouse(w, 4);
    const seq = await lastSeq(t.db);
    const res = await departure(w, guest.id, w.day(2));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ check_out: w.day(2), nights: 2, total_amount: '200.00' });
    expect(res.body.rooms[0].nightly_prices.map((n: { date: string }) => n.date)).toEqual([
      w.day(0),
      w.day(1),
    ]);
    expect(await calendarNight(t, w, w.day(1))).toMatchObject({ booked_units: 1 });
    expect(await calendarNight(t, w, w.day(2))).toMatchObject({ booked_units: 0 });
    const [event] = await eventsSince(t.db, w.property.id, 'pms.reservation.modified', seq);
    expect(event!.data.change).toBe('shortened');
    // The room is free again on the nights given back.
    const next = await book(t, w, 2, 4);
    expect(
      (await post(t, w, `/api/reservations/${next.id}/assign-room/`, { room_id: w.rooms[0]!.id })).status,
    ).toBe(200);
    expect(await doubleHeldRoomNights(t.db, w.property.id)).toEqual([]);

    const before = await databaseFingerprint(t.db);
    const atArrival = await departure(w, guest.id, w.day(0));
    expect(atArrival.status).toBe(400);
    expect(atArrival.body.errors[0].pointer).toBe('/body/check_out');
    // The night audit moved the business date on: nights before it are over.
    await t.db
      .updateTable('property')
      .set({ business_date: w.day(2) })
      .where('id', '=', w.property.id)
      .execute();
    const snapshot = await databaseFingerprint(t.db);
    const past = await departure(w, guest.id, w.day(1));
    expect(past.status).toBe(400);
    expect(past.body.errors[0]).toMatchObject({ pointer: '/body/check_out' });
    expect(await databaseFingerprint(t.db)).toEqual(snapshot);
    expect(snapshot).not.toEqual(before);
    expect(await inventoryProblems(t.db, w.property.id)).toEqual([]);
  });

  it('is for checked-in stays of this system only', async () => {
    const w = await roomsWorld(t, { rooms: 0 });
    const confirmed = await book(t, w, 5, 7);
    const notIn = await departure(w, confirmed.id, w.day(8));
    expect(notIn.status).toBe(409);
    expect(notIn.body).toMatchObject({ code: 'INVALID_STATE_TRANSITION', current_status: 'confirmed' });
    const importedId = await insertImportedReservation(
      t.db,
      w.property.id,
      { roomTypeId: w.roomType.id, checkIn: w.day(0), checkOut: w.day(2), units: 1 },
      'EXT-STAY-1',
    );
    await t.db
      .updateTable('reservation')
      .set({ status: 'checked_in' })
      .where('id', '=', importedId)
      .execute();
    const external = await departure(w, importedId, w.day(3));
    expect(external.status).toBe(409);
    expect(external.body.code).toBe('RESERVATION_EXTERNAL');
    const outsider = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [] });
    expect((await departure(w, confirmed.id, w.day(8), outsider.token)).status).toBe(404);
  });
});

describe('guest details and notes', () => {
  const patch = (w: RoomsWorld, id: string, body: unknown, token = w.staff.token) =>
    call(t.app, 'PATCH', `/api/reservations/${id}/`, { token, body });

  it('are corrected after creation, audited and announced', async () => {
    const w = await roomsWorld(t, { rooms: 0 });
    const booked = await book(t, w, 3, 5, {
      guest: { first_name: 'Ada', last_name: 'Byron' },
      notes: 'late',
    });
    const seq = await lastSeq(t.db);
    const res = await patch(w, booked.id, {
      guest: { last_name: 'Lovelace', email: 'ada@example.test', phone: '+44 20 7946 0000' },
      notes: 'arrives by train',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.guest).toMatchObject({
      first_name: 'Ada',
      last_name: 'Lovelace',
      full_name: 'Ada Lovelace',
      email: 'ada@example.test',
      phone: '+44 20 7946 0000',
    });
    expect(res.body).toMatchObject({ notes: 'arrives by train', version: booked.version + 1 });
    const [event] = await eventsSince(t.db, w.property.id, 'pms.reservation.modified', seq);
    expect(event!.data).toMatchObject({
      change: 'details_updated',
      previous: { notes: 'late', guest: { full_name: 'Ada Byron' } },
      reservation: { guest: { full_name: 'Ada Lovelace' } },
    });
    const audit = await t.db
      .selectFrom('audit_log')
      .select(['action', 'diff'])
      .where('entity_id', '=', booked.id)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(audit.action).toBe('reservation.details_updated');
    expect(audit.diff).toMatchObject({
      last_name: ['Byron', 'Lovelace'],
      full_name: ['Ada Byron', 'Ada Lovelace'],
      notes: ['late', 'arrives by train'],
    });
    // null clears a field; fields not sent stay as they are.
    const cleared = await patch(w, booked.id, { guest: { phone: null }, notes: null });
    expect(cleared.body).toMatchObject({ notes: null, guest: { phone: null, email: 'ada@example.test' } });
  });

  it('refuse bad input and imported reservations, writing nothing', async () => {
    const w = await roomsWorld(t, { rooms: 0 });
    const booked = await book(t, w, 3, 5, { guest: { full_name: 'Grace Hopper' } });
    const importedId = await insertImportedReservation(
      t.db,
      w.property.id,
      { roomTypeId: w.roomType.id, checkIn: w.day(3), checkOut: w.day(4), units: 1 },
      'EXT-GUEST-1',
    );
    const outsider = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [] });
    const before = await databaseFingerprint(t.db);
    for (const [body, pointer] of [
      [{ guest: { email: 'not-an-email' } }, '/body/guest/email'],
      [{ guest: { full_name: null } }, '/body/guest/full_name'],
      [{ guest: {} }, '/body/guest'],
      [{}, '/body'],
      [{ notes: 'x'.repeat(2001) }, '/body/notes'],
      [{ guest: { nickname: 'Amazing Grace' } }, '/body/guest/nickname'],
    ] as const) {
      const res = await patch(w, booked.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
      expect(
        res.body.errors.some((e: { pointer: string }) => e.pointer.startsWith(pointer)),
        `${JSON.stringify(body)}: ${JSON.stringify(res.body.errors)}`,
      ).toBe(true);
    }
    const external = await patch(w, importedId, { notes: 'from the desk' });
    expect(external.status).toBe(409);
    expect(external.body.code).toBe('RESERVATION_EXTERNAL');
    expect((await patch(w, booked.id, { notes: 'peek' }, outsider.token)).status).toBe(404);
    // What is already stored changes nothing.
    expect((await patch(w, booked.id, { guest: { full_name: 'Grace Hopper' } })).body.version).toBe(
      booked.version,
    );
    expect(await databaseFingerprint(t.db)).toEqual(before);
  });
});

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext } from '../helpers/context.ts';
import { databaseFingerprint } from '../helpers/db-fingerprint.ts';
import { createRoomType, userWithToken } from '../helpers/factories.ts';
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
 * One physical room holds one stay a night, and the database says so: the exclusion constraint on
 * reservation_room refuses a second holding stay of a room on any night, whatever code writes it.
 * Races use a real pool of 30 connections over real HTTP; every count is exact.
 */
const RACERS = 30;

let t: TestContext;
let baseUrl: string;

beforeAll(async () => {
  t = await createTestContext({ poolSize: RACERS + 2 });
  baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => t.close());

const assignUrl = (id: string) => `/api/reservations/${id}/assign-room/`;

async function roomOf(w: RoomsWorld, roomId: string) {
  const res = await call(t.app, 'GET', `/api/properties/${w.property.id}/rooms/${roomId}/`, {
    token: w.staff.token,
  });
  expect(res.status).toBe(200);
  return res.body;
}

describe('the database holds one stay per room and night', () => {
  it('refuses, in SQL, a second overlapping holding stay of a room from concurrent transactions', async () => {
    const w = await roomsWorld(t, { units: RACERS + 5, rooms: 1 });
    const room = w.rooms[0]!;
    const stays = [];
    for (let i = 0; i < RACERS; i++) stays.push(await book(t, w, 10 + (i % 3), 13 + (i % 3)));
    // Every transaction assigns the same room to its own overlapping stay, straight in SQL (no service
    // check): only the constraint stands between them.
    const results = await Promise.allSettled(
      stays.map((stay) =>
        t.db
          .transaction()
          .execute((tx) =>
            sql`UPDATE reservation_room SET room_id = ${room.id} WHERE id = ${stay.rooms[0].id}`.execute(tx),
          ),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refusals = results.flatMap((r) =>
      r.status === 'rejected' ? [r.reason as { code?: string; constraint?: string }] : [],
    );
    expect(refusals).toHaveLength(RACERS - 1);
    for (const refusal of refusals) {
      expect(refusal.code).toBe('23P01');
      expect(refusal.constraint).toBe('reservation_room_one_stay_per_room_night');
    }
    expect(await doubleHeldRoomNights(t.db, w.property.id)).toEqual([]);
  });

  it('holds the room only while the stay holds it: cancelled, no-show and checked-out stays free it', async () => {
    const w = await roomsWorld(t, { rooms: 1 });
    const room = w.rooms[0]!;
    const first = await book(t, w, 20, 23);
    const second = await book(t, w, 21, 24);
    expect((await post(t, w, assignUrl(first.id), { room_id: room.id })).status).toBe(200);
    const taken = await post(t, w, assignUrl(second.id), { room_id: room.id });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('ROOM_UNAVAILABLE');
    expect(taken.body.detail).toContain(first.confirmation_code);
    expect((await post(t, w, `/api/reservations/${first.id}/cancel/`)).status).toBe(200);
    expect((await post(t, w, assignUrl(second.id), { room_id: room.id })).status).toBe(200);
    // The constraint follows the reservation's status and dates, kept by triggers.
    const row = await t.db
      .selectFrom('reservation_room')
      .select(['stay', 'holds_room'])
      .where('id', '=', first.rooms[0].id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ stay: `[${w.day(20)},${w.day(23)})`, holds_room: false });
    const held = await t.db
      .selectFrom('reservation_room')
      .select(['stay', 'holds_room'])
      .where('id', '=', second.rooms[0].id)
      .executeTakeFirstOrThrow();
    expect(held).toEqual({ stay: `[${w.day(21)},${w.day(24)})`, holds_room: true });
  });

  it(`lets exactly one of ${RACERS} concurrent assignments of a room to overlapping stays through, over HTTP`, async () => {
    const w = await roomsWorld(t, { units: RACERS + 5, rooms: 1 });
    const room = w.rooms[0]!;
    const stays = [];
    for (let i = 0; i < RACERS; i++) stays.push(await book(t, w, 30 + (i % 3), 33 + (i % 3)));
    const responses = await Promise.all(
      stays.map(async (stay) => {
        const response = await fetch(`${baseUrl}${assignUrl(stay.id)}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${w.staff.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ room_id: room.id }),
        });
        return { status: response.status, body: (await response.json()) as { code?: string } };
      }),
    );
    const won = responses.filter((r) => r.status === 200);
    const lost = responses.filter((r) => r.status !== 200);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(RACERS - 1);
    for (const refusal of lost) {
      expect(refusal.status).toBe(409);
      expect(refusal.body.code).toBe('ROOM_UNAVAILABLE');
    }
    const holding = await t.db
      .selectFrom('reservation_room')
      .select('reservation_id')
      .where('room_id', '=', room.id)
      .where('holds_room', '=', true)
      .execute();
    expect(holding).toHaveLength(1);
    expect(await doubleHeldRoomNights(t.db, w.property.id)).toEqual([]);
  });
});

describe('date changes re-check the room (modify)', () => {
  it('keeps a room that still fits and unassigns one that another stay holds on a new night', async () => {
    const w = await roomsWorld(t, { rooms: 2 });
    const [r101, r102] = w.rooms;
    const mine = await book(t, w, 40, 42);
    const neighbour = await book(t, w, 43, 45);
    expect((await post(t, w, assignUrl(mine.id), { room_id: r101!.id })).status).toBe(200);
    expect((await post(t, w, assignUrl(neighbour.id), { room_id: r101!.id })).status).toBe(200);

    const fits = await post(t, w, `/api/reservations/${mine.id}/modify/`, { check_out: w.day(43) });
    expect(fits.status).toBe(200);
    expect(fits.body.rooms[0].room_id).toBe(r101!.id);

    const seq = await lastSeq(t.db);
    const clashes = await post(t, w, `/api/reservations/${mine.id}/modify/`, { check_out: w.day(44) });
    expect(clashes.status).toBe(200);
    expect(clashes.body.check_out).toBe(w.day(44));
    expect(clashes.body.rooms[0].room_id).toBeNull();
    const [event] = await eventsSince(t.db, w.property.id, 'pms.reservation.modified', seq);
    expect(event!.data.previous.rooms[0].room_id).toBe(r101!.id);
    expect(event!.data.reservation.rooms[0].room_id).toBeNull();
    expect(await doubleHeldRoomNights(t.db, w.property.id)).toEqual([]);
    // Another free room can be assigned for the new dates.
    expect((await post(t, w, assignUrl(mine.id), { room_id: r102!.id })).status).toBe(200);
  });
});

describe('check-in', () => {
  it('gives a room without one a clean, vacant, free room of its type, inspected first', async () => {
    const w = await roomsWorld(t, { rooms: 4 });
    const [r101, r102, r103, r104] = w.rooms;
    const hk = (roomId: string, status: string) =>
      post(t, w, `/api/properties/${w.property.id}/rooms/${roomId}/housekeeping/`, {
        housekeeping_status: status,
      });
    expect((await hk(r101!.id, 'dirty')).status).toBe(200);
    expect((await hk(r103!.id, 'inspected')).status).toBe(200);
    // r103 is inspected but held by a future stay that overlaps; r104 is out of order tomorrow.
    const future = await book(t, w, 1, 3);
    expect((await post(t, w, assignUrl(future.id), { room_id: r103!.id })).status).toBe(200);
    const ooo = await post(
      t,
      w,
      `/api/properties/${w.property.id}/rooms/${r104!.id}/out-of-order/`,
      { start_date: w.day(1), end_date: w.day(2) },
      w.admin.token,
    );
    expect(ooo.status).toBe(201);

    const guest = await book(t, w, 0, 2);
    const seq = await lastSeq(t.db);
    const checkedIn = await post(t, w, `/api/reservations/${guest.id}/check-in/`);
    expect(checkedIn.status, JSON.stringify(checkedIn.body)).toBe(200);
    expect(checkedIn.body.status).toBe('checked_in');
    expect(checkedIn.body.rooms[0].room_id).toBe(r102!.id);
    const room = await roomOf(w, r102!.id);
    expect(room).toMatchObject({
      occupancy: 'occupied',
      status: 'occupied',
      occupied_by: { reservation_id: guest.id, confirmation_code: guest.confirmation_code },
    });
    const [roomEvent] = await eventsSince(t.db, w.property.id, 'pms.room.updated', seq);
    expect(roomEvent!.data).toMatchObject({
      change: 'checked_in',
      room: { id: r102!.id, occupancy: 'occupied' },
    });
    expect(await auditActions(t.db, guest.id)).toEqual(['reservation.created', 'reservation.checked_in']);

    // The next arrival gets no room: r101 is dirty, r102 occupied, r103 held, r104 out of order.
    const next = await book(t, w, 0, 2);
    const before = await databaseFingerprint(t.db);
    const refused = await post(t, w, `/api/reservations/${next.id}/check-in/`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('ROOM_UNAVAILABLE');
    expect(refused.body.detail).toMatch(/assign-room|"assign": "none"/);
    expect(await databaseFingerprint(t.db)).toEqual(before);
    // The desk can still check the guest in without a room, on purpose.
    const withoutRoom = await post(t, w, `/api/reservations/${next.id}/check-in/`, { assign: 'none' });
    expect(withoutRoom.status).toBe(200);
    expect(withoutRoom.body.rooms[0].room_id).toBeNull();
    // For a one-night stay r101 (clean again), r103 (inspected, its stay starts tomorrow) and r104 (clean,
    // out of order from tomorrow) are free: inspected goes first, whatever the room number.
    const third = await book(t, w, 0, 1);
    await hk(r101!.id, 'clean');
    const picked = await post(t, w, `/api/reservations/${third.id}/check-in/`);
    expect(picked.body.rooms[0].room_id).toBe(r103!.id);
  });

  it('checks a room type without rooms in without one, and refuses a body that is not an object', async () => {
    const w = await roomsWorld(t, { rooms: 0 });
    const guest = await book(t, w, 0, 1);
    const bad = await call(t.app, 'POST', `/api/reservations/${guest.id}/check-in/`, {
      token: w.staff.token,
      body: { assign: 'sometimes' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_ERROR');
    const res = await post(t, w, `/api/reservations/${guest.id}/check-in/`);
    expect(res.status).toBe(200);
    expect(res.body.rooms[0].room_id).toBeNull();
  });

  it('leaves the room vacant and dirty at check-out, and a room move leaves the old room dirty', async () => {
    const w = await roomsWorld(t, { rooms: 2 });
    const [r101, r102] = w.rooms;
    const guest = await book(t, w, 0, 3);
    expect((await post(t, w, assignUrl(guest.id), { room_id: r101!.id })).status).toBe(200);
    expect((await post(t, w, `/api/reservations/${guest.id}/check-in/`)).body.rooms[0].room_id).toBe(
      r101!.id,
    );
    const moved = await post(t, w, assignUrl(guest.id), { room_id: r102!.id });
    expect(moved.status).toBe(200);
    expect(await roomOf(w, r101!.id)).toMatchObject({
      occupancy: 'vacant',
      housekeeping_status: 'dirty',
      status: 'dirty',
    });
    expect(await roomOf(w, r102!.id)).toMatchObject({ occupancy: 'occupied', housekeeping_status: 'clean' });

    const seq = await lastSeq(t.db);
    expect((await post(t, w, `/api/reservations/${guest.id}/check-out/`)).status).toBe(200);
    expect(await roomOf(w, r102!.id)).toMatchObject({
      occupancy: 'vacant',
      housekeeping_status: 'dirty',
      occupied_by: null,
      status: 'dirty',
    });
    const [event] = await eventsSince(t.db, w.property.id, 'pms.room.updated', seq);
    expect(event!.data).toMatchObject({
      change: 'checked_out',
      room: { id: r102!.id, housekeeping_status: 'dirty' },
    });
    // Checked out, the stay no longer holds the room: another stay may have it on those nights.
    const next = await book(t, w, 1, 2);
    expect((await post(t, w, assignUrl(next.id), { room_id: r102!.id })).status).toBe(200);
  });
});

describe('housekeeping', () => {
  it('lets staff of the property set clean, dirty or inspected, audited and announced', async () => {
    const w = await roomsWorld(t, { rooms: 1 });
    const room = w.rooms[0]!;
    const url = `/api/properties/${w.property.id}/rooms/${room.id}/housekeeping/`;
    const seq = await lastSeq(t.db);
    for (const status of ['dirty', 'clean', 'inspected']) {
      const res = await post(t, w, url, { housekeeping_status: status });
      expect(res.status).toBe(200);
      expect(res.body.housekeeping_status).toBe(status);
    }
    const events = await eventsSince(t.db, w.property.id, 'pms.room.updated', seq);
    expect(events.map((e) => e.data.room.housekeeping_status)).toEqual(['dirty', 'clean', 'inspected']);
    expect(events[0]!.data).toMatchObject({
      change: 'housekeeping',
      previous: { housekeeping_status: 'clean' },
    });
    expect(await auditActions(t.db, room.id)).toEqual([
      'room.housekeeping',
      'room.housekeeping',
      'room.housekeeping',
    ]);
    // The same status again writes nothing.
    const outsider = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [] });
    const before = await databaseFingerprint(t.db);
    expect((await post(t, w, url, { housekeeping_status: 'inspected' })).status).toBe(200);
    expect(await databaseFingerprint(t.db)).toEqual(before);
    // Filters and the legacy single status.
    const list = await call(
      t.app,
      'GET',
      `/api/properties/${w.property.id}/rooms/?housekeeping_status=inspected`,
      {
        token: w.staff.token,
      },
    );
    expect(list.body.results.map((r: { id: string }) => r.id)).toEqual([room.id]);
    expect(list.body.results[0].status).toBe('available');

    const hidden = await call(t.app, 'POST', url, {
      token: outsider.token,
      body: { housekeeping_status: 'dirty' },
    });
    expect(hidden.status).toBe(404);
    const bad = await post(t, w, url, { housekeeping_status: 'occupied' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].pointer).toContain('/body/housekeeping_status');
    expect(await databaseFingerprint(t.db)).toEqual(before);
  });

  it('keeps the legacy status writable for what it still means, and refuses the rest', async () => {
    const w = await roomsWorld(t, { rooms: 1 });
    const url = `/api/properties/${w.property.id}/rooms/${w.rooms[0]!.id}/`;
    const dirty = await call(t.app, 'PATCH', url, { token: w.admin.token, body: { status: 'dirty' } });
    expect(dirty.body).toMatchObject({ status: 'dirty', housekeeping_status: 'dirty' });
    for (const status of ['occupied', 'out_of_order']) {
      const refused = await call(t.app, 'PATCH', url, { token: w.admin.token, body: { status } });
      expect(refused.status).toBe(400);
    }
    const disagree = await call(t.app, 'PATCH', url, {
      token: w.admin.token,
      body: { status: 'available', housekeeping_status: 'dirty' },
    });
    expect(disagree.status).toBe(400);
    expect(disagree.body.errors[0].pointer).toBe('/body/status');
  });
});

describe('out-of-order rooms', () => {
  const blockUrl = (w: RoomsWorld, roomId: string) =>
    `/api/properties/${w.property.id}/rooms/${roomId}/out-of-order/`;

  it('counts in out_of_order_units of its nights, with ledger rows, and gives them back on return', async () => {
    const w = await roomsWorld(t, { units: 3, rooms: 2 });
    const room = w.rooms[0]!;
    const created = await post(
      t,
      w,
      blockUrl(w, room.id),
      { start_date: w.day(0), end_date: w.day(5), reason: 'leak' },
      w.admin.token,
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      start_date: w.day(0),
      end_date: w.day(5),
      reason: 'leak',
      returned_at: null,
    });
    for (const offset of [0, 4]) {
      expect(await calendarNight(t, w, w.day(offset))).toMatchObject({
        out_of_order_units: 1,
        available_units: 2,
      });
    }
    expect(await calendarNight(t, w, w.day(5))).toMatchObject({ out_of_order_units: 0 });
    expect(await roomOf(w, room.id)).toMatchObject({
      status: 'out_of_order',
      out_of_order: { id: created.body.id },
    });
    const listed = await call(t.app, 'GET', blockUrl(w, room.id), { token: w.staff.token });
    expect(listed.body.results.map((b: { id: string }) => b.id)).toEqual([created.body.id]);

    // Not assignable on those nights.
    const guest = await book(t, w, 3, 6);
    const refused = await post(t, w, assignUrl(guest.id), { room_id: room.id });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('ROOM_UNAVAILABLE');
    expect(refused.body.detail).toContain('out of order');

    // An adjustment may not count fewer out-of-order units than rooms out of order.
    const lowered = await post(
      t,
      w,
      '/api/inventory/adjust/',
      { room_type_id: w.roomType.id, start_date: w.day(1), end_date: w.day(1), out_of_order_units: 0 },
      w.admin.token,
    );
    expect(lowered.status).toBe(409);
    expect(lowered.body.code).toBe('INVENTORY_CONFLICT');

    const returned = await post(
      t,
      w,
      `${blockUrl(w, room.id)}${created.body.id}/return/`,
      { from_date: w.day(2) },
      w.admin.token,
    );
    expect(returned.status).toBe(200);
    expect(returned.body.end_date).toBe(w.day(2));
    expect(await calendarNight(t, w, w.day(1))).toMatchObject({ out_of_order_units: 1 });
    expect(await calendarNight(t, w, w.day(2))).toMatchObject({ out_of_order_units: 0 });
    expect((await post(t, w, assignUrl(guest.id), { room_id: room.id })).status).toBe(200);
    // Returning it from a night it no longer covers gives nothing back and writes nothing.
    const returnUrl = `${blockUrl(w, room.id)}${created.body.id}/return/`;
    const before = await databaseFingerprint(t.db);
    const again = await post(t, w, returnUrl, { from_date: w.day(3) }, w.admin.token);
    expect(again.status).toBe(200);
    expect(again.body.end_date).toBe(w.day(2));
    expect(await databaseFingerprint(t.db)).toEqual(before);
    // Without a body, the room is back in service from the business date on.
    const now = await post(t, w, returnUrl, undefined, w.admin.token);
    expect(now.body.end_date).toBe(w.day(0));
    expect(await calendarNight(t, w, w.day(0))).toMatchObject({ out_of_order_units: 0 });
    expect(await roomOf(w, room.id)).toMatchObject({ out_of_order: null, status: 'available' });
    expect(await inventoryProblems(t.db, w.property.id)).toEqual([]);
    const reasons = await t.db
      .selectFrom('inventory_ledger')
      .select(['reason', 'delta'])
      .where('room_type_id', '=', w.roomType.id)
      .where('field', '=', 'out_of_order_units')
      .orderBy('id')
      .execute();
    expect(reasons.filter((r) => r.reason === 'room.out_of_order')).toHaveLength(5);
    expect(reasons.filter((r) => r.reason === 'room.returned_to_service').map((r) => r.delta)).toEqual([
      -1, -1, -1, -1, -1,
    ]);
    expect(await auditActions(t.db, room.id)).toEqual([
      'room.out_of_order',
      'room.returned_to_service',
      'room.returned_to_service',
    ]);
  });

  it('refuses (writing nothing) to oversell booked nights, to block a room a stay holds, or to overlap a block', async () => {
    const w = await roomsWorld(t, { units: 2, rooms: 2 });
    const [r101, r102] = w.rooms;
    await book(t, w, 10, 12);
    await book(t, w, 11, 12);
    const before = await databaseFingerprint(t.db);
    const oversold = await post(
      t,
      w,
      blockUrl(w, r101!.id),
      { start_date: w.day(9), end_date: w.day(13) },
      w.admin.token,
    );
    expect(oversold.status).toBe(409);
    expect(oversold.body).toMatchObject({ code: 'INVENTORY_CONFLICT', date: w.day(11) });
    expect(await databaseFingerprint(t.db)).toEqual(before);

    const held = await book(t, w, 20, 22);
    expect((await post(t, w, assignUrl(held.id), { room_id: r102!.id })).status).toBe(200);
    const snapshot = await databaseFingerprint(t.db);
    const assigned = await post(
      t,
      w,
      blockUrl(w, r102!.id),
      { start_date: w.day(21), end_date: w.day(25) },
      w.admin.token,
    );
    expect(assigned.status).toBe(409);
    expect(assigned.body.code).toBe('ROOM_UNAVAILABLE');
    expect(assigned.body.detail).toContain(held.confirmation_code);

    expect(
      (await post(t, w, blockUrl(w, r101!.id), { start_date: w.day(30), end_date: w.day(33) }, w.admin.token))
        .status,
    ).toBe(201);
    const otherType = await createRoomType(t.db, w.property.id);
    const mid = await databaseFingerprint(t.db);
    const overlap = await post(
      t,
      w,
      blockUrl(w, r101!.id),
      { start_date: w.day(32), end_date: w.day(35) },
      w.admin.token,
    );
    expect(overlap.status).toBe(409);
    expect(overlap.body.code).toBe('ROOM_UNAVAILABLE');
    expect(await databaseFingerprint(t.db)).toEqual(mid);
    expect(snapshot).not.toEqual(mid);

    for (const [body, pointer] of [
      [{ start_date: w.day(-1), end_date: w.day(2) }, '/body/start_date'],
      [{ start_date: w.day(5), end_date: w.day(5) }, '/body/end_date'],
      [{ start_date: w.day(5), end_date: w.day(5000) }, '/body/end_date'],
    ] as const) {
      const bad = await post(t, w, blockUrl(w, r101!.id), body, w.admin.token);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.errors[0].pointer).toBe(pointer);
    }
    const staff = await post(t, w, blockUrl(w, r101!.id), { start_date: w.day(40), end_date: w.day(41) });
    expect(staff.status).toBe(403);
    // A room with nights out of order ahead can be neither deleted nor moved to another room type.
    const moved = await call(t.app, 'PATCH', `/api/properties/${w.property.id}/rooms/${r101!.id}/`, {
      token: w.admin.token,
      body: { room_type_id: otherType.id },
    });
    expect(moved.status).toBe(409);
    const deleted = await call(t.app, 'DELETE', `/api/properties/${w.property.id}/rooms/${r101!.id}/`, {
      token: w.admin.token,
    });
    expect(deleted.status).toBe(409);
    expect(await databaseFingerprint(t.db)).toEqual(mid);
    expect(await inventoryProblems(t.db, w.property.id)).toEqual([]);
  });
});

describe('imported bookings', () => {
  it('keep the PMS booking and drop a room another stay holds, instead of failing the import', async () => {
    const w = await roomsWorld(t, { rooms: 1 });
    const room = w.rooms[0]!;
    const direct = await book(t, w, 50, 53);
    expect((await post(t, w, assignUrl(direct.id), { room_id: room.id })).status).toBe(200);
    const importedId = await insertImportedReservation(
      t.db,
      w.property.id,
      { roomTypeId: w.roomType.id, checkIn: w.day(52), checkOut: w.day(54), units: 1 },
      'EXT-ROOM-1',
    );
    await t.db
      .updateTable('reservation_room')
      .set({ room_id: room.id })
      .where('reservation_id', '=', importedId)
      .execute();
    const imported = await t.db
      .selectFrom('reservation_room')
      .select(['room_id', 'holds_room'])
      .where('reservation_id', '=', importedId)
      .executeTakeFirstOrThrow();
    expect(imported).toEqual({ room_id: null, holds_room: false });
    // Where it fits, the imported room stays.
    await t.db
      .updateTable('reservation')
      .set({ check_in: w.day(53), check_out: w.day(55) })
      .where('id', '=', importedId)
      .execute();
    await t.db
      .updateTable('reservation_room')
      .set({ room_id: room.id })
      .where('reservation_id', '=', importedId)
      .execute();
    const fits = await t.db
      .selectFrom('reservation_room')
      .select(['room_id', 'holds_room'])
      .where('reservation_id', '=', importedId)
      .executeTakeFirstOrThrow();
    expect(fits).toEqual({ room_id: room.id, holds_room: true });
    // A later PMS date change onto the direct stay's nights drops the imported room, not the import.
    await t.db
      .updateTable('reservation')
      .set({ check_in: w.day(52) })
      .where('id', '=', importedId)
      .execute();
    const dropped = await t.db
      .selectFrom('reservation_room')
      .select('room_id')
      .where('reservation_id', '=', importedId)
      .executeTakeFirstOrThrow();
    expect(dropped.room_id).toBeNull();
    expect(await doubleHeldRoomNights(t.db, w.property.id)).toEqual([]);
  });
});

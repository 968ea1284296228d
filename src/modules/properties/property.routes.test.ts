import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import {
  createProperty,
  createRoom,
  createRoomType,
  unique,
  userWithToken,
} from '../../../test/helpers/factories.ts';
import type { Db } from '../../db/database.ts';

let t: TestContext;
let superToken: string;
let superId: string;

beforeAll(async () => {
  t = await createTestContext();
  const admin = await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' });
  superToken = admin.token;
  superId = admin.id;
});
afterAll(() => t.close());

const day = (offset: number) => DateTime.utc().plus({ days: offset }).toISODate()!;

async function insertReservation(
  db: Db,
  propertyId: string,
  roomTypeId: string,
  roomId: string | null = null,
) {
  const reservation = await db
    .insertInto('reservation')
    .values({
      property_id: propertyId,
      confirmation_code: unique('C'),
      status: 'confirmed',
      check_in: day(1),
      check_out: day(2),
      total_amount: '100.00',
      currency: 'EUR',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('reservation_room')
    .values({
      reservation_id: reservation.id,
      property_id: propertyId,
      room_type_id: roomTypeId,
      room_id: roomId,
      nightly_prices: JSON.stringify([{ date: day(1), amount: '100.00' }]),
      amount: '100.00',
    })
    .execute();
  return reservation.id;
}

async function auditActions(entityId: string): Promise<string[]> {
  const rows = await t.db
    .selectFrom('audit_log')
    .select('action')
    .where('entity_id', '=', entityId)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.action);
}

describe('properties', () => {
  it('creates, reads, updates and deletes a property, auditing each change', async () => {
    const code = unique('HTL');
    const created = await call(t.app, 'POST', '/api/properties/', {
      token: superToken,
      body: {
        code,
        name: 'Grand Hotel',
        timezone: 'Europe/Berlin',
        currency: 'EUR',
        address: { line1: 'Unter den Linden 1', city: 'Berlin', country: 'DE' },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      code,
      name: 'Grand Hotel',
      timezone: 'Europe/Berlin',
      currency: 'EUR',
      status: 'active',
      address: { line1: 'Unter den Linden 1', city: 'Berlin', country: 'DE' },
    });
    const id = created.body.id;

    const fetched = await call(t.app, 'GET', `/api/properties/${id}/`, { token: superToken });
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(created.body);

    const partial = await call(t.app, 'PATCH', `/api/properties/${id}/`, {
      token: superToken,
      body: { currency: 'CHF' },
    });
    expect(partial.status).toBe(200);
    expect(partial.body).toMatchObject({
      currency: 'CHF',
      address: created.body.address,
      name: 'Grand Hotel',
    });

    const patched = await call(t.app, 'PATCH', `/api/properties/${id}/`, {
      token: superToken,
      body: { name: 'Grand Hotel Berlin', status: 'inactive', address: null },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Grand Hotel Berlin',
      status: 'inactive',
      address: null,
      code,
    });

    const deleted = await call(t.app, 'DELETE', `/api/properties/${id}/`, { token: superToken });
    expect(deleted.status).toBe(204);
    expect((await call(t.app, 'GET', `/api/properties/${id}/`, { token: superToken })).status).toBe(404);

    expect(await auditActions(id)).toEqual([
      'property.created',
      'property.updated',
      'property.updated',
      'property.deleted',
    ]);
    const update = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('entity_id', '=', id)
      .where('action', '=', 'property.updated')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(update.actor_id).toBe(superId);
    expect(update.diff).toMatchObject({
      name: ['Grand Hotel', 'Grand Hotel Berlin'],
      status: ['active', 'inactive'],
    });
  });

  it('applies the defaults of the data model', async () => {
    const res = await call(t.app, 'POST', '/api/properties/', {
      token: superToken,
      body: { code: unique('D'), name: 'Defaults' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ timezone: 'UTC', currency: 'EUR', status: 'active', address: null });
  });

  it('refuses a duplicate code with 409 CONFLICT naming the code, on create and on update', async () => {
    const existing = await createProperty(t.db);
    const dup = await call(t.app, 'POST', '/api/properties/', {
      token: superToken,
      body: { code: existing.code, name: 'Copy' },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('CONFLICT');
    expect(dup.body.detail).toContain(existing.code);

    const other = await createProperty(t.db);
    const clash = await call(t.app, 'PATCH', `/api/properties/${other.id}/`, {
      token: superToken,
      body: { code: existing.code },
    });
    expect(clash.status).toBe(409);
    expect(clash.body.detail).toContain(existing.code);
    expect((await call(t.app, 'GET', `/api/properties/${other.id}/`, { token: superToken })).body.code).toBe(
      other.code,
    );
  });

  it('lets exactly one of many concurrent creations with one code through', async () => {
    const code = unique('RACE');
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        call(t.app, 'POST', '/api/properties/', { token: superToken, body: { code, name: 'Race' } }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409 && r.body.code === 'CONFLICT')).toHaveLength(7);
    const rows = await t.db.selectFrom('property').select('id').where('code', '=', code).execute();
    expect(rows).toHaveLength(1);
  });

  it('refuses an unknown time zone with 400 VALIDATION_ERROR', async () => {
    const res = await call(t.app, 'POST', '/api/properties/', {
      token: superToken,
      body: { code: unique('TZ'), name: 'Nowhere', timezone: 'Mars/Olympus_Mons' },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(res.body.errors).toEqual([{ pointer: '/body/timezone', message: 'is not an IANA time zone' }]);
  });

  it('pages through the list with a cursor and filters by search and status', async () => {
    const tag = unique('pg').toUpperCase();
    for (let i = 0; i < 5; i++) {
      await createProperty(t.db, {
        code: `${tag}-${i}`,
        name: `Page ${i}`,
        status: i === 4 ? 'inactive' : 'active',
      });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `search=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await call(t.app, 'GET', `/api/properties/?${query}`, { token: superToken });
      expect(page.status).toBe(200);
      expect(page.body.results.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.results.map((p: { code: string }) => p.code));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `${tag}-${i}`));

    const inactive = await call(t.app, 'GET', `/api/properties/?search=${tag}&status=inactive`, {
      token: superToken,
    });
    expect(inactive.body.results.map((p: { code: string }) => p.code)).toEqual([`${tag}-4`]);
  });

  it('answers a forged cursor with 400, not 500', async () => {
    for (const cursor of ['garbage', Buffer.from('["A","not-a-uuid"]').toString('base64url')]) {
      const res = await call(t.app, 'GET', `/api/properties/?cursor=${cursor}`, { token: superToken });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
    }
  });

  it('shows a scoped user only its own properties, and 404 for the others', async () => {
    const mine = await createProperty(t.db);
    const theirs = await createProperty(t.db);
    const staff = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [mine.id] });
    const list = await call(t.app, 'GET', '/api/properties/?limit=500', { token: staff.token });
    expect(list.body.results.map((p: { id: string }) => p.id)).toEqual([mine.id]);
    const other = await call(t.app, 'GET', `/api/properties/${theirs.id}/`, { token: staff.token });
    expect(other.status).toBe(404);
    expect(other.body.code).toBe('NOT_FOUND');
    const missing = await call(t.app, 'GET', `/api/properties/${crypto.randomUUID()}/`, {
      token: staff.token,
    });
    expect(missing.body.detail.replace(/[0-9a-f-]{36}/, 'ID')).toBe(
      other.body.detail.replace(/[0-9a-f-]{36}/, 'ID'),
    );
  });

  it('refuses to delete a property with reservations (409 RESOURCE_IN_USE) and changes nothing', async () => {
    const property = await createProperty(t.db);
    const roomType = await createRoomType(t.db, property.id);
    await insertReservation(t.db, property.id, roomType.id);
    const res = await call(t.app, 'DELETE', `/api/properties/${property.id}/`, { token: superToken });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('RESOURCE_IN_USE');
    expect(res.body.detail).toContain('1 reservation');
    expect(res.body.detail).toContain(property.code);
    expect((await call(t.app, 'GET', `/api/properties/${property.id}/`, { token: superToken })).status).toBe(
      200,
    );
    expect(await auditActions(property.id)).toEqual([]);
  });

  it('deletes a property without reservations together with its room types, rooms and calendar', async () => {
    const property = await createProperty(t.db);
    const roomType = await createRoomType(t.db, property.id);
    await createRoom(t.db, property.id, roomType.id);
    await t.db
      .insertInto('inventory_calendar')
      .values({ property_id: property.id, room_type_id: roomType.id, date: day(3), total_units: 10 })
      .execute();
    const res = await call(t.app, 'DELETE', `/api/properties/${property.id}/`, { token: superToken });
    expect(res.status).toBe(204);
    for (const table of ['room', 'room_type', 'inventory_calendar'] as const) {
      const left = await t.db
        .selectFrom(table)
        .select('property_id')
        .where('property_id', '=', property.id)
        .execute();
      expect(left, table).toHaveLength(0);
    }
  });

  it('names what still refers to a property when another table blocks its delete', async () => {
    const property = await createProperty(t.db);
    await t.db
      .insertInto('rate_plan')
      .values({ property_id: property.id, code: 'BAR', name: 'Best available', currency: 'EUR' })
      .execute();
    const res = await call(t.app, 'DELETE', `/api/properties/${property.id}/`, { token: superToken });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('RESOURCE_IN_USE');
    expect(res.body.detail).toContain('rate plan');
  });
});

describe('room types', () => {
  it('creates, lists, reads, updates and deletes a room type', async () => {
    const property = await createProperty(t.db);
    const base = `/api/properties/${property.id}/room-types/`;
    const created = await call(t.app, 'POST', base, {
      token: superToken,
      body: { code: 'DBL', name: 'Double', description: 'Two beds', total_units: 12, max_occupancy: 2 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      property_id: property.id,
      code: 'DBL',
      name: 'Double',
      description: 'Two beds',
      total_units: 12,
      max_occupancy: 2,
    });
    const url = `${base}${created.body.id}/`;
    expect((await call(t.app, 'GET', url, { token: superToken })).body).toEqual(created.body);
    const list = await call(t.app, 'GET', base, { token: superToken });
    expect(list.body).toEqual({ results: [created.body], next_cursor: null });

    const patched = await call(t.app, 'PATCH', url, {
      token: superToken,
      body: { name: 'Double Room', description: null },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Double Room', description: null, total_units: 12 });

    expect((await call(t.app, 'DELETE', url, { token: superToken })).status).toBe(204);
    expect((await call(t.app, 'GET', url, { token: superToken })).status).toBe(404);
    expect(await auditActions(created.body.id)).toEqual([
      'room_type.created',
      'room_type.updated',
      'room_type.deleted',
    ]);
  });

  it('answers 404 for a room type of another property under this property', async () => {
    const a = await createProperty(t.db);
    const b = await createProperty(t.db);
    const roomTypeOfB = await createRoomType(t.db, b.id);
    const url = `/api/properties/${a.id}/room-types/${roomTypeOfB.id}/`;
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await call(t.app, method, url, {
        token: superToken,
        ...(method === 'PATCH' && { body: { name: 'x' } }),
      });
      expect(res.status, method).toBe(404);
    }
    const still = await t.db
      .selectFrom('room_type')
      .select('name')
      .where('id', '=', roomTypeOfB.id)
      .executeTakeFirst();
    expect(still?.name).toBe(roomTypeOfB.name);
  });

  it('answers 404 for the room types of a property that does not exist', async () => {
    const res = await call(t.app, 'GET', `/api/properties/${crypto.randomUUID()}/room-types/`, {
      token: superToken,
    });
    expect(res.status).toBe(404);
    const create = await call(t.app, 'POST', `/api/properties/${crypto.randomUUID()}/room-types/`, {
      token: superToken,
      body: { code: 'X', name: 'X', total_units: 1 },
    });
    expect(create.status).toBe(404);
  });

  it('refuses a duplicate code within a property but allows it in another', async () => {
    const a = await createProperty(t.db);
    const b = await createProperty(t.db);
    await createRoomType(t.db, a.id, { code: 'STD' });
    const dup = await call(t.app, 'POST', `/api/properties/${a.id}/room-types/`, {
      token: superToken,
      body: { code: 'STD', name: 'Standard', total_units: 1 },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('CONFLICT');
    expect(dup.body.detail).toContain('"STD"');
    const elsewhere = await call(t.app, 'POST', `/api/properties/${b.id}/room-types/`, {
      token: superToken,
      body: { code: 'STD', name: 'Standard', total_units: 1 },
    });
    expect(elsewhere.status).toBe(201);
  });

  it('refuses to delete a room type that has rooms or reservations, with 409 RESOURCE_IN_USE', async () => {
    const property = await createProperty(t.db);
    const withRooms = await createRoomType(t.db, property.id);
    await createRoom(t.db, property.id, withRooms.id);
    const rooms = await call(t.app, 'DELETE', `/api/properties/${property.id}/room-types/${withRooms.id}/`, {
      token: superToken,
    });
    expect(rooms.status).toBe(409);
    expect(rooms.body.code).toBe('RESOURCE_IN_USE');
    expect(rooms.body.detail).toContain('1 room(s)');

    const withStays = await createRoomType(t.db, property.id);
    await insertReservation(t.db, property.id, withStays.id);
    const stays = await call(t.app, 'DELETE', `/api/properties/${property.id}/room-types/${withStays.id}/`, {
      token: superToken,
    });
    expect(stays.status).toBe(409);
    expect(stays.body.code).toBe('RESOURCE_IN_USE');
    expect(stays.body.detail).toContain('1 reservation(s)');
    const left = await t.db
      .selectFrom('room_type')
      .select('id')
      .where('id', 'in', [withRooms.id, withStays.id])
      .execute();
    expect(left).toHaveLength(2);
  });

  it('pages room types by code', async () => {
    const property = await createProperty(t.db);
    for (const code of ['C', 'A', 'B']) await createRoomType(t.db, property.id, { code });
    const first = await call(t.app, 'GET', `/api/properties/${property.id}/room-types/?limit=2`, {
      token: superToken,
    });
    expect(first.body.results.map((r: { code: string }) => r.code)).toEqual(['A', 'B']);
    const second = await call(
      t.app,
      'GET',
      `/api/properties/${property.id}/room-types/?limit=2&cursor=${first.body.next_cursor}`,
      { token: superToken },
    );
    expect(second.body.results.map((r: { code: string }) => r.code)).toEqual(['C']);
    expect(second.body.next_cursor).toBeNull();
  });
});

describe('room type capacity', () => {
  async function calendar(roomTypeId: string) {
    return t.db
      .selectFrom('inventory_calendar')
      .select(['date', 'total_units', 'booked_units'])
      .where('room_type_id', '=', roomTypeId)
      .orderBy('date')
      .execute();
  }

  async function setup(
    nights: Array<{ offset: number; booked?: number; held?: number; ooo?: number; limit?: number }>,
  ) {
    const property = await createProperty(t.db, { timezone: 'UTC' });
    const roomType = await createRoomType(t.db, property.id, { total_units: 10 });
    await t.db
      .insertInto('inventory_calendar')
      .values(
        nights.map((n) => ({
          property_id: property.id,
          room_type_id: roomType.id,
          date: day(n.offset),
          total_units: 10,
          booked_units: n.booked ?? 0,
          held_units: n.held ?? 0,
          out_of_order_units: n.ooo ?? 0,
          overbooking_limit: n.limit ?? 0,
        })),
      )
      .execute();
    return { property, roomType, url: `/api/properties/${property.id}/room-types/${roomType.id}/` };
  }

  it('moves future nights to the new total, writes ledger rows and an event, and leaves past nights alone', async () => {
    const { roomType, url } = await setup([
      { offset: -2 },
      { offset: 1, booked: 4 },
      { offset: 2 },
      { offset: 3 },
    ]);
    const res = await call(t.app, 'PATCH', url, { token: superToken, body: { total_units: 7 } });
    expect(res.status).toBe(200);
    expect(res.body.total_units).toBe(7);
    expect(await calendar(roomType.id)).toEqual([
      { date: day(-2), total_units: 10, booked_units: 0 },
      { date: day(1), total_units: 7, booked_units: 4 },
      { date: day(2), total_units: 7, booked_units: 0 },
      { date: day(3), total_units: 7, booked_units: 0 },
    ]);
    const ledger = await t.db
      .selectFrom('inventory_ledger')
      .select(['date', 'field', 'delta', 'reason', 'actor_id'])
      .where('room_type_id', '=', roomType.id)
      .orderBy('date')
      .execute();
    expect(ledger).toEqual(
      [1, 2, 3].map((offset) => ({
        date: day(offset),
        field: 'total_units',
        delta: -3,
        reason: 'room_type.capacity_changed',
        actor_id: superId,
      })),
    );
    const events = await t.db
      .selectFrom('outbox_event')
      .select(['type', 'envelope'])
      .where('property_id', '=', roomType.property_id)
      .execute();
    expect(events).toHaveLength(1);
    expect(events[0]!.type).toBe('pms.inventory.updated');
    expect((events[0]!.envelope as { data: { nights: unknown[] } }).data.nights).toHaveLength(3);
  });

  it('refuses with 409 INVENTORY_CONFLICT naming the first night that would break, and changes nothing', async () => {
    const { roomType, url } = await setup([
      { offset: 1, booked: 5 },
      { offset: 2, booked: 6, held: 2 },
      { offset: 3, booked: 9 },
    ]);
    const res = await call(t.app, 'PATCH', url, {
      token: superToken,
      body: { total_units: 7, name: 'Renamed' },
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('INVENTORY_CONFLICT');
    expect(res.body.detail).toContain(day(2));
    expect(res.body.date).toBe(day(2));
    expect(res.body.minimum_total_units).toBe(9);
    const row = await t.db
      .selectFrom('room_type')
      .selectAll()
      .where('id', '=', roomType.id)
      .executeTakeFirstOrThrow();
    expect(row.total_units).toBe(10);
    expect(row.name).toBe(roomType.name);
    expect((await calendar(roomType.id)).map((n) => n.total_units)).toEqual([10, 10, 10]);
    const ledger = await t.db
      .selectFrom('inventory_ledger')
      .select('id')
      .where('room_type_id', '=', roomType.id)
      .execute();
    expect(ledger).toHaveLength(0);
    expect(await auditActions(roomType.id)).toEqual([]);
  });

  it('counts out-of-order rooms and the overbooking limit when checking a night', async () => {
    const limited = await setup([{ offset: 1, booked: 9, limit: 1 }]);
    expect(
      (await call(t.app, 'PATCH', limited.url, { token: superToken, body: { total_units: 8 } })).status,
    ).toBe(200);
    const outOfOrder = await setup([{ offset: 1, ooo: 3 }]);
    const res = await call(t.app, 'PATCH', outOfOrder.url, { token: superToken, body: { total_units: 2 } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('INVENTORY_CONFLICT');
  });

  it('never lets concurrent capacity changes and bookings break the calendar CHECK', async () => {
    const { roomType, url } = await setup([{ offset: 1, booked: 2 }]);
    // Bookings take one unit at a time under the row lock, as the inventory service does.
    const book = () =>
      t.db.transaction().execute(async (tx) => {
        const night = await tx
          .selectFrom('inventory_calendar')
          .selectAll()
          .where('room_type_id', '=', roomType.id)
          .where('date', '=', day(1))
          .forUpdate()
          .executeTakeFirstOrThrow();
        if (night.booked_units + 1 > night.total_units) return false;
        await tx
          .updateTable('inventory_calendar')
          .set({ booked_units: night.booked_units + 1 })
          .where('room_type_id', '=', roomType.id)
          .where('date', '=', day(1))
          .execute();
        return true;
      });
    const results = await Promise.all([
      ...Array.from({ length: 6 }, () => book()),
      call(t.app, 'PATCH', url, { token: superToken, body: { total_units: 5 } }),
    ]);
    const patch = results[6] as { status: number };
    const booked = (results.slice(0, 6) as boolean[]).filter(Boolean).length;
    const [night] = await calendar(roomType.id);
    expect(night!.booked_units).toBe(2 + booked);
    // Either the change came first and the bookings filled the smaller night, or enough bookings
    // came first that the change was refused and every booking fitted the old total.
    if (patch.status === 200) {
      expect(night).toMatchObject({ total_units: 5, booked_units: 5 });
    } else {
      expect(patch.status).toBe(409);
      expect(night).toMatchObject({ total_units: 10, booked_units: 8 });
    }
  });
});

describe('rooms', () => {
  it('creates, filters, updates and deletes rooms', async () => {
    const property = await createProperty(t.db);
    const single = await createRoomType(t.db, property.id, { code: 'SGL' });
    const double = await createRoomType(t.db, property.id, { code: 'DBL' });
    const base = `/api/properties/${property.id}/rooms/`;
    const made = [];
    for (const [number, roomType] of [
      ['101', single],
      ['102', double],
      ['201', double],
    ] as const) {
      const res = await call(t.app, 'POST', base, {
        token: superToken,
        body: { number, room_type_id: roomType.id, floor: number[0] },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        number,
        room_type_id: roomType.id,
        status: 'available',
        property_id: property.id,
      });
      made.push(res.body);
    }
    const doubles = await call(t.app, 'GET', `${base}?room_type_id=${double.id}`, { token: superToken });
    expect(doubles.body.results.map((r: { number: string }) => r.number)).toEqual(['102', '201']);
    const firstFloor = await call(t.app, 'GET', `${base}?search=1`, { token: superToken });
    expect(firstFloor.body.results.map((r: { number: string }) => r.number)).toEqual(['101', '102']);

    const url = `${base}${made[0].id}/`;
    const patched = await call(t.app, 'PATCH', url, {
      token: superToken,
      body: { status: 'dirty', room_type_id: double.id },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ status: 'dirty', room_type_id: double.id });
    const dirty = await call(t.app, 'GET', `${base}?status=dirty`, { token: superToken });
    expect(dirty.body.results.map((r: { id: string }) => r.id)).toEqual([made[0].id]);

    expect((await call(t.app, 'DELETE', url, { token: superToken })).status).toBe(204);
    expect((await call(t.app, 'GET', url, { token: superToken })).status).toBe(404);
    expect(await auditActions(made[0].id)).toEqual(['room.created', 'room.updated', 'room.deleted']);
  });

  it('refuses a room type of another property with 400 and a duplicate number with 409', async () => {
    const a = await createProperty(t.db);
    const b = await createProperty(t.db);
    const roomTypeOfA = await createRoomType(t.db, a.id);
    const roomTypeOfB = await createRoomType(t.db, b.id);
    const foreign = await call(t.app, 'POST', `/api/properties/${a.id}/rooms/`, {
      token: superToken,
      body: { number: '1', room_type_id: roomTypeOfB.id },
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body.errors).toEqual([
      { pointer: '/body/room_type_id', message: 'is not a room type of this property' },
    ]);

    await createRoom(t.db, a.id, roomTypeOfA.id, { number: '7' });
    const dup = await call(t.app, 'POST', `/api/properties/${a.id}/rooms/`, {
      token: superToken,
      body: { number: '7', room_type_id: roomTypeOfA.id },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('CONFLICT');
    expect(dup.body.detail).toContain('"7"');
  });

  it('refuses to delete a room assigned to a current stay, but not one of a finished stay', async () => {
    const property = await createProperty(t.db);
    const roomType = await createRoomType(t.db, property.id);
    const room = await createRoom(t.db, property.id, roomType.id);
    const reservationId = await insertReservation(t.db, property.id, roomType.id, room.id);
    const url = `/api/properties/${property.id}/rooms/${room.id}/`;
    const refused = await call(t.app, 'DELETE', url, { token: superToken });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('RESOURCE_IN_USE');

    await t.db
      .updateTable('reservation')
      .set({ status: 'checked_out' })
      .where('id', '=', reservationId)
      .execute();
    expect((await call(t.app, 'DELETE', url, { token: superToken })).status).toBe(204);
    const stay = await t.db
      .selectFrom('reservation_room')
      .select('room_id')
      .where('reservation_id', '=', reservationId)
      .executeTakeFirstOrThrow();
    expect(stay.room_id).toBeNull();
  });
});

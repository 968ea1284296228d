import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryProblems } from '../../../../test/booking/invariants.ts';
import { call, createTestContext, type TestContext } from '../../../../test/helpers/context.ts';
import {
  createProperty,
  createRoom,
  createRoomType,
  userWithToken,
} from '../../../../test/helpers/factories.ts';
import type { RoomType } from '../../../db/schema.ts';
import { applyImportedChanges } from '../../inventory/inventory.service.ts';
import type { CanonicalBooking, CanonicalRoom } from '../pipeline/canonical.ts';
import { type BatchContext, writeBatch } from './ledger-batch.ts';
import { hotelLookups } from './lookup.repository.ts';

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(() => t?.close());

const room = (overrides: Partial<CanonicalRoom> = {}): CanonicalRoom => ({
  external_id: null,
  status: null,
  room_type_code: 'DBL',
  room_number: null,
  rate_plan_code: null,
  adults: 2,
  children: 0,
  amount: '100.00',
  check_in: null,
  check_out: null,
  ...overrides,
});

/** A booking that carries all its rooms (nested rooms). */
const nested = (rooms: CanonicalRoom[], overrides: Partial<CanonicalBooking> = {}): CanonicalBooking => ({
  external_id: 'N1',
  status: 'confirmed',
  check_in: '2031-04-01',
  check_out: '2031-04-04',
  guest: { first_name: 'Ada', last_name: 'Lovelace', full_name: 'Ada Lovelace', email: null, phone: null },
  room_type_code: rooms[0]?.room_type_code ?? null,
  room_number: null,
  adults: 2,
  children: 0,
  total_amount: null,
  currency: 'EUR',
  source_updated_at: '2031-01-01T00:00:01.000Z',
  notes: null,
  rate_plan_code: null,
  rooms,
  ...overrides,
});

/** One record of a group (grouped rooms): the group's id, the record's own room. */
const member = (
  id: string,
  overrides: Partial<CanonicalBooking> = {},
  roomOverrides: Partial<CanonicalRoom> = {},
): CanonicalBooking => {
  const b: CanonicalBooking = {
    external_id: 'G1',
    status: 'confirmed',
    check_in: '2031-05-01',
    check_out: '2031-05-03',
    guest: { first_name: 'Grace', last_name: 'Hopper', full_name: 'Grace Hopper', email: null, phone: null },
    room_type_code: null,
    room_number: null,
    adults: null,
    children: null,
    total_amount: '80.00',
    currency: 'EUR',
    source_updated_at: '2031-01-01T00:00:01.000Z',
    notes: null,
    ...overrides,
    grouped: true,
  };
  b.rooms = [
    room({
      external_id: id,
      status: b.status,
      check_in: b.check_in,
      check_out: b.check_out,
      amount: '80.00',
      ...roomOverrides,
    }),
  ];
  return b;
};

async function hotel(): Promise<{ ctx: BatchContext; dbl: RoomType; ste: RoomType }> {
  const property = await createProperty(t.db);
  const dbl = await createRoomType(t.db, property.id, { code: 'DBL', totalUnits: 5 });
  const ste = await createRoomType(t.db, property.id, { code: 'STE', totalUnits: 5 });
  const { token } = await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' });
  const put = await call(t.app, 'PUT', `/api/integrations/pms/connections/${property.id}/`, {
    token,
    body: {
      pms_type: 'acme',
      version: '2.1',
      base_url: 'https://pms.example.test',
      hotel_external_id: 'X',
      secrets: { api_token: 'unused-token' },
    },
  });
  return {
    ctx: {
      runId: crypto.randomUUID(),
      propertyId: property.id,
      connectionId: put.body.id,
      source: 'pms:acme',
      lookups: await hotelLookups(t.db, property.id),
      applyImportedChanges,
    },
    dbl,
    ste,
  };
}

const write = (ctx: BatchContext, bookings: CanonicalBooking[]) =>
  t.db.transaction().execute((tx) => writeBatch(tx, ctx, bookings));

/** Booked units per night of a room type (imported units: booked plus overbooked). */
const nights = async (roomTypeId: string) =>
  Object.fromEntries(
    (
      await t.db
        .selectFrom('inventory_calendar')
        .select(['date', 'booked_units', 'overbooked_units'])
        .where('room_type_id', '=', roomTypeId)
        .orderBy('date')
        .execute()
    )
      .filter((n) => n.booked_units + n.overbooked_units > 0)
      .map((n) => [n.date, n.booked_units + n.overbooked_units]),
  );

const rows = (ctx: BatchContext) =>
  t.db
    .selectFrom('reservation_room as rr')
    .innerJoin('reservation as r', 'r.id', 'rr.reservation_id')
    .innerJoin('pms_booking_room as p', 'p.reservation_room_id', 'rr.id')
    .select(['rr.id', 'p.room_key', 'rr.room_type_id', 'rr.room_id', 'r.external_id'])
    .where('r.property_id', '=', ctx.propertyId)
    .orderBy('p.room_key')
    .execute();

const reservations = (ctx: BatchContext) =>
  t.db
    .selectFrom('reservation')
    .select(['external_id', 'status', 'check_in', 'check_out', 'total_amount', 'version'])
    .where('property_id', '=', ctx.propertyId)
    .orderBy('external_id')
    .execute();

const at = (second: number) => `2031-01-01T00:00:${String(second).padStart(2, '0')}.000Z`;

describe('a booking with nested rooms', () => {
  it('holds every room, then releases exactly a room the PMS removed and moves exactly a room whose type changed', async () => {
    const { ctx, dbl, ste } = await hotel();
    const three = [
      room({ external_id: 'R1' }),
      room({ external_id: 'R2' }),
      room({ external_id: 'R3', room_type_code: 'STE', amount: '150.00' }),
    ];
    expect(await write(ctx, [nested(three, { total_amount: '350.00' })])).toMatchObject({
      created: 1,
      updated: 0,
      unchanged: 0,
    });
    const all = { '2031-04-01': 2, '2031-04-02': 2, '2031-04-03': 2 };
    expect(await nights(dbl.id)).toEqual(all);
    expect(await nights(ste.id)).toEqual({ '2031-04-01': 1, '2031-04-02': 1, '2031-04-03': 1 });
    expect(await reservations(ctx)).toMatchObject([{ total_amount: '350.00', version: 1 }]);
    const first = await rows(ctx);
    expect(first.map((r) => r.room_key)).toEqual(['R1', 'R2', 'R3']);
    expect(await inventoryProblems(t.db, ctx.propertyId)).toEqual([]);

    // R2 cancelled at the PMS: it leaves the list. Only its nights go; R1 and R3 keep their rows.
    const removed = [three[0]!, three[2]!];
    expect(await write(ctx, [nested(removed, { source_updated_at: at(2) })])).toMatchObject({ updated: 1 });
    expect(await nights(dbl.id)).toEqual({ '2031-04-01': 1, '2031-04-02': 1, '2031-04-03': 1 });
    expect(await nights(ste.id)).toEqual({ '2031-04-01': 1, '2031-04-02': 1, '2031-04-03': 1 });
    const second = await rows(ctx);
    expect(second.map((r) => [r.room_key, r.id])).toEqual([
      ['R1', first[0]!.id],
      ['R3', first[2]!.id],
    ]);
    expect(await inventoryProblems(t.db, ctx.propertyId)).toEqual([]);

    // R3 changes from STE to DBL: its nights move, in place.
    const moved = [three[0]!, { ...three[2]!, room_type_code: 'DBL' }];
    await write(ctx, [nested(moved, { source_updated_at: at(3) })]);
    expect(await nights(dbl.id)).toEqual({ '2031-04-01': 2, '2031-04-02': 2, '2031-04-03': 2 });
    expect(await nights(ste.id)).toEqual({});
    expect((await rows(ctx)).map((r) => [r.room_key, r.id, r.room_type_id])).toEqual([
      ['R1', first[0]!.id, dbl.id],
      ['R3', first[2]!.id, dbl.id],
    ]);
    expect(await inventoryProblems(t.db, ctx.propertyId)).toEqual([]);

    // The whole booking cancelled: every room's nights go, and the rooms stay on the booking.
    await write(ctx, [nested(moved, { source_updated_at: at(4), status: 'cancelled' })]);
    expect(await nights(dbl.id)).toEqual({});
    expect(await rows(ctx)).toHaveLength(2);
    expect(await inventoryProblems(t.db, ctx.propertyId)).toEqual([]);
  });

  it('keys rooms without ids by position, and counts an unchanged re-read as unchanged', async () => {
    const { ctx, dbl } = await hotel();
    const two = [room(), room()];
    await write(ctx, [nested(two)]);
    expect(await nights(dbl.id)).toEqual({ '2031-04-01': 2, '2031-04-02': 2, '2031-04-03': 2 });
    expect((await rows(ctx)).map((r) => r.room_key)).toEqual(['#1', '#2']);
    expect(await write(ctx, [nested(two, { source_updated_at: at(5) })])).toMatchObject({
      updated: 0,
      unchanged: 1,
    });
    await write(ctx, [nested([room()], { source_updated_at: at(6) })]);
    expect(await nights(dbl.id)).toEqual({ '2031-04-01': 1, '2031-04-02': 1, '2031-04-03': 1 });
    expect(await inventoryProblems(t.db, ctx.propertyId)).toEqual([]);
  });

  it("releases a room cancelled on its own while the booking holds, and keeps the front desk's room assignments", async () => {
    const { ctx, dbl } = await hotel();
    const r101 = await createRoom(t.db, ctx.propertyId, dbl.id, { number: '101' });
    const lookups = await hotelLookups(t.db, ctx.propertyId);
    const c = { ...ctx, lookups };
    await write(c, [nested([room({ external_id: 'A' }), room({ external_id: 'B' })])]);
    const [a] = await rows(c);
    // The front desk assigns room 101 to room A (the PMS names no room numbers).
    await t.db.updateTable('reservation_room').set({ room_id: r101.id }).where('id', '=', a!.id).execute();
    await write(c, [
      nested([room({ external_id: 'A' }), room({ external_id: 'B', status: 'cancelled' })], {
        source_updated_at: at(7),
      }),
    ]);
    expect(await nights(dbl.id)).toEqual({ '2031-04-01': 1, '2031-04-02': 1, '2031-04-03': 1 });
    expect((await rows(c)).map((r) => [r.room_key, r.room_id])).toEqual([['A', r101.id]]);
    expect(await inventoryProblems(t.db, ctx.propertyId)).toEqual([]);
  });
});

describe('a one-room booking of a format v1 config', () => {
  it('keeps no per-room row, changes its room in place and keeps the room the front desk assigned', async () => {
    const { ctx, dbl, ste } = await hotel();
    const r201 = await createRoom(t.db, ctx.propertyId, dbl.id, { number: '201' });
    const c = { ...ctx, lookups: await hotelLookups(t.db, ctx.propertyId) };
    const v1 = (overrides: Partial<CanonicalBooking>) => {
      const { rooms: _rooms, rate_plan_code: _plan, ...flat } = nested([room()], overrides);
      return flat as CanonicalBooking;
    };
    await write(c, [v1({ external_id: 'V1' })]);
    const [row] = await t.db
      .selectFrom('reservation_room')
      .select(['id'])
      .where('property_id', '=', ctx.propertyId)
      .execute();
    await t.db.updateTable('reservation_room').set({ room_id: r201.id }).where('id', '=', row!.id).execute();
    expect(
      await t.db
        .selectFrom('pms_booking_room')
        .selectAll()
        .where('property_id', '=', ctx.propertyId)
        .execute(),
    ).toEqual([]);
    await write(c, [v1({ external_id: 'V1', source_updated_at: at(2), adults: 3, notes: 'late arrival' })]);
    expect(
      await t.db
        .selectFrom('reservation_room')
        .select(['id', 'room_id', 'adults'])
        .where('property_id', '=', ctx.propertyId)
        .execute(),
    ).toEqual([{ id: row!.id, room_id: r201.id, adults: 3 }]);
    await write(c, [v1({ external_id: 'V1', source_updated_at: at(3), room_type_code: 'STE' })]);
    expect(await nights(dbl.id)).toEqual({});
    expect(await nights(ste.id)).toEqual({ '2031-04-01': 1, '2031-04-02': 1, '2031-04-03': 1 });
    expect(
      await t.db
        .selectFrom('reservation_room')
        .select(['id', 'room_id', 'room_type_id'])
        .where('property_id', '=', ctx.propertyId)
        .execute(),
    ).toEqual([{ id: row!.id, room_id: null, room_type_id: ste.id }]);
    expect(await inventoryProblems(t.db, ctx.propertyId)).toEqual([]);
  });
});

describe('a grouped booking (one PMS record per room)', () => {
  it('assembles records arriving in different batches into one booking, then changes exactly the room each record names', async () => {
    const { ctx, dbl, ste } = await hotel();
    expect(await write(ctx, [member('r1'), member('r2')])).toMatchObject({ created: 2 });
    expect(await write(ctx, [member('r3', {}, { room_type_code: 'STE' })])).toMatchObject({ updated: 1 });
    expect(await reservations(ctx)).toMatchObject([
      { external_id: 'G1', status: 'confirmed', total_amount: '240.00', version: 2 },
    ]);
    expect(await nights(dbl.id)).toEqual({ '2031-05-01': 2, '2031-05-02': 2 });
    expect(await nights(ste.id)).toEqual({ '2031-05-01': 1, '2031-05-02': 1 });
    const first = await rows(ctx);
    expect(first.map((r) => r.room_key)).toEqual(['r1', 'r2', 'r3']);
    expect(await inventoryProblems(t.db, ctx.propertyId)).toEqual([]);

    // r2 cancelled at the PMS.
    await write(ctx, [member('r2', { status: 'cancelled', source_updated_at: at(2) })]);
    expect(await nights(dbl.id)).toEqual({ '2031-05-01': 1, '2031-05-02': 1 });
    expect(await nights(ste.id)).toEqual({ '2031-05-01': 1, '2031-05-02': 1 });
    expect((await rows(ctx)).map((r) => [r.room_key, r.id])).toEqual([
      ['r1', first[0]!.id],
      ['r3', first[2]!.id],
    ]);
    expect(await reservations(ctx)).toMatchObject([{ status: 'confirmed', total_amount: '160.00' }]);

    // r3 moves from STE to DBL; an older copy of r1 changes nothing.
    const outcome = await write(ctx, [
      member('r3', { source_updated_at: at(3) }, { room_type_code: 'DBL' }),
      member('r1', { status: 'cancelled', source_updated_at: '2030-12-31T00:00:00.000Z' }),
    ]);
    expect(outcome).toMatchObject({ updated: 1, unchanged: 1 });
    expect(await nights(dbl.id)).toEqual({ '2031-05-01': 2, '2031-05-02': 2 });
    expect(await nights(ste.id)).toEqual({});
    expect(await inventoryProblems(t.db, ctx.propertyId)).toEqual([]);

    // Every room cancelled: the booking is cancelled.
    await write(ctx, [
      member('r1', { status: 'cancelled', source_updated_at: at(4) }),
      member('r3', { status: 'cancelled', source_updated_at: at(4) }),
    ]);
    expect(await reservations(ctx)).toMatchObject([{ status: 'cancelled' }]);
    expect(await nights(dbl.id)).toEqual({});
    expect(await inventoryProblems(t.db, ctx.propertyId)).toEqual([]);
  });

  it('refuses a record whose room would stay other nights than its group, and applies the rest', async () => {
    const { ctx, dbl } = await hotel();
    await write(ctx, [member('r1'), member('r2')]);
    const outcome = await write(ctx, [
      member('r2', { source_updated_at: at(2), check_out: '2031-05-04' }),
      member('r3', { source_updated_at: at(2) }),
    ]);
    expect(outcome.rejected).toHaveLength(1);
    expect(outcome.rejected[0]!.index).toBe(0);
    expect(outcome.rejected[0]!.error.message).toMatch(
      /room r2 stays 2031-05-01 → 2031-05-04, the group's other rooms 2031-05-01 → 2031-05-03/,
    );
    expect(outcome).toMatchObject({ updated: 1 });
    expect(await nights(dbl.id)).toEqual({ '2031-05-01': 3, '2031-05-02': 3 });
    // The whole group moving together is one stay again.
    await write(ctx, [
      member('r1', { source_updated_at: at(3), check_out: '2031-05-04' }),
      member('r2', { source_updated_at: at(3), check_out: '2031-05-04' }),
      member('r3', { source_updated_at: at(3), check_out: '2031-05-04' }),
    ]);
    expect(await nights(dbl.id)).toEqual({ '2031-05-01': 3, '2031-05-02': 3, '2031-05-03': 3 });
    expect(await reservations(ctx)).toMatchObject([{ check_out: '2031-05-04' }]);
    expect(await inventoryProblems(t.db, ctx.propertyId)).toEqual([]);
  });

  it('moves a room the PMS moved to another group out of its old booking', async () => {
    const { ctx, dbl } = await hotel();
    await write(ctx, [member('r1'), member('r2')]);
    await write(ctx, [member('r2', { external_id: 'G2', source_updated_at: at(2) })]);
    expect(await reservations(ctx)).toMatchObject([
      { external_id: 'G1', status: 'confirmed', total_amount: '80.00' },
      { external_id: 'G2', status: 'confirmed', total_amount: '80.00' },
    ]);
    expect(await nights(dbl.id)).toEqual({ '2031-05-01': 2, '2031-05-02': 2 });
    expect((await rows(ctx)).map((r) => [r.room_key, r.external_id])).toEqual([
      ['r1', 'G1'],
      ['r2', 'G2'],
    ]);
    await write(ctx, [member('r1', { external_id: 'G2', source_updated_at: at(3) })]);
    expect(await reservations(ctx)).toMatchObject([
      { external_id: 'G1', status: 'cancelled' },
      { external_id: 'G2', status: 'confirmed', total_amount: '160.00' },
    ]);
    expect(await nights(dbl.id)).toEqual({ '2031-05-01': 2, '2031-05-02': 2 });
    expect(await inventoryProblems(t.db, ctx.propertyId)).toEqual([]);
  });
});

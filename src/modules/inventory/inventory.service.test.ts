import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryProblems } from '../../../test/booking/invariants.ts';
import {
  type BookingWorld,
  bookingWorld,
  calendarNight,
  insertImportedReservation,
  reservationBody,
} from '../../../test/booking/world.ts';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { createProperty, createRoomType } from '../../../test/helpers/factories.ts';
import type { ImportedChange, StayUnits } from './inventory.contract.ts';
import { releaseExpiredHolds } from './inventory.holds.ts';
import { applyImportedChanges, bootstrapInventory } from './inventory.service.ts';

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(() => t.close());

const lock = { policy: 'wait' as const, timeoutMs: 5000 };

const importedReservation = (world: BookingWorld, stay: StayUnits, externalId: string) =>
  insertImportedReservation(t.db, world.property.id, stay, externalId);

function apply(world: BookingWorld, changes: ImportedChange[]) {
  return t.db.transaction().execute((tx) =>
    applyImportedChanges(tx, {
      propertyId: world.property.id,
      changes,
      reason: 'pms.import',
      actorId: null,
    }),
  );
}

describe('applyImportedChanges', () => {
  it('never refuses: the excess beyond capacity goes to overbooked_units and stops direct sales', async () => {
    const world = await bookingWorld(t, { units: 3 });
    const stay = { roomTypeId: world.roomType.id, checkIn: '2031-03-10', checkOut: '2031-03-12', units: 5 };
    const id = await importedReservation(world, stay, 'A1');
    const result = await apply(world, [{ reservationId: id, release: [], take: [stay] }]);
    expect(result.overbooked).toEqual([
      { roomTypeId: world.roomType.id, date: '2031-03-10', overbookedUnits: 2 },
      { roomTypeId: world.roomType.id, date: '2031-03-11', overbookedUnits: 2 },
    ]);
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({
      booked_units: 3,
      overbooked_units: 2,
      available_units: 0,
    });
    const events = await t.db
      .selectFrom('outbox_event')
      .select('envelope')
      .where('property_id', '=', world.property.id)
      .where('type', '=', 'pms.inventory.overbooked')
      .execute();
    expect(events).toHaveLength(1);
    expect((events[0]!.envelope as any).data.nights.map((n: any) => n.overbooked_units)).toEqual([2, 2]);

    // Even with room made by an overbooking limit, an overbooked night sells nothing directly.
    await call(t.app, 'POST', '/api/inventory/adjust/', {
      token: world.admin.token,
      body: {
        room_type_id: world.roomType.id,
        start_date: '2031-03-10',
        end_date: '2031-03-10',
        overbooking_limit: 1,
      },
    });
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({
      booked_units: 4,
      overbooked_units: 1,
    });
    const direct = await call(t.app, 'POST', '/api/reservations/create/', {
      token: world.staff.token,
      body: reservationBody(world, { check_in: '2031-03-11', check_out: '2031-03-12' }),
    });
    expect(direct.status).toBe(409);
    expect(direct.body.nights[0].reason).toBe('SOLD_OUT');
    expect(await inventoryProblems(t.db, world.property.id)).toEqual([]);
  });

  it('releases overbooked units first, and a freed unit absorbs imported excess', async () => {
    const world = await bookingWorld(t, { units: 2 });
    const direct = await call(t.app, 'POST', '/api/reservations/create/', {
      token: world.staff.token,
      body: reservationBody(world, { check_in: '2031-03-10', check_out: '2031-03-11' }),
    });
    const stay = { roomTypeId: world.roomType.id, checkIn: '2031-03-10', checkOut: '2031-03-11', units: 1 };
    const a = await importedReservation(world, stay, 'B1');
    const b = await importedReservation(world, stay, 'B2');
    await apply(world, [
      { reservationId: a, release: [], take: [stay] },
      { reservationId: b, release: [], take: [stay] },
    ]);
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({
      booked_units: 2,
      overbooked_units: 1,
    });
    // Cancelling the direct booking frees a unit: the imported excess moves into it.
    await call(t.app, 'POST', `/api/reservations/${direct.body.id}/cancel/`, { token: world.staff.token });
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({
      booked_units: 2,
      overbooked_units: 0,
    });
    await t.db.updateTable('reservation').set({ status: 'cancelled' }).where('id', '=', b).execute();
    await apply(world, [{ reservationId: b, release: [stay], take: [] }]);
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({
      booked_units: 1,
      overbooked_units: 0,
    });
    expect(await inventoryProblems(t.db, world.property.id)).toEqual([]);
  });

  it("lets a room type's new capacity absorb imported excess at once, as every capacity change does", async () => {
    const world = await bookingWorld(t, { units: 2 });
    const stay = { roomTypeId: world.roomType.id, checkIn: '2031-03-20', checkOut: '2031-03-22', units: 3 };
    const imported = await importedReservation(world, stay, 'CAP1');
    await apply(world, [{ reservationId: imported, release: [], take: [stay] }]);
    expect(await calendarNight(t, world, '2031-03-20')).toMatchObject({
      booked_units: 2,
      overbooked_units: 1,
    });

    const patched = await call(
      t.app,
      'PATCH',
      `/api/properties/${world.property.id}/room-types/${world.roomType.id}/`,
      {
        token: world.admin.token,
        body: { total_units: 3 },
      },
    );
    expect(patched.status).toBe(200);
    for (const date of ['2031-03-20', '2031-03-21']) {
      expect(await calendarNight(t, world, date)).toMatchObject({
        total_units: 3,
        booked_units: 3,
        overbooked_units: 0,
      });
    }
    // Untouched nights only change capacity.
    expect(await calendarNight(t, world, '2031-03-25')).toMatchObject({ total_units: 3, booked_units: 0 });
    const event = await t.db
      .selectFrom('outbox_event')
      .select('envelope')
      .where('property_id', '=', world.property.id)
      .where('type', '=', 'pms.inventory.updated')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    const data = (event.envelope as { data: { reason: string; nights: Array<Record<string, unknown>> } })
      .data;
    expect(data.reason).toBe('room_type.capacity_changed');
    expect(data.nights.find((night) => night.date === '2031-03-20')).toMatchObject({
      total_units: 3,
      booked_units: 3,
      overbooked_units: 0,
      available_units: 0,
    });
    expect(await inventoryProblems(t.db, world.property.id)).toEqual([]);
  });

  it('moves a modified import (release + take) and loads missing nights from total_units', async () => {
    const world = await bookingWorld(t, { units: 4, end: '2031-03-15' });
    const before = { roomTypeId: world.roomType.id, checkIn: '2031-03-14', checkOut: '2031-03-16', units: 2 };
    const after = { roomTypeId: world.roomType.id, checkIn: '2031-03-15', checkOut: '2031-03-18', units: 1 };
    const id = await importedReservation(world, before, 'C1');
    await apply(world, [{ reservationId: id, release: [], take: [before] }]);
    expect(await calendarNight(t, world, '2031-03-16')).toBeUndefined();
    expect(await calendarNight(t, world, '2031-03-15')).toMatchObject({ total_units: 4, booked_units: 2 });
    await t.db.deleteFrom('reservation_room').where('reservation_id', '=', id).execute();
    await t.db.deleteFrom('reservation').where('id', '=', id).execute();
    const moved = await importedReservation(world, after, 'C1');
    await apply(world, [{ reservationId: moved, release: [before], take: [after] }]);
    const nights = await Promise.all(
      ['2031-03-14', '2031-03-15', '2031-03-16', '2031-03-17'].map((d) => calendarNight(t, world, d)),
    );
    expect(nights.map((n) => n.booked_units)).toEqual([0, 1, 1, 1]);
    expect(nights[3].total_units).toBe(4);
    expect(await inventoryProblems(t.db, world.property.id)).toEqual([]);
  });

  it('ingests a large batch at once: one lock, one write, exact counts', async () => {
    const world = await bookingWorld(t, { units: 100 });
    const other = await createRoomType(t.db, world.property.id, { totalUnits: 50 });
    const changes: ImportedChange[] = [];
    for (let i = 0; i < 300; i++) {
      const day = 1 + (i % 25);
      const stay = {
        roomTypeId: i % 3 ? world.roomType.id : other.id,
        checkIn: `2031-04-${String(day).padStart(2, '0')}`,
        checkOut: `2031-04-${String(day + 3).padStart(2, '0')}`,
        units: 1,
      };
      changes.push({
        reservationId: await importedReservation(world, stay, `D${i}`),
        release: [],
        take: [stay],
      });
    }
    const result = await apply(world, changes);
    expect(result.overbooked).toEqual([]);
    expect(await inventoryProblems(t.db, world.property.id)).toEqual([]);
    const night = await calendarNight(t, world, '2031-04-10');
    // Stays start on days 1..25 for 3 nights; 04-10 is covered by starts on 8, 9 and 10.
    const expected = changes.filter(
      (c) =>
        c.take[0]!.roomTypeId === world.roomType.id &&
        c.take[0]!.checkIn >= '2031-04-08' &&
        c.take[0]!.checkIn <= '2031-04-10',
    ).length;
    expect(night.booked_units).toBe(expected);
  });

  it('refuses a room type of another property', async () => {
    const world = await bookingWorld(t);
    const elsewhere = await bookingWorld(t);
    const stay = {
      roomTypeId: elsewhere.roomType.id,
      checkIn: '2031-03-10',
      checkOut: '2031-03-11',
      units: 1,
    };
    await expect(
      apply(world, [{ reservationId: crypto.randomUUID(), release: [], take: [stay] }]),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('releaseExpiredHolds', () => {
  it('releases holds past their expiry (and only those), marking them expired', async () => {
    const world = await bookingWorld(t, { units: 5 });
    const hold = (units: number) =>
      call(t.app, 'POST', '/api/inventory/holds/', {
        token: world.staff.token,
        body: {
          room_type_id: world.roomType.id,
          check_in: '2031-03-10',
          check_out: '2031-03-12',
          units,
          ttl_minutes: 5,
        },
      });
    const old = await hold(2);
    const fresh = await hold(1);
    await t.db
      .updateTable('inventory_hold')
      .set({ expires_at: new Date(Date.now() - 60_000) })
      .where('id', '=', old.body.id)
      .execute();
    const expiredView = await call(t.app, 'GET', `/api/inventory/holds/${old.body.id}/`, {
      token: world.staff.token,
    });
    expect(expiredView.body.status).toBe('expired');
    const confirm = await call(t.app, 'POST', '/api/reservations/create/', {
      token: world.staff.token,
      body: reservationBody(world, {
        hold_id: old.body.id,
        rooms: [{ room_type_id: world.roomType.id }, { room_type_id: world.roomType.id }],
      }),
    });
    expect(confirm.status).toBe(409);
    expect(confirm.body.code).toBe('HOLD_NOT_ACTIVE');

    expect(await releaseExpiredHolds(t.db, lock)).toBeGreaterThanOrEqual(1);
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({ held_units: 1 });
    const rows = await t.db
      .selectFrom('inventory_hold')
      .select(['id', 'status'])
      .where('id', 'in', [old.body.id, fresh.body.id])
      .execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual({
      [old.body.id]: 'expired',
      [fresh.body.id]: 'active',
    });
    expect(await releaseExpiredHolds(t.db, lock, { asOf: new Date(Date.now() - 3_600_000) })).toBe(0);
    expect(await inventoryProblems(t.db, world.property.id)).toEqual([]);
  });
});

describe('bootstrapInventory', () => {
  it("loads every room type from each hotel's today, reporting progress, idempotently", async () => {
    const property = await createProperty(t.db, { timezone: 'Pacific/Kiritimati' });
    const roomType = await createRoomType(t.db, property.id, { totalUnits: 4 });
    const lines: string[] = [];
    const first = await bootstrapInventory(t.db, { days: 5, log: (line) => lines.push(line) });
    expect(first.created).toBeGreaterThanOrEqual(5);
    expect(lines.some((line) => line.includes(property.code) && line.includes('5 night(s) created'))).toBe(
      true,
    );
    const nights = await t.db
      .selectFrom('inventory_calendar')
      .selectAll()
      .where('room_type_id', '=', roomType.id)
      .execute();
    expect(nights).toHaveLength(5);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Pacific/Kiritimati' }).format(new Date());
    expect(nights.map((n) => n.date).sort()[0]).toBe(today);
    const again = await bootstrapInventory(t.db, { days: 5, log: () => {} });
    expect(again.created).toBe(0);
  });
});

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryProblems } from '../../../test/booking/invariants.ts';
import {
  bookingWorld,
  calendarNight,
  priceOnDefaultPlan,
  reservationBody,
} from '../../../test/booking/world.ts';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { createRoomType } from '../../../test/helpers/factories.ts';
import type { Actor } from '../auth/auth.context.ts';
import { createReservationService } from '../reservations/reservation.service.ts';

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext({ poolSize: 40 });
});
afterAll(() => t.close());

/** Holds a lock on some calendar nights from another connection until `release()`. */
async function lockFromOutside(roomTypeId: string, date: string) {
  const client = new pg.Client({ connectionString: t.databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  const locked = await client.query(
    'SELECT 1 FROM inventory_calendar WHERE room_type_id = $1 AND date = $2 FOR UPDATE',
    [roomTypeId, date],
  );
  expect(locked.rowCount).toBe(1);
  return {
    release: async () => {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

async function contextFor(world: Awaited<ReturnType<typeof bookingWorld>>) {
  const actor: Actor = {
    id: world.staff.id,
    email: world.staff.email,
    role: 'STAFF',
    propertyIds: [world.property.id],
  };
  return { actor, requestId: null };
}

describe('lock policy', () => {
  for (const policy of ['wait', 'nowait'] as const) {
    it(`${policy}: a night locked elsewhere ends in INVENTORY_BUSY (never a 5xx), then books once free`, async () => {
      const world = await bookingWorld(t, { units: 5 });
      const reservations = createReservationService(t.db, { policy, timeoutMs: 150 }, { maxBatch: 1 });
      const ctx = await contextFor(world);
      const outside = await lockFromOutside(world.roomType.id, '2031-03-11');
      try {
        await expect(reservations.create(ctx, reservationBody(world) as never)).rejects.toMatchObject({
          code: 'INVENTORY_BUSY',
          status: 409,
        });
      } finally {
        await outside.release();
      }
      const booked = await reservations.create(ctx, reservationBody(world) as never);
      expect(booked.status).toBe(201);
      expect(await calendarNight(t, world, '2031-03-11')).toMatchObject({ booked_units: 1 });
      expect(await inventoryProblems(t.db, world.property.id)).toEqual([]);
    });
  }
});

describe('no deadlocks by construction', () => {
  it('swaps racing in opposite directions between two room types all finish, consistently', async () => {
    const world = await bookingWorld(t, { units: 20 });
    const other = await createRoomType(t.db, world.property.id, { totalUnits: 20 });
    await call(t.app, 'POST', '/api/inventory/preload/', {
      token: world.admin.token,
      body: { room_type_id: other.id, start_date: '2031-03-01', end_date: '2031-03-31' },
    });
    await priceOnDefaultPlan(t, world, other.id);
    const ids: Array<{ id: string; to: string }> = [];
    for (let i = 0; i < 24; i++) {
      const from = i % 2 ? other.id : world.roomType.id;
      const to = i % 2 ? world.roomType.id : other.id;
      const res = await call(t.app, 'POST', '/api/reservations/create/', {
        token: world.staff.token,
        body: reservationBody(world, {
          check_in: `2031-03-${String(10 + (i % 3)).padStart(2, '0')}`,
          check_out: '2031-03-15',
          rooms: [{ room_type_id: from }],
        }),
      });
      expect(res.status).toBe(201);
      ids.push({ id: res.body.id, to });
    }
    const reservations = createReservationService(t.db, { policy: 'wait', timeoutMs: 5000 }, { maxBatch: 1 });
    const ctx = await contextFor(world);
    // Each swap locks both room types' nights; given in opposite orders, they are still locked in key order.
    const results = await Promise.allSettled(
      ids.map(({ id, to }) =>
        reservations.modify(ctx, id, { rooms: [{ room_type_id: to }], check_out: '2031-03-16' }),
      ),
    );
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason),
    ).toEqual([]);
    expect((await calendarNight(t, world, '2031-03-15')).booked_units).toBe(12);
    expect((await calendarNight(t, world, '2031-03-15', other.id)).booked_units).toBe(12);
    expect(await inventoryProblems(t.db, world.property.id)).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bookingWorld,
  calendarNight,
  ratePlanWithAmount,
  reservationBody,
} from '../../../test/booking/world.ts';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { createProperty, createRoomType, userWithToken } from '../../../test/helpers/factories.ts';

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(() => t.close());

async function ledgerSum(roomTypeId: string, date: string, field: string): Promise<number> {
  const row = await t.db
    .selectFrom('inventory_ledger')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('delta'), eb.lit(0)).as('total'))
    .where('room_type_id', '=', roomTypeId)
    .where('date', '=', date)
    .where('field', '=', field as never)
    .executeTakeFirstOrThrow();
  return Number(row.total);
}

describe('POST /api/inventory/preload/', () => {
  it('creates the missing nights from total_units, once, with ledger rows', async () => {
    const property = await createProperty(t.db);
    const roomType = await createRoomType(t.db, property.id, { totalUnits: 7 });
    const admin = await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [property.id] });
    const body = { room_type_id: roomType.id, start_date: '2031-01-01', end_date: '2031-01-10' };
    const first = await call(t.app, 'POST', '/api/inventory/preload/', { token: admin.token, body });
    expect(first.status).toBe(200);
    expect(first.body.created).toBe(10);
    const again = await call(t.app, 'POST', '/api/inventory/preload/', {
      token: admin.token,
      body: { property_id: property.id, start_date: '2031-01-05', end_date: '2031-01-12' },
    });
    expect(again.body.created).toBe(2);
    const calendar = await call(
      t.app,
      'GET',
      `/api/inventory/calendar/?property_id=${property.id}&start=2031-01-01&end=2031-01-12`,
      { token: admin.token },
    );
    expect(calendar.status).toBe(200);
    expect(calendar.body.results).toHaveLength(12);
    expect(calendar.body.results[0]).toMatchObject({
      room_type_id: roomType.id,
      date: '2031-01-01',
      total_units: 7,
      booked_units: 0,
      held_units: 0,
      available_units: 7,
      overbooked_units: 0,
      stop_sell: false,
    });
    expect(await ledgerSum(roomType.id, '2031-01-01', 'total_units')).toBe(7);
    const events = await t.db
      .selectFrom('outbox_event')
      .select('envelope')
      .where('property_id', '=', property.id)
      .where('type', '=', 'pms.inventory.updated')
      .execute();
    expect(events.map((e) => (e.envelope as any).data.nights_created)).toEqual([10, 2]);
  });

  it('is for property administrators, and refuses bad ranges', async () => {
    const world = await bookingWorld(t);
    const body = { room_type_id: world.roomType.id, start_date: '2031-05-01', end_date: '2031-05-02' };
    const staff = await call(t.app, 'POST', '/api/inventory/preload/', { token: world.staff.token, body });
    expect(staff.status).toBe(403);
    const stranger = await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [] });
    expect(
      (await call(t.app, 'POST', '/api/inventory/preload/', { token: stranger.token, body })).status,
    ).toBe(404);
    const backwards = await call(t.app, 'POST', '/api/inventory/preload/', {
      token: world.admin.token,
      body: { ...body, end_date: '2031-04-01' },
    });
    expect(backwards.status).toBe(400);
    const both = await call(t.app, 'POST', '/api/inventory/preload/', {
      token: world.admin.token,
      body: { ...body, property_id: world.property.id },
    });
    expect(both.status).toBe(400);
    const root = await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' });
    const missing = await call(t.app, 'POST', '/api/inventory/preload/', {
      token: root.token,
      body: { property_id: crypto.randomUUID(), start_date: '2031-05-01', end_date: '2031-05-02' },
    });
    expect(missing.status).toBe(404);
  });
});

describe('POST /api/inventory/adjust/', () => {
  it('changes capacity, out-of-order, overbooking limit and stop-sell, audited, with ledger rows', async () => {
    const world = await bookingWorld(t, { units: 5 });
    const res = await call(t.app, 'POST', '/api/inventory/adjust/', {
      token: world.admin.token,
      body: {
        room_type_id: world.roomType.id,
        start_date: '2031-03-05',
        end_date: '2031-03-06',
        total_units: 8,
        out_of_order_units: 1,
        overbooking_limit: 2,
        stop_sell: true,
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(2);
    expect(res.body.results[0]).toMatchObject({
      total_units: 8,
      out_of_order_units: 1,
      overbooking_limit: 2,
      available_units: 9,
      stop_sell: true,
    });
    for (const field of ['total_units', 'out_of_order_units', 'overbooking_limit'] as const) {
      expect(await ledgerSum(world.roomType.id, '2031-03-05', field)).toBe(res.body.results[0][field]);
    }
    expect(await ledgerSum(world.roomType.id, '2031-03-05', 'stop_sell')).toBe(1);
    const audit = await call(t.app, 'GET', `/api/audit/?entity_id=${world.roomType.id}`, {
      token: world.admin.token,
    });
    expect(audit.body.results[0]).toMatchObject({ action: 'inventory.adjusted', entity_type: 'room_type' });
  });

  it('adjusts only the weekdays asked for', async () => {
    const world = await bookingWorld(t, { units: 5 });
    const res = await call(t.app, 'POST', '/api/inventory/adjust/', {
      token: world.admin.token,
      // 2031-03-01 is a Saturday.
      body: {
        room_type_id: world.roomType.id,
        start_date: '2031-03-01',
        end_date: '2031-03-07',
        days_of_week: ['sat', 7],
        stop_sell: true,
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.results.map((n: any) => n.date)).toEqual(['2031-03-01', '2031-03-02']);
    expect((await calendarNight(t, world, '2031-03-03')).stop_sell).toBe(false);
  });

  it('refuses with INVENTORY_CONFLICT, naming the night, a capacity below what is sold, and changes nothing', async () => {
    const world = await bookingWorld(t, { units: 3 });
    for (let i = 0; i < 2; i++) {
      const booked = await call(t.app, 'POST', '/api/reservations/create/', {
        token: world.staff.token,
        body: reservationBody(world, { check_in: '2031-03-11', check_out: '2031-03-12' }),
      });
      expect(booked.status).toBe(201);
    }
    const res = await call(t.app, 'POST', '/api/inventory/adjust/', {
      token: world.admin.token,
      body: {
        room_type_id: world.roomType.id,
        start_date: '2031-03-10',
        end_date: '2031-03-12',
        total_units: 1,
      },
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('INVENTORY_CONFLICT');
    expect(res.body.date).toBe('2031-03-11');
    expect((await calendarNight(t, world, '2031-03-10')).total_units).toBe(3);
    const ooo = await call(t.app, 'POST', '/api/inventory/adjust/', {
      token: world.admin.token,
      body: {
        room_type_id: world.roomType.id,
        start_date: '2031-03-11',
        end_date: '2031-03-11',
        out_of_order_units: 2,
      },
    });
    expect(ooo.status).toBe(409);
    expect(ooo.body.code).toBe('INVENTORY_CONFLICT');
  });

  it('is refused to STAFF', async () => {
    const world = await bookingWorld(t);
    const res = await call(t.app, 'POST', '/api/inventory/adjust/', {
      token: world.staff.token,
      body: {
        room_type_id: world.roomType.id,
        start_date: '2031-03-10',
        end_date: '2031-03-10',
        stop_sell: true,
      },
    });
    expect(res.status).toBe(403);
  });
});

describe('POST /api/inventory/check/', () => {
  it('answers night by night with the reasons a night is not bookable', async () => {
    const world = await bookingWorld(t, { units: 2, start: '2031-03-01', end: '2031-03-12' });
    await call(t.app, 'POST', '/api/inventory/adjust/', {
      token: world.admin.token,
      body: {
        room_type_id: world.roomType.id,
        start_date: '2031-03-11',
        end_date: '2031-03-11',
        stop_sell: true,
      },
    });
    await call(t.app, 'POST', '/api/reservations/create/', {
      token: world.staff.token,
      body: reservationBody(world, {
        check_in: '2031-03-10',
        check_out: '2031-03-11',
        rooms: [{ room_type_id: world.roomType.id }, { room_type_id: world.roomType.id }],
      }),
    });
    const res = await call(t.app, 'POST', '/api/inventory/check/', {
      token: world.staff.token,
      body: { room_type_id: world.roomType.id, check_in: '2031-03-09', check_out: '2031-03-14' },
    });
    expect(res.status).toBe(200);
    expect(res.body.available).toBe(false);
    expect(res.body.nights.map((n: any) => [n.date, n.bookable, n.reasons])).toEqual([
      ['2031-03-09', true, []],
      ['2031-03-10', false, ['SOLD_OUT']],
      ['2031-03-11', false, ['STOP_SELL']],
      ['2031-03-12', true, []],
      ['2031-03-13', false, ['NOT_LOADED']],
    ]);
    expect(res.body.nights[1]).toMatchObject({ total_units: 2, booked_units: 2, available_units: 0 });
    const free = await call(t.app, 'POST', '/api/inventory/check/', {
      token: world.staff.token,
      body: { room_type_id: world.roomType.id, check_in: '2031-03-01', check_out: '2031-03-03', units: 2 },
    });
    expect(free.body.available).toBe(true);
    const tooMany = await call(t.app, 'POST', '/api/inventory/check/', {
      token: world.staff.token,
      body: { room_type_id: world.roomType.id, check_in: '2031-03-01', check_out: '2031-03-03', units: 3 },
    });
    expect(tooMany.body.available).toBe(false);
    expect(tooMany.body.nights[0].reasons).toEqual(['SOLD_OUT']);
  });

  it('adds a quote and the rate plan restrictions when a rate plan is given', async () => {
    const world = await bookingWorld(t, { units: 2 });
    const plan = await ratePlanWithAmount(t, world, { amount: '100.10' });
    await call(t.app, 'PUT', '/api/rates/daily/', {
      token: world.admin.token,
      body: {
        rate_plan_id: plan.id,
        room_type_id: world.roomType.id,
        start_date: '2031-03-10',
        end_date: '2031-03-10',
        closed_to_arrival: true,
        min_stay: 3,
      },
    });
    await call(t.app, 'PUT', '/api/rates/daily/', {
      token: world.admin.token,
      body: {
        rate_plan_id: plan.id,
        room_type_id: world.roomType.id,
        start_date: '2031-03-12',
        end_date: '2031-03-12',
        closed_to_departure: true,
        amount: '80.00',
      },
    });
    const res = await call(t.app, 'POST', '/api/inventory/check/', {
      token: world.staff.token,
      body: {
        room_type_id: world.roomType.id,
        check_in: '2031-03-10',
        check_out: '2031-03-12',
        units: 2,
        rate_plan_id: plan.id,
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.available).toBe(false);
    expect(res.body.nights[0].reasons).toEqual(['CLOSED_TO_ARRIVAL', 'MIN_STAY']);
    expect(res.body.nights[1].reasons).toEqual(['CLOSED_TO_DEPARTURE']);
    expect(res.body.quote).toEqual({
      rate_plan_id: plan.id,
      currency: 'EUR',
      units: 2,
      total: '400.40',
      nightly: [
        { date: '2031-03-10', amount: '100.10' },
        { date: '2031-03-11', amount: '100.10' },
      ],
    });
    const open = await call(t.app, 'POST', '/api/inventory/check/', {
      token: world.staff.token,
      body: {
        room_type_id: world.roomType.id,
        check_in: '2031-03-11',
        check_out: '2031-03-14',
        rate_plan_id: plan.id,
      },
    });
    expect(open.body.available).toBe(true);
    expect(open.body.quote.total).toBe('280.20');
  });

  it('hides other properties and refuses bad stays', async () => {
    const world = await bookingWorld(t);
    const outsider = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [] });
    const body = { room_type_id: world.roomType.id, check_in: '2031-03-10', check_out: '2031-03-12' };
    expect((await call(t.app, 'POST', '/api/inventory/check/', { token: outsider.token, body })).status).toBe(
      404,
    );
    const backwards = await call(t.app, 'POST', '/api/inventory/check/', {
      token: world.staff.token,
      body: { ...body, check_out: '2031-03-10' },
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.code).toBe('VALIDATION_ERROR');
  });
});

describe('holds', () => {
  it('takes held units, releases them on DELETE (idempotently), with ledger rows', async () => {
    const world = await bookingWorld(t, { units: 3 });
    const hold = await call(t.app, 'POST', '/api/inventory/holds/', {
      token: world.staff.token,
      body: {
        room_type_id: world.roomType.id,
        check_in: '2031-03-10',
        check_out: '2031-03-12',
        units: 2,
        ttl_minutes: 10,
        reference: 'cart-1',
      },
    });
    expect(hold.status).toBe(201);
    expect(hold.body).toMatchObject({ status: 'active', units: 2, reference: 'cart-1' });
    expect(await calendarNight(t, world, '2031-03-11')).toMatchObject({ held_units: 2, available_units: 1 });
    const tooMany = await call(t.app, 'POST', '/api/inventory/holds/', {
      token: world.staff.token,
      body: { room_type_id: world.roomType.id, check_in: '2031-03-11', check_out: '2031-03-12', units: 2 },
    });
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.code).toBe('INVENTORY_UNAVAILABLE');

    const released = await call(t.app, 'DELETE', `/api/inventory/holds/${hold.body.id}/`, {
      token: world.staff.token,
    });
    expect(released.status).toBe(200);
    expect(released.body.status).toBe('released');
    const again = await call(t.app, 'DELETE', `/api/inventory/holds/${hold.body.id}/`, {
      token: world.staff.token,
    });
    expect(again.status).toBe(200);
    expect(await calendarNight(t, world, '2031-03-11')).toMatchObject({ held_units: 0, available_units: 3 });
    expect(await ledgerSum(world.roomType.id, '2031-03-11', 'held_units')).toBe(0);
  });

  it('turns into a reservation without re-checking capacity', async () => {
    const world = await bookingWorld(t, { units: 2 });
    const hold = await call(t.app, 'POST', '/api/inventory/holds/', {
      token: world.staff.token,
      body: { room_type_id: world.roomType.id, check_in: '2031-03-10', check_out: '2031-03-12', units: 2 },
    });
    // The hold keeps its units even when the night is closed afterwards.
    await call(t.app, 'POST', '/api/inventory/adjust/', {
      token: world.admin.token,
      body: {
        room_type_id: world.roomType.id,
        start_date: '2031-03-10',
        end_date: '2031-03-11',
        stop_sell: true,
      },
    });
    const body = reservationBody(world, {
      hold_id: hold.body.id,
      rooms: [{ room_type_id: world.roomType.id }, { room_type_id: world.roomType.id }],
    });
    const booked = await call(t.app, 'POST', '/api/reservations/create/', { token: world.staff.token, body });
    expect(booked.status).toBe(201);
    expect(booked.body.hold_id).toBe(hold.body.id);
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({ held_units: 0, booked_units: 2 });
    const twice = await call(t.app, 'POST', '/api/reservations/create/', { token: world.staff.token, body });
    expect(twice.status, JSON.stringify(twice.body)).toBe(409);
    expect(twice.body.code).toBe('HOLD_NOT_ACTIVE');
    const view = await call(t.app, 'GET', `/api/inventory/holds/${hold.body.id}/`, {
      token: world.staff.token,
    });
    expect(view.body.status).toBe('confirmed');
    const release = await call(t.app, 'DELETE', `/api/inventory/holds/${hold.body.id}/`, {
      token: world.staff.token,
    });
    expect(release.status).toBe(409);
  });

  it('refuses a reservation that does not match its hold', async () => {
    const world = await bookingWorld(t, { units: 4 });
    const hold = await call(t.app, 'POST', '/api/inventory/holds/', {
      token: world.staff.token,
      body: { room_type_id: world.roomType.id, check_in: '2031-03-10', check_out: '2031-03-12', units: 2 },
    });
    const res = await call(t.app, 'POST', '/api/reservations/create/', {
      token: world.staff.token,
      body: reservationBody(world, { hold_id: hold.body.id }),
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('HOLD_MISMATCH');
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({ held_units: 2, booked_units: 0 });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../src/app/dates.ts';
import { type Simulator, startSimulator } from '../../src/modules/integrations/simulator/server.ts';
import { localDate } from '../../src/modules/properties/business-date.ts';
import { inventoryProblems } from '../booking/invariants.ts';
import { call, createTestContext, LOOPBACK_EGRESS, type TestContext } from '../helpers/context.ts';
import { unique, userWithToken } from '../helpers/factories.ts';
import { pmsHotel, syncNow } from '../integrations/pms.helpers.ts';
import { type HotelToday, hotelToday, stayBody, writes } from './world.ts';

/**
 * The sales rules of the front desk: a room is priced on its plan or the property's default plan
 * (or refused), a free stay is an administrator's explicit choice, a unit holds at most its
 * max_occupancy and extra guests are priced as the plan says (quotes and bookings alike), nothing
 * before the business date is sold, an inactive hotel sells nothing (its PMS imports still land),
 * and a new room type is sellable at once. Each refusal is a clear 4xx that writes nothing.
 */

const HORIZON = 40;
let t: TestContext;
let simulator: Simulator;
beforeAll(async () => {
  t = await createTestContext({ env: { ...LOOPBACK_EGRESS, INVENTORY_HORIZON_DAYS: String(HORIZON) } });
  // Most of the simulated PMS's stays (from 30 days before its base date on) are in the past.
  simulator = await startSimulator({
    dialects: ['acme'],
    bookings: 0,
    badRatio: 0,
    seed: 'front-desk',
    baseDate: addDays(localDate('UTC'), -200),
  });
});
afterAll(async () => {
  await simulator?.close();
  await t.close();
});

const create = (token: string, body: unknown) =>
  call(t.app, 'POST', '/api/reservations/create/', { token, body });

/** Sends a request that must be refused with `status` and `code`, and checks it wrote nothing. */
async function refused(
  hotel: HotelToday,
  request: () => Promise<{ status: number; body: any }>,
  status: number,
  code: string,
) {
  const before = await writes(t, hotel.property.id);
  const res = await request();
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.code).toBe(code);
  expect(await writes(t, hotel.property.id)).toEqual(before);
  return res.body;
}

describe('pricing without a rate plan', () => {
  it('refuses a room without a plan when the property has no default (RATE_PLAN_REQUIRED), then uses the default', async () => {
    const hotel = await hotelToday(t);
    await hotel.as('PATCH', `/api/properties/${hotel.property.id}/`, { default_rate_plan_id: null });
    const body = stayBody(hotel, hotel.day(1), hotel.day(3), {
      rooms: [
        { room_type_id: hotel.roomType.id, rate_plan_id: hotel.bar.id },
        { room_type_id: hotel.roomType.id },
      ],
    });
    const problem = await refused(hotel, () => create(hotel.staff.token, body), 422, 'RATE_PLAN_REQUIRED');
    expect(problem.errors).toEqual([
      {
        pointer: '/body/rooms/1/rate_plan_id',
        message: 'is required: the property has no default rate plan',
      },
    ]);

    const patched = await hotel.as('PATCH', `/api/properties/${hotel.property.id}/`, {
      default_rate_plan_id: hotel.bar.id,
    });
    expect(patched.default_rate_plan_id).toBe(hotel.bar.id);
    const res = await create(hotel.staff.token, body);
    expect(res.status).toBe(201);
    expect(res.body.rooms.map((r: any) => [r.rate_plan_id, r.amount])).toEqual([
      [hotel.bar.id, '200.00'],
      [hotel.bar.id, '200.00'],
    ]);
    expect(res.body.total_amount).toBe('400.00');
  });

  it("takes only one of the property's own plans as default, and keeps the default plan from being deleted", async () => {
    const hotel = await hotelToday(t);
    const other = await hotelToday(t);
    for (const planId of [other.bar.id, '00000000-0000-4000-8000-000000000000']) {
      const res = await call(t.app, 'PATCH', `/api/properties/${hotel.property.id}/`, {
        token: hotel.admin.token,
        body: { default_rate_plan_id: planId },
      });
      expect(res.status).toBe(400);
      expect(res.body.errors[0].pointer).toBe('/body/default_rate_plan_id');
    }
    const spare = await hotel.as('POST', '/api/rates/plans/', {
      property_id: hotel.property.id,
      code: unique('SPARE'),
      name: 'Spare',
    });
    await hotel.as('PATCH', `/api/properties/${hotel.property.id}/`, { default_rate_plan_id: spare.id });
    const inUse = await call(t.app, 'DELETE', `/api/rates/plans/${spare.id}/`, { token: hotel.admin.token });
    expect(inUse.status).toBe(409);
    expect(inUse.body.code).toBe('RESOURCE_IN_USE');
    await hotel.as('PATCH', `/api/properties/${hotel.property.id}/`, { default_rate_plan_id: null });
    expect(
      (await call(t.app, 'DELETE', `/api/rates/plans/${spare.id}/`, { token: hotel.admin.token })).status,
    ).toBe(204);
  });

  it('books a complimentary room at 0.00 only for an administrator, audited as such', async () => {
    const hotel = await hotelToday(t);
    const body = stayBody(hotel, hotel.day(1), hotel.day(3), {
      rooms: [{ room_type_id: hotel.roomType.id, complimentary: true }],
    });
    const forbidden = await refused(hotel, () => create(hotel.staff.token, body), 403, 'FORBIDDEN');
    expect(forbidden.detail).toContain('complimentary');
    await refused(
      hotel,
      () =>
        create(hotel.admin.token, {
          ...body,
          rooms: [{ room_type_id: hotel.roomType.id, complimentary: true, rate_plan_id: hotel.bar.id }],
        }),
      400,
      'VALIDATION_ERROR',
    );
    const res = await create(hotel.admin.token, body);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ total_amount: '0.00', currency: 'EUR' });
    expect(res.body.rooms[0]).toMatchObject({ complimentary: true, rate_plan_id: null, amount: '0.00' });
    const audit = await call(t.app, 'GET', `/api/audit/?entity_id=${res.body.id}`, {
      token: hotel.admin.token,
    });
    expect(audit.body.results[0]).toMatchObject({ action: 'reservation.created', actor_id: hotel.admin.id });
    expect(audit.body.results[0].diff.rooms[1][0]).toMatchObject({ complimentary: true, amount: '0.00' });
    // Changing a free stay is an administrator's choice too; it stays free.
    const modify = (token: string) =>
      call(t.app, 'POST', `/api/reservations/${res.body.id}/modify/`, {
        token,
        body: { check_out: hotel.day(4) },
      });
    expect((await modify(hotel.staff.token)).status).toBe(403);
    const moved = await modify(hotel.admin.token);
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ total_amount: '0.00', rooms: [{ complimentary: true }] });
  });
});

describe('occupancy', () => {
  it('refuses more guests than max_occupancy on create, modify, the availability check and the quote', async () => {
    const hotel = await hotelToday(t, { maxOccupancy: 2 });
    const crowded = stayBody(hotel, hotel.day(1), hotel.day(3), {
      rooms: [
        { room_type_id: hotel.roomType.id, adults: 2 },
        { room_type_id: hotel.roomType.id, adults: 1, children: 2 },
      ],
    });
    const problem = await refused(hotel, () => create(hotel.staff.token, crowded), 422, 'OCCUPANCY_EXCEEDED');
    expect(problem.rooms).toEqual([
      { room_type_id: hotel.roomType.id, max_occupancy: 2, adults: 1, children: 2 },
    ]);
    expect(problem.errors[0].pointer).toBe('/body/rooms/1');
    await refused(
      hotel,
      () =>
        create(hotel.staff.token, { ...crowded, rooms: [{ room_type_id: hotel.roomType.id, adults: 5 }] }),
      422,
      'OCCUPANCY_EXCEEDED',
    );

    // Another hotel's room type is missing for this one, whatever its size.
    const other = await hotelToday(t, { maxOccupancy: 1 });
    const foreign = await create(hotel.staff.token, {
      ...crowded,
      rooms: [{ room_type_id: other.roomType.id, adults: 5 }],
    });
    expect(foreign.status).toBe(404);
    const ok = await create(hotel.staff.token, stayBody(hotel, hotel.day(1), hotel.day(3)));
    expect(ok.status).toBe(201);
    const modify = await refused(
      hotel,
      () =>
        call(t.app, 'POST', `/api/reservations/${ok.body.id}/modify/`, {
          token: hotel.staff.token,
          body: { rooms: [{ room_type_id: hotel.roomType.id, adults: 3 }] },
        }),
      422,
      'OCCUPANCY_EXCEEDED',
    );
    expect(modify.errors[0].pointer).toBe('/body/rooms/0');
    const unchanged = await call(t.app, 'GET', `/api/reservations/${ok.body.id}/`, {
      token: hotel.staff.token,
    });
    expect(unchanged.body).toMatchObject({ version: 1, rooms: [{ adults: 1 }] });

    const check = await call(t.app, 'POST', '/api/inventory/check/', {
      token: hotel.staff.token,
      body: {
        room_type_id: hotel.roomType.id,
        check_in: hotel.day(1),
        check_out: hotel.day(2),
        adults: 2,
        children: 1,
      },
    });
    expect(check.status).toBe(422);
    expect(check.body.code).toBe('OCCUPANCY_EXCEEDED');
    const quote = await call(
      t.app,
      'GET',
      `/api/rates/quote/?rate_plan_id=${hotel.bar.id}&room_type_id=${hotel.roomType.id}&check_in=${hotel.day(1)}&check_out=${hotel.day(2)}&adults=3`,
      { token: hotel.staff.token },
    );
    expect(quote.status).toBe(422);
    expect(quote.body.code).toBe('OCCUPANCY_EXCEEDED');
  });

  it('prices extra adults and children above the base occupancy the same in quotes, checks and bookings', async () => {
    const hotel = await hotelToday(t, { maxOccupancy: 4 });
    await hotel.as('PATCH', `/api/rates/plans/${hotel.bar.id}/`, {
      occupancy_pricing: { base_occupancy: 2, extra_adult_amount: '30.00', extra_child_amount: '12.50' },
    });
    const derived = await hotel.as('POST', '/api/rates/plans/', {
      property_id: hotel.property.id,
      code: unique('NRF'),
      name: 'Non-refundable',
      parent_rate_plan_id: hotel.bar.id,
      offset_type: 'percent',
      offset_value: '-10.00',
    });
    expect(derived.occupancy_pricing).toBeNull();
    const nights = [hotel.day(1), hotel.day(2)];
    const cases: Array<[string, number, number, string]> = [
      [hotel.bar.id, 2, 0, '100.00'],
      [hotel.bar.id, 3, 1, '142.50'],
      // Base occupancy counts adults first: one adult leaves one place, so one of two children is extra.
      [hotel.bar.id, 1, 2, '112.50'],
      [derived.id, 3, 1, '128.25'],
    ];
    for (const [planId, adults, children, nightly] of cases) {
      const what = `${planId === derived.id ? 'derived' : 'BAR'} ${adults}+${children}`;
      const quote = await call(
        t.app,
        'GET',
        `/api/rates/quote/?rate_plan_id=${planId}&room_type_id=${hotel.roomType.id}&check_in=${nights[0]}&check_out=${hotel.day(3)}&adults=${adults}&children=${children}`,
        { token: hotel.staff.token },
      );
      expect(quote.status, what).toBe(200);
      expect(
        quote.body.nights.map((n: any) => n.amount),
        what,
      ).toEqual([nightly, nightly]);
      const check = await call(t.app, 'POST', '/api/inventory/check/', {
        token: hotel.staff.token,
        body: {
          room_type_id: hotel.roomType.id,
          check_in: nights[0],
          check_out: hotel.day(3),
          rate_plan_id: planId,
          adults,
          children,
        },
      });
      expect(check.body.quote.nightly, what).toEqual(
        quote.body.nights.map((n: any) => ({ date: n.date, amount: n.amount })),
      );
      const booked = await create(
        hotel.staff.token,
        stayBody(hotel, nights[0]!, hotel.day(3), {
          rooms: [{ room_type_id: hotel.roomType.id, rate_plan_id: planId, adults, children }],
        }),
      );
      expect(booked.status, what).toBe(201);
      expect(booked.body.rooms[0].nightly_prices, what).toEqual(
        quote.body.nights.map((n: any) => ({ date: n.date, amount: n.amount })),
      );
      expect(booked.body.total_amount, what).toBe(quote.body.total);
    }
  });

  it('validates occupancy pricing: base plans only, all fields, sane values', async () => {
    const hotel = await hotelToday(t);
    const bad = [
      { base_occupancy: 2, extra_adult_amount: '30.00' },
      { base_occupancy: 0, extra_adult_amount: '30.00', extra_child_amount: '0.00' },
      { base_occupancy: 2, extra_adult_amount: '-1.00', extra_child_amount: '0.00' },
    ];
    for (const pricing of bad) {
      const res = await call(t.app, 'PATCH', `/api/rates/plans/${hotel.bar.id}/`, {
        token: hotel.admin.token,
        body: { occupancy_pricing: pricing },
      });
      expect(res.status, JSON.stringify(pricing)).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
    }
    const derived = await call(t.app, 'POST', '/api/rates/plans/', {
      token: hotel.admin.token,
      body: {
        property_id: hotel.property.id,
        code: unique('D'),
        name: 'Derived',
        parent_rate_plan_id: hotel.bar.id,
        offset_type: 'amount',
        offset_value: '-5.00',
        occupancy_pricing: { base_occupancy: 2, extra_adult_amount: '30.00', extra_child_amount: '0.00' },
      },
    });
    expect(derived.status).toBe(400);
    expect(derived.body.errors[0].pointer).toBe('/body/occupancy_pricing');
  });
});

describe('the business date', () => {
  it('refuses to sell nights before it (create, modify, hold) and flags them in the availability check', async () => {
    const hotel = await hotelToday(t, { timezone: 'Pacific/Kiritimati' });
    const yesterday = hotel.day(-1);
    const problem = await refused(
      hotel,
      () => create(hotel.staff.token, stayBody(hotel, yesterday, hotel.day(1))),
      422,
      'ARRIVAL_IN_PAST',
    );
    expect(problem).toMatchObject({ business_date: hotel.today, errors: [{ pointer: '/body/check_in' }] });
    await refused(
      hotel,
      () =>
        call(t.app, 'POST', '/api/inventory/holds/', {
          token: hotel.staff.token,
          body: { room_type_id: hotel.roomType.id, check_in: yesterday, check_out: hotel.day(1), units: 1 },
        }),
      422,
      'ARRIVAL_IN_PAST',
    );
    const today = await create(hotel.staff.token, stayBody(hotel, hotel.today, hotel.day(2)));
    expect(today.status).toBe(201);
    await refused(
      hotel,
      () =>
        call(t.app, 'POST', `/api/reservations/${today.body.id}/modify/`, {
          token: hotel.staff.token,
          body: { check_in: yesterday },
        }),
      422,
      'ARRIVAL_IN_PAST',
    );
    const check = await call(t.app, 'POST', '/api/inventory/check/', {
      token: hotel.staff.token,
      body: { room_type_id: hotel.roomType.id, check_in: yesterday, check_out: hotel.day(1) },
    });
    expect(check.status).toBe(200);
    expect(check.body.available).toBe(false);
    expect(check.body.nights.map((n: any) => n.reasons)).toEqual([['PAST_NIGHT'], []]);
  });

  it('opens check-in on the arrival day and the no-show after it', async () => {
    const hotel = await hotelToday(t, { timezone: 'America/Los_Angeles' });
    const tomorrow = await create(hotel.staff.token, stayBody(hotel, hotel.day(1), hotel.day(2)));
    const early = await call(t.app, 'POST', `/api/reservations/${tomorrow.body.id}/check-in/`, {
      token: hotel.staff.token,
    });
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({
      code: 'CHECK_IN_TOO_EARLY',
      check_in: hotel.day(1),
      business_date: hotel.today,
    });
    const arriving = await create(hotel.staff.token, stayBody(hotel, hotel.today, hotel.day(2)));
    const noShow = await call(t.app, 'POST', `/api/reservations/${arriving.body.id}/no-show/`, {
      token: hotel.staff.token,
    });
    expect(noShow.status).toBe(409);
    expect(noShow.body.code).toBe('NO_SHOW_TOO_EARLY');
    const unchanged = await call(t.app, 'GET', `/api/reservations/${arriving.body.id}/`, {
      token: hotel.staff.token,
    });
    expect(unchanged.body).toMatchObject({ status: 'confirmed', version: 1, fee: null });
    const checkIn = await call(t.app, 'POST', `/api/reservations/${arriving.body.id}/check-in/`, {
      token: hotel.staff.token,
    });
    expect(checkIn.status).toBe(200);
    expect(checkIn.body.status).toBe('checked_in');
  });

  it('starts a new property at its local today', async () => {
    const superAdmin = await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' });
    for (const timezone of ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'America/Los_Angeles']) {
      const res = await call(t.app, 'POST', '/api/properties/', {
        token: superAdmin.token,
        body: { code: unique('TZ'), name: timezone, timezone },
      });
      expect(res.status).toBe(201);
      expect(res.body.business_date, timezone).toBe(localDate(timezone));
    }
    // Inserted by other means, the database fills it in; a zone its tzdata lacks starts on the UTC date.
    const raw = await t.db
      .insertInto('property')
      .values([
        { code: unique('RAW'), name: 'raw', timezone: 'Pacific/Kiritimati' },
        { code: unique('RAW'), name: 'raw', timezone: 'Mars/Olympus_Mons' },
      ])
      .returning('business_date')
      .execute();
    expect(raw.map((r) => r.business_date)).toEqual([localDate('Pacific/Kiritimati'), localDate('UTC')]);
  });
});

describe('an inactive property', () => {
  it('sells nothing (bookings, holds, quotes, checks, modifications) but still cancels', async () => {
    const hotel = await hotelToday(t);
    const booked = await create(hotel.staff.token, stayBody(hotel, hotel.day(5), hotel.day(7)));
    await hotel.as('PATCH', `/api/properties/${hotel.property.id}/`, { status: 'inactive' });
    const stay = stayBody(hotel, hotel.day(1), hotel.day(3));
    await refused(hotel, () => create(hotel.staff.token, stay), 409, 'PROPERTY_INACTIVE');
    await refused(
      hotel,
      () =>
        call(t.app, 'POST', '/api/inventory/holds/', {
          token: hotel.staff.token,
          body: {
            room_type_id: hotel.roomType.id,
            check_in: hotel.day(1),
            check_out: hotel.day(2),
            units: 1,
          },
        }),
      409,
      'PROPERTY_INACTIVE',
    );
    await refused(
      hotel,
      () =>
        call(
          t.app,
          'GET',
          `/api/rates/quote/?rate_plan_id=${hotel.bar.id}&room_type_id=${hotel.roomType.id}&check_in=${hotel.day(1)}&check_out=${hotel.day(2)}`,
          { token: hotel.staff.token },
        ),
      409,
      'PROPERTY_INACTIVE',
    );
    await refused(
      hotel,
      () =>
        call(t.app, 'POST', '/api/inventory/check/', {
          token: hotel.staff.token,
          body: { room_type_id: hotel.roomType.id, check_in: hotel.day(1), check_out: hotel.day(2) },
        }),
      409,
      'PROPERTY_INACTIVE',
    );
    await refused(
      hotel,
      () =>
        call(t.app, 'POST', `/api/reservations/${booked.body.id}/modify/`, {
          token: hotel.staff.token,
          body: { check_out: hotel.day(8) },
        }),
      409,
      'PROPERTY_INACTIVE',
    );
    const cancelled = await call(t.app, 'POST', `/api/reservations/${booked.body.id}/cancel/`, {
      token: hotel.staff.token,
    });
    expect(cancelled.status).toBe(200);
    expect(await inventoryProblems(t.db, hotel.property.id)).toEqual([]);
  });

  it("still takes its PMS's bookings (the PMS is the truth), past nights included", async () => {
    const superAdmin = await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' });
    const h = await pmsHotel(t, simulator, 'acme', { bookings: 30, token: superAdmin.token });
    const patched = await call(t.app, 'PATCH', `/api/properties/${h.property.id}/`, {
      token: superAdmin.token,
      body: { status: 'inactive' },
    });
    expect(patched.body.status).toBe('inactive');
    const run = await syncNow(t, h);
    expect(run.status).toBe('succeeded');
    const imported = await t.db
      .selectFrom('reservation')
      .select(['check_in', 'status'])
      .where('property_id', '=', h.property.id)
      .where('source', '=', 'pms:acme')
      .execute();
    expect(imported).toHaveLength(30);
    expect(imported.some((r) => r.check_in < h.property.business_date)).toBe(true);
  });
});

describe('a new room type', () => {
  it('is sellable at once: its nights are loaded from the business date over the horizon', async () => {
    const hotel = await hotelToday(t);
    const res = await call(t.app, 'POST', `/api/properties/${hotel.property.id}/room-types/`, {
      token: hotel.admin.token,
      body: { code: unique('NEW'), name: 'New suite', total_units: 3, max_occupancy: 2 },
    });
    expect(res.status).toBe(201);
    const calendar = await t.db
      .selectFrom('inventory_calendar')
      .select(['date', 'total_units'])
      .where('room_type_id', '=', res.body.id)
      .orderBy('date')
      .execute();
    expect(calendar).toHaveLength(HORIZON);
    expect(calendar[0]).toEqual({ date: hotel.today, total_units: 3 });
    expect(calendar.at(-1)!.date).toBe(hotel.day(HORIZON - 1));
    const check = await call(t.app, 'POST', '/api/inventory/check/', {
      token: hotel.staff.token,
      body: {
        room_type_id: res.body.id,
        check_in: hotel.day(HORIZON - 1),
        check_out: hotel.day(HORIZON + 1),
      },
    });
    expect(check.body.nights.map((n: any) => n.reasons)).toEqual([[], ['NOT_LOADED']]);
    const events = await t.db
      .selectFrom('outbox_event')
      .select('envelope')
      .where('property_id', '=', hotel.property.id)
      .where('type', '=', 'pms.inventory.updated')
      .execute();
    expect(events.map((e) => (e.envelope as any).data).filter((d) => d.room_type_id === res.body.id)).toEqual(
      [
        expect.objectContaining({
          reason: 'preload',
          start_date: hotel.today,
          end_date: hotel.day(HORIZON - 1),
          nights_created: HORIZON,
        }),
      ],
    );
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bookingWorld,
  calendarNight,
  priceOnDefaultPlan,
  ratePlanWithAmount,
  reservationBody,
  setBusinessDate,
} from '../../../test/booking/world.ts';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { createRoom, createRoomType, userWithToken } from '../../../test/helpers/factories.ts';

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(() => t.close());

const create = (token: string, body: unknown, headers?: Record<string, string>) =>
  call(t.app, 'POST', '/api/reservations/create/', { token, body, ...(headers && { headers }) });

async function eventsOf(propertyId: string, type: string) {
  const rows = await t.db
    .selectFrom('outbox_event')
    .select('envelope')
    .where('property_id', '=', propertyId)
    .where('type', '=', type)
    .orderBy('seq')
    .execute();
  return rows.map((row) => row.envelope as any);
}

describe('POST /api/reservations/create/', () => {
  it('books one or more rooms of several room types, priced, with events and an audit row', async () => {
    const world = await bookingWorld(t, { units: 5 });
    const suite = await createRoomType(t.db, world.property.id, { totalUnits: 2 });
    await call(t.app, 'POST', '/api/inventory/preload/', {
      token: world.admin.token,
      body: { room_type_id: suite.id, start_date: '2031-03-01', end_date: '2031-03-31' },
    });
    await priceOnDefaultPlan(t, world, suite.id, '150.00');
    const plan = await ratePlanWithAmount(t, world, { amount: '99.90' });
    const res = await create(
      world.staff.token,
      reservationBody(world, {
        guest: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.test' },
        rooms: [
          { room_type_id: world.roomType.id, rate_plan_id: plan.id, adults: 2 },
          { room_type_id: world.roomType.id, rate_plan_id: plan.id },
          { room_type_id: suite.id },
        ],
      }),
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      property_id: world.property.id,
      status: 'confirmed',
      check_in: '2031-03-10',
      check_out: '2031-03-12',
      nights: 2,
      source: 'direct',
      total_amount: '699.60',
      currency: 'EUR',
      version: 1,
      guest: {
        first_name: 'Ada',
        last_name: 'Lovelace',
        full_name: 'Ada Lovelace',
        email: 'ada@example.test',
      },
    });
    expect(res.body.confirmation_code).toMatch(/^[A-Z2-9]{10}$/);
    // The room without a rate plan is priced on the property's default plan.
    expect(res.body.rooms.map((r: any) => r.amount)).toEqual(['199.80', '199.80', '300.00']);
    expect(res.body.rooms[2].rate_plan_id).toBe(world.defaultPlan!.id);
    expect(res.body.rooms[0].nightly_prices).toEqual([
      { date: '2031-03-10', amount: '99.90' },
      { date: '2031-03-11', amount: '99.90' },
    ]);
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({
      booked_units: 2,
      available_units: 3,
    });
    expect(await calendarNight(t, world, '2031-03-11', suite.id)).toMatchObject({ booked_units: 1 });
    expect(await calendarNight(t, world, '2031-03-12')).toMatchObject({ booked_units: 0 });

    const fetched = await call(t.app, 'GET', `/api/reservations/${res.body.id}/`, {
      token: world.staff.token,
    });
    expect(fetched.body, JSON.stringify([fetched.body, res.body])).toEqual(res.body);
    const byCode = await call(t.app, 'GET', `/api/reservations/by-code/${res.body.confirmation_code}/`, {
      token: world.staff.token,
    });
    expect(byCode.body.id).toBe(res.body.id);

    const created = await eventsOf(world.property.id, 'pms.reservation.created');
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ specversion: '1.0', subject: world.property.id });
    expect(created[0].data.reservation.id).toBe(res.body.id);
    const updated = await eventsOf(world.property.id, 'pms.inventory.updated');
    const fromBooking = updated.filter((e) => e.data.reason === 'reservation.created');
    expect(fromBooking.map((e) => e.data.room_type_id).sort()).toEqual([world.roomType.id, suite.id].sort());
    expect(fromBooking.find((e) => e.data.room_type_id === world.roomType.id).data.nights).toMatchObject([
      { date: '2031-03-10', booked_units: 2 },
      { date: '2031-03-11', booked_units: 2 },
    ]);
    const audit = await call(t.app, 'GET', `/api/audit/?entity_type=reservation&entity_id=${res.body.id}`, {
      token: world.admin.token,
    });
    expect(audit.body.results).toHaveLength(1);
    expect(audit.body.results[0]).toMatchObject({
      action: 'reservation.created',
      actor_id: world.staff.id,
      actor_role: 'STAFF',
    });
    expect(audit.body.results[0].diff.total_amount).toEqual([null, '699.60']);
  });

  it('refuses a sold-out night with INVENTORY_UNAVAILABLE naming it, and writes nothing', async () => {
    const world = await bookingWorld(t, { units: 1 });
    expect((await create(world.staff.token, reservationBody(world, { check_in: '2031-03-11' }))).status).toBe(
      201,
    );
    const before = await t.db
      .selectFrom('reservation')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    const res = await create(
      world.staff.token,
      reservationBody(world, { check_in: '2031-03-10', check_out: '2031-03-13' }),
    );
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('INVENTORY_UNAVAILABLE');
    expect(res.body.nights).toEqual([
      { room_type_id: world.roomType.id, date: '2031-03-11', reason: 'SOLD_OUT', available_units: 0 },
    ]);
    const after = await t.db
      .selectFrom('reservation')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({ booked_units: 0 });
  });

  it('refuses nights that are not loaded, on stop-sell, and overbooked by imports', async () => {
    const world = await bookingWorld(t, { units: 3, end: '2031-03-20' });
    const unloaded = await create(
      world.staff.token,
      reservationBody(world, { check_in: '2031-03-20', check_out: '2031-03-22' }),
    );
    expect(unloaded.status).toBe(409);
    expect(unloaded.body.nights.map((n: any) => [n.date, n.reason])).toEqual([['2031-03-21', 'NOT_LOADED']]);
    await call(t.app, 'POST', '/api/inventory/adjust/', {
      token: world.admin.token,
      body: {
        room_type_id: world.roomType.id,
        start_date: '2031-03-15',
        end_date: '2031-03-15',
        stop_sell: true,
      },
    });
    const closed = await create(
      world.staff.token,
      reservationBody(world, { check_in: '2031-03-15', check_out: '2031-03-16' }),
    );
    expect(closed.body.nights[0].reason).toBe('STOP_SELL');
  });

  it('prices from the rate plan and refuses rate restrictions with RESTRICTION_VIOLATED', async () => {
    const world = await bookingWorld(t, { units: 3 });
    const plan = await ratePlanWithAmount(t, world, { amount: '120.00' });
    const setDaily = (body: Record<string, unknown>) =>
      call(t.app, 'PUT', '/api/rates/daily/', {
        token: world.admin.token,
        body: { rate_plan_id: plan.id, room_type_id: world.roomType.id, ...body },
      });
    await setDaily({ start_date: '2031-03-05', end_date: '2031-03-05', closed_to_arrival: true });
    await setDaily({ start_date: '2031-03-08', end_date: '2031-03-08', closed_to_departure: true });
    await setDaily({ start_date: '2031-03-15', end_date: '2031-03-15', min_stay: 3 });
    await setDaily({ start_date: '2031-03-20', end_date: '2031-03-20', max_stay: 1 });
    await setDaily({ start_date: '2031-03-25', end_date: '2031-03-25', stop_sell: true });
    const cases: Array<[string, string, string, string]> = [
      ['2031-03-05', '2031-03-06', '2031-03-05', 'CLOSED_TO_ARRIVAL'],
      ['2031-03-06', '2031-03-08', '2031-03-07', 'CLOSED_TO_DEPARTURE'],
      ['2031-03-15', '2031-03-17', '2031-03-15', 'MIN_STAY'],
      ['2031-03-20', '2031-03-22', '2031-03-20', 'MAX_STAY'],
      ['2031-03-24', '2031-03-26', '2031-03-25', 'STOP_SELL'],
    ];
    for (const [checkIn, checkOut, date, reason] of cases) {
      const res = await create(
        world.staff.token,
        reservationBody(world, {
          check_in: checkIn,
          check_out: checkOut,
          rooms: [{ room_type_id: world.roomType.id, rate_plan_id: plan.id }],
        }),
      );
      expect(res.status, reason).toBe(409);
      expect(res.body.code).toBe('RESTRICTION_VIOLATED');
      expect(res.body.nights).toContainEqual({
        room_type_id: world.roomType.id,
        rate_plan_id: plan.id,
        date,
        reasons: [reason],
      });
    }
    const ok = await create(
      world.staff.token,
      reservationBody(world, {
        check_in: '2031-03-15',
        check_out: '2031-03-18',
        rooms: [{ room_type_id: world.roomType.id, rate_plan_id: plan.id }],
      }),
    );
    expect(ok.status).toBe(201);
    expect(ok.body.total_amount).toBe('360.00');
    const noRate = await create(
      world.staff.token,
      reservationBody(world, {
        check_in: '2031-04-10',
        check_out: '2031-04-11',
        rooms: [{ room_type_id: world.roomType.id, rate_plan_id: plan.id }],
      }),
    );
    expect(noRate.status).toBe(409);
    expect(noRate.body.code).toBe('RESTRICTION_VIOLATED');
    expect(noRate.body.nights[0].reasons).toEqual(['NO_RATE']);
  });

  it('prices exactly across rate changes and derived plans', async () => {
    const world = await bookingWorld(t, { units: 5 });
    const base = await ratePlanWithAmount(t, world, { amount: '100.00' });
    await call(t.app, 'PUT', '/api/rates/daily/', {
      token: world.admin.token,
      body: {
        rate_plan_id: base.id,
        room_type_id: world.roomType.id,
        start_date: '2031-03-11',
        end_date: '2031-03-11',
        amount: '133.33',
      },
    });
    const derived = await call(t.app, 'POST', '/api/rates/plans/', {
      token: world.admin.token,
      body: {
        property_id: world.property.id,
        code: 'NONREF',
        name: 'Non-refundable',
        parent_rate_plan_id: base.id,
        offset_type: 'percent',
        offset_value: '-10.00',
      },
    });
    expect(derived.status).toBe(201);
    const body = (planId: string) =>
      reservationBody(world, {
        check_in: '2031-03-10',
        check_out: '2031-03-13',
        rooms: [{ room_type_id: world.roomType.id, rate_plan_id: planId }],
      });
    const onBase = await create(world.staff.token, body(base.id));
    expect(onBase.body.rooms[0].nightly_prices.map((n: any) => n.amount)).toEqual([
      '100.00',
      '133.33',
      '100.00',
    ]);
    expect(onBase.body.total_amount).toBe('333.33');
    const onDerived = await create(world.staff.token, body(derived.body.id));
    expect(onDerived.body.rooms[0].nightly_prices.map((n: any) => n.amount)).toEqual([
      '90.00',
      '120.00',
      '90.00',
    ]);
    expect(onDerived.body.total_amount).toBe('300.00');
    // The derived plan follows its parent's change; existing reservations keep their price.
    await call(t.app, 'PUT', '/api/rates/daily/', {
      token: world.admin.token,
      body: {
        rate_plan_id: base.id,
        room_type_id: world.roomType.id,
        start_date: '2031-03-10',
        end_date: '2031-03-12',
        amount: '80.05',
      },
    });
    const later = await create(world.staff.token, body(derived.body.id));
    expect(later.body.rooms[0].nightly_prices.map((n: any) => n.amount)).toEqual(['72.05', '72.05', '72.05']);
    expect(later.body.total_amount).toBe('216.15');
    const again = await call(t.app, 'GET', `/api/reservations/${onDerived.body.id}/`, {
      token: world.staff.token,
    });
    expect(again.body.total_amount).toBe('300.00');
  });

  it('validates the body and scopes to the user properties', async () => {
    const world = await bookingWorld(t);
    const other = await bookingWorld(t);
    expect((await create(world.staff.token, reservationBody(other))).status).toBe(404);
    const foreignRoomType = await create(
      world.staff.token,
      reservationBody(world, { rooms: [{ room_type_id: other.roomType.id }] }),
    );
    expect(foreignRoomType.status).toBe(404);
    for (const body of [
      reservationBody(world, { guest: {} }),
      reservationBody(world, { rooms: [] }),
      reservationBody(world, { check_out: '2031-03-10' }),
      reservationBody(world, { extra: 1 }),
      reservationBody(world, { check_in: 'tomorrow' }),
    ]) {
      const res = await create(world.staff.token, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
    }
    expect(
      (await call(t.app, 'POST', '/api/reservations/create/', { body: reservationBody(world) })).status,
    ).toBe(401);
  });
});

describe('Idempotency-Key', () => {
  it('replays the same key and body without booking twice; refuses the key with another body', async () => {
    const world = await bookingWorld(t, { units: 5 });
    const body = reservationBody(world);
    const headers = { 'idempotency-key': 'order-42' };
    const first = await create(world.staff.token, body, headers);
    expect(first.status).toBe(201);
    const replay = await create(world.staff.token, { ...body, guest: { ...body.guest } }, headers);
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({ booked_units: 1 });
    const reused = await create(world.staff.token, { ...body, check_out: '2031-03-13' }, headers);
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // Keys belong to their user: another user's identical key is a new request.
    const colleague = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [world.property.id] });
    const theirs = await create(colleague.token, body, headers);
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(first.body.id);
  });

  it('books once when the same request races itself', async () => {
    const world = await bookingWorld(t, { units: 30 });
    const body = reservationBody(world);
    const headers = { 'idempotency-key': 'racing-key' };
    const results = await Promise.all(
      Array.from({ length: 12 }, () => create(world.staff.token, body, headers)),
    );
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(201));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({ booked_units: 1 });
  });

  it('forgets a refused request, so its retry is decided afresh; purges expired keys', async () => {
    const world = await bookingWorld(t, { units: 1 });
    const blocker = await create(world.staff.token, reservationBody(world));
    const headers = { 'idempotency-key': 'retry-me' };
    const body = reservationBody(world);
    expect((await create(world.staff.token, body, headers)).status).toBe(409);
    await call(t.app, 'POST', `/api/reservations/${blocker.body.id}/cancel/`, { token: world.staff.token });
    expect((await create(world.staff.token, body, headers)).status).toBe(201);

    const { purgeExpiredIdempotencyKeys } = await import('./reservation.service.ts');
    await t.db
      .updateTable('idempotency_key')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('key', '=', 'retry-me')
      .execute();
    expect(await purgeExpiredIdempotencyKeys(t.db)).toBeGreaterThanOrEqual(1);
    const gone = await t.db.selectFrom('idempotency_key').selectAll().where('key', '=', 'retry-me').execute();
    expect(gone).toHaveLength(0);
  });

  it('rejects a malformed key', async () => {
    const world = await bookingWorld(t);
    const res = await create(world.staff.token, reservationBody(world), {
      'idempotency-key': 'x'.repeat(201),
    });
    expect(res.status).toBe(400);
  });
});

describe('lifecycle', () => {
  async function booked(
    world: Awaited<ReturnType<typeof bookingWorld>>,
    overrides: Record<string, unknown> = {},
  ) {
    const res = await create(world.staff.token, reservationBody(world, overrides));
    expect(res.status).toBe(201);
    return res.body;
  }
  const act = (token: string, id: string, action: string) =>
    call(t.app, 'POST', `/api/reservations/${id}/${action}/`, { token });

  it('cancels once, releasing the nights once, and stays cancelled on repeat', async () => {
    const world = await bookingWorld(t, { units: 2 });
    const reservation = await booked(world);
    const first = await act(world.staff.token, reservation.id, 'cancel');
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('cancelled');
    expect(first.body.cancelled_at).not.toBeNull();
    const second = await act(world.staff.token, reservation.id, 'cancel');
    expect(second.status).toBe(200);
    expect(second.body.version).toBe(first.body.version);
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({ booked_units: 0 });
    expect(await eventsOf(world.property.id, 'pms.reservation.cancelled')).toHaveLength(1);
  });

  it('allows every transition of the state machine and refuses the others with the current state', async () => {
    const world = await bookingWorld(t, { units: 20 });
    // The arrival day: check-in opens; a no-show needs the day after (the business date past check-in).
    await setBusinessDate(t.db, world.property.id, '2031-03-10');
    const onTheDay = async (actions: string[], run: () => Promise<void>) => {
      if (actions.includes('no-show')) await setBusinessDate(t.db, world.property.id, '2031-03-11');
      await run();
      await setBusinessDate(t.db, world.property.id, '2031-03-10');
    };
    const allowed: Array<[string, string[], string]> = [
      ['tentative', ['confirm'], 'confirmed'],
      ['tentative', ['check-in'], 'checked_in'],
      ['tentative', ['no-show'], 'no_show'],
      ['tentative', ['cancel'], 'cancelled'],
      ['confirmed', ['check-in'], 'checked_in'],
      ['confirmed', ['check-in', 'check-out'], 'checked_out'],
      ['confirmed', ['no-show'], 'no_show'],
      ['confirmed', ['cancel'], 'cancelled'],
    ];
    for (const [initial, actions, final] of allowed) {
      const reservation = await booked(world, { status: initial });
      let last: any;
      await onTheDay(actions, async () => {
        for (const action of actions) {
          last = await act(world.staff.token, reservation.id, action);
          expect(last.status, `${initial} → ${action}`).toBe(200);
        }
      });
      expect(last.body.status).toBe(final);
    }
    const refused: Array<[string[], string]> = [
      [[], 'confirm'],
      [[], 'check-out'],
      [['check-in'], 'cancel'],
      [['check-in'], 'no-show'],
      [['check-in'], 'check-in'],
      [['check-in', 'check-out'], 'check-in'],
      [['check-in', 'check-out'], 'cancel'],
      [['cancel'], 'check-in'],
      [['cancel'], 'no-show'],
      [['no-show'], 'cancel'],
      [['no-show'], 'check-in'],
    ];
    for (const [setup, action] of refused) {
      const reservation = await booked(world);
      let state = 'confirmed';
      let res: any;
      await onTheDay([...setup, action], async () => {
        for (const step of setup) state = (await act(world.staff.token, reservation.id, step)).body.status;
        res = await act(world.staff.token, reservation.id, action);
      });
      expect(res.status, `${state} → ${action}`).toBe(409);
      expect(res.body.code).toBe('INVALID_STATE_TRANSITION');
      expect(res.body.current_status).toBe(state);
      expect(res.body.detail).toContain(state);
    }
  });

  it('releases nights on no-show and keeps them for check-in and check-out', async () => {
    const world = await bookingWorld(t, { units: 5 });
    await setBusinessDate(t.db, world.property.id, '2031-03-10');
    const stay = await booked(world);
    expect((await act(world.staff.token, stay.id, 'check-in')).status).toBe(200);
    expect((await act(world.staff.token, stay.id, 'check-out')).status).toBe(200);
    const noShow = await booked(world);
    await setBusinessDate(t.db, world.property.id, '2031-03-11');
    expect((await act(world.staff.token, noShow.id, 'no-show')).status).toBe(200);
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({ booked_units: 1 });
  });

  it('hides another property reservation (404) and audits transitions', async () => {
    const world = await bookingWorld(t);
    const reservation = await booked(world);
    const outsider = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [] });
    expect((await act(outsider.token, reservation.id, 'cancel')).status).toBe(404);
    expect(
      (await call(t.app, 'GET', `/api/reservations/${reservation.id}/`, { token: outsider.token })).status,
    ).toBe(404);
    await setBusinessDate(t.db, world.property.id, '2031-03-10');
    await act(world.staff.token, reservation.id, 'check-in');
    const audit = await call(t.app, 'GET', `/api/audit/?entity_id=${reservation.id}`, {
      token: world.admin.token,
    });
    expect(audit.body.results.map((r: any) => r.action)).toEqual([
      'reservation.checked_in',
      'reservation.created',
    ]);
    expect(audit.body.results[0].diff.status).toEqual(['confirmed', 'checked_in']);
    expect((await call(t.app, 'GET', '/api/audit/', { token: world.staff.token })).status).toBe(403);
  });
});

describe('POST /api/reservations/{id}/modify/', () => {
  it('moves the dates as one swap, repriced, overlapping nights kept', async () => {
    const world = await bookingWorld(t, { units: 1 });
    const plan = await ratePlanWithAmount(t, world, { amount: '50.00' });
    const reservation = await create(
      world.staff.token,
      reservationBody(world, {
        check_in: '2031-03-10',
        check_out: '2031-03-12',
        rooms: [{ room_type_id: world.roomType.id, rate_plan_id: plan.id }],
      }),
    );
    // With one unit, only a swap that frees 03-10 while taking 03-12 can succeed.
    const res = await call(t.app, 'POST', `/api/reservations/${reservation.body.id}/modify/`, {
      token: world.staff.token,
      body: { check_in: '2031-03-11', check_out: '2031-03-14' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      check_in: '2031-03-11',
      check_out: '2031-03-14',
      total_amount: '150.00',
      version: 2,
    });
    const nights = await Promise.all(
      ['2031-03-10', '2031-03-11', '2031-03-13', '2031-03-14'].map((d) => calendarNight(t, world, d)),
    );
    expect(nights.map((n) => n.booked_units)).toEqual([0, 1, 1, 0]);
    const events = await eventsOf(world.property.id, 'pms.reservation.modified');
    expect(events.at(-1).data.previous).toMatchObject({ check_in: '2031-03-10', check_out: '2031-03-12' });
  });

  it('changes the room type, and refuses (changing nothing) when the new nights are taken', async () => {
    const world = await bookingWorld(t, { units: 2 });
    const suite = await createRoomType(t.db, world.property.id, { totalUnits: 1 });
    await call(t.app, 'POST', '/api/inventory/preload/', {
      token: world.admin.token,
      body: { room_type_id: suite.id, start_date: '2031-03-01', end_date: '2031-03-31' },
    });
    await priceOnDefaultPlan(t, world, suite.id);
    const a = await create(world.staff.token, reservationBody(world));
    const b = await create(world.staff.token, reservationBody(world));
    const moved = await call(t.app, 'POST', `/api/reservations/${a.body.id}/modify/`, {
      token: world.staff.token,
      body: { rooms: [{ room_type_id: suite.id }] },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.rooms[0].room_type_id).toBe(suite.id);
    const refused = await call(t.app, 'POST', `/api/reservations/${b.body.id}/modify/`, {
      token: world.staff.token,
      body: { rooms: [{ room_type_id: suite.id }] },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('INVENTORY_UNAVAILABLE');
    const still = await call(t.app, 'GET', `/api/reservations/${b.body.id}/`, { token: world.staff.token });
    expect(still.body.rooms[0].room_type_id).toBe(world.roomType.id);
    expect(still.body.version).toBe(1);
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({ booked_units: 1 });
    expect(await calendarNight(t, world, '2031-03-10', suite.id)).toMatchObject({ booked_units: 1 });
  });

  it('refuses to modify a cancelled or checked-in reservation', async () => {
    const world = await bookingWorld(t);
    const reservation = await create(world.staff.token, reservationBody(world));
    await call(t.app, 'POST', `/api/reservations/${reservation.body.id}/cancel/`, {
      token: world.staff.token,
    });
    const res = await call(t.app, 'POST', `/api/reservations/${reservation.body.id}/modify/`, {
      token: world.staff.token,
      body: { check_out: '2031-03-13' },
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('INVALID_STATE_TRANSITION');
    expect(res.body.current_status).toBe('cancelled');
  });
});

describe('POST /api/reservations/{id}/assign-room/', () => {
  it('assigns a room of the booked type, refusing clashes, other types and out-of-order rooms', async () => {
    const world = await bookingWorld(t, { units: 3 });
    const room = await createRoom(t.db, world.property.id, world.roomType.id, { number: '101' });
    const broken = await createRoom(t.db, world.property.id, world.roomType.id, { number: '102' });
    const block = await call(
      t.app,
      'POST',
      `/api/properties/${world.property.id}/rooms/${broken.id}/out-of-order/`,
      {
        token: world.admin.token,
        body: { start_date: '2031-03-12', end_date: '2031-03-20' },
      },
    );
    expect(block.status).toBe(201);
    const otherType = await createRoomType(t.db, world.property.id);
    const wrong = await createRoom(t.db, world.property.id, otherType.id, { number: '201' });
    const a = await create(world.staff.token, reservationBody(world));
    const b = await create(
      world.staff.token,
      reservationBody(world, { check_in: '2031-03-11', check_out: '2031-03-13' }),
    );
    const assign = (id: string, roomId: string | null) =>
      call(t.app, 'POST', `/api/reservations/${id}/assign-room/`, {
        token: world.staff.token,
        body: { room_id: roomId },
      });
    const ok = await assign(a.body.id, room.id);
    expect(ok.status).toBe(200);
    expect(ok.body.rooms[0].room_id).toBe(room.id);
    const clash = await assign(b.body.id, room.id);
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('ROOM_UNAVAILABLE');
    expect((await assign(b.body.id, broken.id)).status).toBe(409);
    expect((await assign(b.body.id, wrong.id)).status).toBe(409);
    expect((await assign(a.body.id, null)).body.rooms[0].room_id).toBeNull();
    expect((await assign(b.body.id, room.id)).status).toBe(200);
  });
});

describe('GET /api/reservations/', () => {
  it('filters by status, arrival, departure, guest and source, with cursor pagination', async () => {
    const world = await bookingWorld(t, { units: 10 });
    const ids: string[] = [];
    for (let day = 10; day < 15; day++) {
      const res = await create(
        world.staff.token,
        reservationBody(world, {
          check_in: `2031-03-${day}`,
          check_out: `2031-03-${day + 2}`,
          guest: { full_name: `Guest ${day}`, email: `g${day}@example.test` },
        }),
      );
      ids.push(res.body.id);
    }
    await call(t.app, 'POST', `/api/reservations/${ids[0]}/cancel/`, { token: world.staff.token });
    const list = (query: string) =>
      call(t.app, 'GET', `/api/reservations/?property_id=${world.property.id}&${query}`, {
        token: world.staff.token,
      });

    const page1 = await list('limit=2');
    expect(page1.body.results.map((r: any) => r.id)).toEqual([ids[4], ids[3]]);
    const page2 = await list(`limit=2&cursor=${page1.body.next_cursor}`);
    expect(page2.body.results.map((r: any) => r.id)).toEqual([ids[2], ids[1]]);
    const page3 = await list(`limit=2&cursor=${page2.body.next_cursor}`);
    expect(page3.body.results.map((r: any) => r.id)).toEqual([ids[0]]);
    expect(page3.body.next_cursor).toBeNull();

    expect((await list('status=cancelled')).body.results.map((r: any) => r.id)).toEqual([ids[0]]);
    expect((await list('status=cancelled&status=confirmed')).body.results).toHaveLength(5);
    expect(
      (await list('arrival_from=2031-03-11&arrival_to=2031-03-12')).body.results.map((r: any) => r.id),
    ).toEqual([ids[2], ids[1]]);
    expect((await list('departure_from=2031-03-16')).body.results.map((r: any) => r.id)).toEqual([ids[4]]);
    expect((await list('guest=g13@')).body.results.map((r: any) => r.id)).toEqual([ids[3]]);
    expect((await list('source=direct')).body.results).toHaveLength(5);
    expect((await list('source=pms:opera')).body.results).toHaveLength(0);
    expect((await list('cursor=garbage')).status).toBe(400);

    const outsider = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [] });
    const hidden = await call(t.app, 'GET', `/api/reservations/?property_id=${world.property.id}`, {
      token: outsider.token,
    });
    expect(hidden.body.results).toHaveLength(0);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { createProperty, createRoomType, unique, userWithToken } from '../../../test/helpers/factories.ts';

let t: TestContext;
let hotel: string;
let otherHotel: string;
let double: string;
let suite: string;
let foreignRoomType: string;
let adminToken: string;
let staffToken: string;
let otherAdminToken: string;

beforeAll(async () => {
  t = await createTestContext();
  hotel = (await createProperty(t.db, { currency: 'EUR' })).id;
  otherHotel = (await createProperty(t.db)).id;
  double = (await createRoomType(t.db, hotel, { code: 'DBL' })).id;
  suite = (await createRoomType(t.db, hotel, { code: 'STE' })).id;
  foreignRoomType = (await createRoomType(t.db, otherHotel)).id;
  adminToken = (await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [hotel] })).token;
  staffToken = (await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [hotel] })).token;
  otherAdminToken = (await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [otherHotel] }))
    .token;
});
afterAll(() => t.close());

async function createPlan(body: Record<string, unknown> = {}) {
  const res = await call(t.app, 'POST', '/api/rates/plans/', {
    token: adminToken,
    body: { property_id: hotel, code: unique('P'), name: 'Plan', ...body },
  });
  if (res.status !== 201) throw new Error(`plan not created: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string };
}

function setDaily(body: Record<string, unknown>, token = adminToken) {
  return call(t.app, 'PUT', '/api/rates/daily/', { token, body });
}

async function rows(ratePlanId: string) {
  return t.db
    .selectFrom('daily_rate')
    .select([
      'room_type_id',
      'date',
      'amount',
      'min_stay',
      'max_stay',
      'closed_to_arrival',
      'closed_to_departure',
      'stop_sell',
    ])
    .where('rate_plan_id', '=', ratePlanId)
    .orderBy('room_type_id')
    .orderBy('date')
    .execute();
}

async function grid(query: string, token = adminToken) {
  return call(t.app, 'GET', `/api/rates/grid/?property_id=${hotel}&${query}`, { token });
}

describe('PUT /api/rates/daily/', () => {
  it('writes exactly the nights of the day-of-week mask, for every room type', async () => {
    const plan = await createPlan();
    // 2031-03-03 is a Monday; the range holds two Fridays and two Saturdays.
    const res = await setDaily({
      rate_plan_id: plan.id,
      room_type_ids: [double, suite],
      start_date: '2031-03-03',
      end_date: '2031-03-16',
      days_of_week: ['fri', 'sat'],
      amount: '149.90',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      nights: 4,
      changed: 8,
      days_of_week: ['fri', 'sat'],
      fields: ['amount'],
    });
    const written = await rows(plan.id);
    expect(written).toHaveLength(8);
    for (const roomType of [double, suite]) {
      expect(written.filter((r) => r.room_type_id === roomType).map((r) => r.date)).toEqual([
        '2031-03-07',
        '2031-03-08',
        '2031-03-14',
        '2031-03-15',
      ]);
    }
    expect(new Set(written.map((r) => r.amount))).toEqual(new Set(['149.90']));

    // ISO weekday numbers mean the same: 7 is Sunday.
    const sundays = await setDaily({
      rate_plan_id: plan.id,
      room_type_id: double,
      start_date: '2031-03-03',
      end_date: '2031-03-16',
      days_of_week: [7],
      amount: '99',
    });
    expect(sundays.body).toMatchObject({ nights: 2, changed: 2, days_of_week: ['sun'] });
    expect((await rows(plan.id)).filter((r) => r.amount === '99.00').map((r) => r.date)).toEqual([
      '2031-03-09',
      '2031-03-16',
    ]);
  });

  it('changes only the fields it is given', async () => {
    const plan = await createPlan();
    const base = {
      rate_plan_id: plan.id,
      room_type_id: double,
      start_date: '2031-04-01',
      end_date: '2031-04-05',
    };
    await setDaily({ ...base, amount: '100.00', max_stay: 7, closed_to_departure: true });
    await setDaily({ ...base, start_date: '2031-04-02', end_date: '2031-04-03', min_stay: 2 });
    await setDaily({ ...base, end_date: '2031-04-02', stop_sell: true });
    await setDaily({ ...base, start_date: '2031-04-05', amount: '120.50' });
    expect(await rows(plan.id)).toEqual([
      { ...cell('2031-04-01', '100.00'), max_stay: 7, closed_to_departure: true, stop_sell: true },
      {
        ...cell('2031-04-02', '100.00'),
        min_stay: 2,
        max_stay: 7,
        closed_to_departure: true,
        stop_sell: true,
      },
      { ...cell('2031-04-03', '100.00'), min_stay: 2, max_stay: 7, closed_to_departure: true },
      { ...cell('2031-04-04', '100.00'), max_stay: 7, closed_to_departure: true },
      { ...cell('2031-04-05', '120.50'), max_stay: 7, closed_to_departure: true },
    ]);
    // Nulls clear a value; unmentioned fields still stay.
    await setDaily({ ...base, max_stay: null });
    expect((await rows(plan.id)).map((r) => [r.max_stay, r.amount])).toEqual([
      [null, '100.00'],
      [null, '100.00'],
      [null, '100.00'],
      [null, '100.00'],
      [null, '120.50'],
    ]);

    function cell(date: string, amount: string) {
      return {
        room_type_id: double,
        date,
        amount,
        min_stay: null,
        max_stay: null,
        closed_to_arrival: false,
        closed_to_departure: false,
        stop_sell: false,
      };
    }
  });

  it('audits and announces a change in its transaction, and nothing when nothing changed', async () => {
    const plan = await createPlan();
    const derived = await createPlan({
      parent_rate_plan_id: plan.id,
      offset_type: 'percent',
      offset_value: '-10',
    });
    const body = {
      rate_plan_id: plan.id,
      room_type_ids: [suite, double],
      start_date: '2031-06-01',
      end_date: '2031-06-30',
      days_of_week: [1, 'tue'],
      amount: '80.00',
      closed_to_arrival: true,
    };
    const first = await setDaily(body);
    expect(first.body.changed).toBe(18);
    const events = await t.db
      .selectFrom('outbox_event')
      .select('envelope')
      .where('type', '=', 'pms.rates.updated')
      .where('property_id', '=', hotel)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    expect((events.envelope as any).data).toEqual({
      cause: 'daily_rates',
      rate_plan_id: plan.id,
      room_type_ids: [double, suite].sort(),
      start_date: '2031-06-01',
      end_date: '2031-06-30',
      days_of_week: ['mon', 'tue'],
      fields: ['amount', 'closed_to_arrival'],
      affected_rate_plan_ids: [plan.id, derived.id],
      changed: 18,
    });
    const audits = () =>
      t.db
        .selectFrom('audit_log')
        .select(['action', 'diff'])
        .where('entity_id', '=', plan.id)
        .where('action', '=', 'daily_rate.set')
        .execute();
    expect(await audits()).toHaveLength(1);
    expect((await audits())[0]!.diff).toMatchObject({
      set: { amount: '80.00', closed_to_arrival: true },
      changed: 18,
    });

    const again = await setDaily(body);
    expect(again.status).toBe(200);
    expect(again.body.changed).toBe(0);
    expect(await audits()).toHaveLength(1);
  });

  it('writes a two-year range in one request and refuses a longer one', async () => {
    const plan = await createPlan();
    const ok = await setDaily({
      rate_plan_id: plan.id,
      room_type_ids: [double, suite],
      start_date: '2032-01-01',
      end_date: '2033-12-31',
      amount: '75',
    });
    expect(ok.status).toBe(200);
    expect(ok.body.nights).toBe(731);
    expect(await rows(plan.id)).toHaveLength(1462);

    const tooLong = await setDaily({
      rate_plan_id: plan.id,
      room_type_id: double,
      start_date: '2032-01-01',
      end_date: '2034-01-01',
      amount: '1',
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.code).toBe('VALIDATION_ERROR');
    expect(tooLong.body.detail).toMatch(/732 nights; at most 731/);
    expect(tooLong.body.errors).toEqual([{ pointer: '/body/end_date', message: expect.any(String) }]);
    expect(new Set((await rows(plan.id)).map((r) => r.amount))).toEqual(new Set(['75.00']));
  });

  it('refuses bad input with 400 and writes nothing', async () => {
    const plan = await createPlan();
    const derived = await createPlan({
      parent_rate_plan_id: plan.id,
      offset_type: 'amount',
      offset_value: '5',
    });
    await setDaily({
      rate_plan_id: plan.id,
      room_type_id: double,
      start_date: '2031-08-01',
      end_date: '2031-08-02',
      amount: '50',
      max_stay: 3,
    });
    const snapshot = async () => [await rows(plan.id), await rows(derived.id)];
    const before = await snapshot();
    const range = { room_type_id: double, start_date: '2031-08-01', end_date: '2031-08-10' };
    const bad: Record<string, unknown>[] = [
      { rate_plan_id: plan.id, ...range },
      { rate_plan_id: plan.id, start_date: '2031-08-01', end_date: '2031-08-10', amount: '1' },
      { rate_plan_id: plan.id, ...range, room_type_ids: [suite], amount: '1' },
      { rate_plan_id: plan.id, ...range, room_type_id: foreignRoomType, amount: '1' },
      {
        rate_plan_id: plan.id,
        ...range,
        room_type_id: undefined,
        room_type_ids: [double, foreignRoomType],
        amount: '1',
      },
      { rate_plan_id: plan.id, ...range, amount: '-1.00' },
      { rate_plan_id: plan.id, ...range, amount: 10 },
      { rate_plan_id: plan.id, ...range, amount: '1.999' },
      { rate_plan_id: plan.id, ...range, min_stay: 0 },
      { rate_plan_id: plan.id, ...range, min_stay: 5, max_stay: 2 },
      { rate_plan_id: plan.id, ...range, end_date: '2031-07-31', amount: '1' },
      { rate_plan_id: plan.id, ...range, end_date: '2031-02-30', amount: '1' },
      { rate_plan_id: plan.id, ...range, days_of_week: ['fri', 'funday'], amount: '1' },
      { rate_plan_id: plan.id, ...range, days_of_week: [0], amount: '1' },
      { rate_plan_id: plan.id, ...range, end_date: '2031-08-02', days_of_week: ['mon'], amount: '1' },
      { rate_plan_id: plan.id, ...range, stop_sell: 'yes' },
      { rate_plan_id: plan.id, ...range, amount: '1', surprise: true },
      { rate_plan_id: plan.id, ...range, follow_parent: true },
      // The range holds nights with max_stay 3: a min_stay of 4 would break them, so nothing is written.
      { rate_plan_id: plan.id, ...range, min_stay: 4 },
      { rate_plan_id: derived.id, ...range, amount: '10.00' },
      { rate_plan_id: derived.id, ...range, amount: null },
      { rate_plan_id: derived.id, ...range, follow_parent: true, stop_sell: true },
    ];
    for (const body of bad) {
      const res = await setDaily(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
    }
    const derivedAmount = await setDaily({ rate_plan_id: derived.id, ...range, amount: '10.00' });
    expect(derivedAmount.body.detail).toMatch(/derived/);
    expect(derivedAmount.body.errors).toEqual([{ pointer: '/body/amount', message: expect.any(String) }]);
    const stayBounds = await setDaily({ rate_plan_id: plan.id, ...range, min_stay: 4 });
    expect(stayBounds.body.detail).toMatch(/min_stay/);
    expect(await snapshot()).toEqual(before);
  });

  it('lets only the property’s administrators write', async () => {
    const plan = await createPlan();
    const body = {
      rate_plan_id: plan.id,
      room_type_id: double,
      start_date: '2031-09-01',
      end_date: '2031-09-01',
      amount: '1',
    };
    expect((await setDaily(body, staffToken)).status).toBe(403);
    expect((await setDaily(body, otherAdminToken)).status).toBe(404);
    expect((await setDaily({ ...body, rate_plan_id: crypto.randomUUID() })).status).toBe(404);
    expect(await rows(plan.id)).toEqual([]);
  });
});

describe('derived plans follow their parent', () => {
  it('recomputes percent and amount offsets from the parent’s current amounts, rounding half-up', async () => {
    const parent = await createPlan();
    const tenOff = await createPlan({
      parent_rate_plan_id: parent.id,
      offset_type: 'percent',
      offset_value: '-10.00',
    });
    const minus = await createPlan({
      parent_rate_plan_id: parent.id,
      offset_type: 'amount',
      offset_value: '-15.50',
    });
    const chained = await createPlan({
      parent_rate_plan_id: tenOff.id,
      offset_type: 'percent',
      offset_value: '-50',
    });
    const nights = { room_type_id: double, start_date: '2031-10-01', end_date: '2031-10-02' };
    await setDaily({ rate_plan_id: parent.id, ...nights, amount: '99.99' });
    const amounts = async (planId: string) => {
      const res = await grid(`start=2031-10-01&end=2031-10-02&rate_plan_id=${planId}&room_type_id=${double}`);
      expect(res.status).toBe(200);
      return res.body.results[0].nights.map((n: any) => n.amount);
    };
    // 99.99 × 0.9 = 89.991 → 89.99; 89.99 × 0.5 = 44.995 → 45.00 (half-up).
    expect(await amounts(tenOff.id)).toEqual(['89.99', '89.99']);
    expect(await amounts(minus.id)).toEqual(['84.49', '84.49']);
    expect(await amounts(chained.id)).toEqual(['45.00', '45.00']);

    await setDaily({ rate_plan_id: parent.id, ...nights, start_date: '2031-10-02', amount: '10.05' });
    expect(await amounts(tenOff.id)).toEqual(['89.99', '9.05']);
    expect(await amounts(minus.id)).toEqual(['84.49', null]);
    expect(await amounts(chained.id)).toEqual(['45.00', '4.53']);

    // Changing the offset re-prices every night at once.
    await call(t.app, 'PATCH', `/api/rates/plans/${tenOff.id}/`, {
      token: adminToken,
      body: { offset_value: '25' },
    });
    expect(await amounts(tenOff.id)).toEqual(['124.99', '12.56']);
    expect(await derivedRowCount(tenOff.id)).toBe(0);
  });

  it('inherits restrictions until it sets its own, then follows the parent again on request', async () => {
    const parent = await createPlan();
    const derived = await createPlan({
      parent_rate_plan_id: parent.id,
      offset_type: 'percent',
      offset_value: '0',
    });
    const night = { room_type_id: double, start_date: '2031-11-01', end_date: '2031-11-01' };
    await setDaily({ rate_plan_id: parent.id, ...night, amount: '100', stop_sell: true, max_stay: 5 });
    const cellOf = async () =>
      (await grid(`start=2031-11-01&end=2031-11-01&rate_plan_id=${derived.id}&room_type_id=${double}`)).body
        .results[0].nights[0];
    expect(await cellOf()).toMatchObject({ stop_sell: true, max_stay: 5, restrictions_inherited: true });

    // Its own row starts from the parent's restrictions: setting min stay does not lift stop-sell.
    await setDaily({ rate_plan_id: derived.id, ...night, min_stay: 2 });
    expect(await cellOf()).toMatchObject({
      amount: '100.00',
      stop_sell: true,
      min_stay: 2,
      max_stay: 5,
      restrictions_inherited: false,
    });
    // From now on the night's restrictions are its own: the parent lifting stop-sell does not reach it…
    await setDaily({ rate_plan_id: parent.id, ...night, stop_sell: false, amount: '90' });
    expect(await cellOf()).toMatchObject({ amount: '90.00', stop_sell: true, restrictions_inherited: false });
    // …until it follows the parent again.
    const follow = await setDaily({ rate_plan_id: derived.id, ...night, follow_parent: true });
    expect(follow.body).toMatchObject({ changed: 1, fields: ['follow_parent'] });
    expect(await cellOf()).toMatchObject({
      stop_sell: false,
      min_stay: null,
      max_stay: 5,
      restrictions_inherited: true,
    });
  });
});

async function derivedRowCount(planId: string) {
  return (await rows(planId)).length;
}

describe('GET /api/rates/grid/', () => {
  it('returns plans × room types × nights, dense, for staff too', async () => {
    const property = (await createProperty(t.db)).id;
    const [a, b] = [
      (await createRoomType(t.db, property, { code: 'A' })).id,
      (await createRoomType(t.db, property, { code: 'B' })).id,
    ];
    const { token } = await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [property] });
    const { token: staff } = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [property] });
    const bar = (
      await call(t.app, 'POST', '/api/rates/plans/', {
        token,
        body: { property_id: property, code: 'BAR', name: 'BAR' },
      })
    ).body;
    const nrf = (
      await call(t.app, 'POST', '/api/rates/plans/', {
        token,
        body: {
          property_id: property,
          code: 'NRF',
          name: 'NRF',
          parent_rate_plan_id: bar.id,
          offset_type: 'percent',
          offset_value: '-10',
        },
      })
    ).body;
    await setDaily(
      {
        rate_plan_id: bar.id,
        room_type_id: a,
        start_date: '2031-12-30',
        end_date: '2031-12-31',
        amount: '200',
        closed_to_arrival: true,
      },
      token,
    );

    const res = await call(
      t.app,
      'GET',
      `/api/rates/grid/?property_id=${property}&start=2031-12-30&end=2032-01-01`,
      {
        token: staff,
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.rate_plans.map((p: any) => p.code)).toEqual(['BAR', 'NRF']);
    expect(res.body.room_types.map((r: any) => r.id)).toEqual([a, b]);
    expect(res.body.results).toHaveLength(4);
    const row = (plan: string, roomType: string) =>
      res.body.results.find((r: any) => r.rate_plan_id === plan && r.room_type_id === roomType);
    expect(row(bar.id, a).nights).toEqual([
      {
        date: '2031-12-30',
        amount: '200.00',
        min_stay: null,
        max_stay: null,
        closed_to_arrival: true,
        closed_to_departure: false,
        stop_sell: false,
        restrictions_inherited: false,
      },
      {
        date: '2031-12-31',
        amount: '200.00',
        min_stay: null,
        max_stay: null,
        closed_to_arrival: true,
        closed_to_departure: false,
        stop_sell: false,
        restrictions_inherited: false,
      },
      {
        date: '2032-01-01',
        amount: null,
        min_stay: null,
        max_stay: null,
        closed_to_arrival: false,
        closed_to_departure: false,
        stop_sell: false,
        restrictions_inherited: false,
      },
    ]);
    expect(row(nrf.id, a)).toMatchObject({ derived: true, currency: 'EUR' });
    expect(
      row(nrf.id, a).nights.map((n: any) => [n.amount, n.closed_to_arrival, n.restrictions_inherited]),
    ).toEqual([
      ['180.00', true, true],
      ['180.00', true, true],
      [null, false, true],
    ]);
    expect(row(bar.id, b).nights.every((n: any) => n.amount === null)).toBe(true);
  });

  it('limits the range and the size, and hides other properties', async () => {
    const longest = await grid('start=2031-01-01&end=2032-01-01');
    expect(longest.status).toBe(200);
    expect((await grid('start=2031-01-01&end=2032-01-02')).status).toBe(400);
    expect((await grid('start=2031-01-02&end=2031-01-01')).status).toBe(400);
    expect((await grid('start=2031-01-01&end=2031-12-31')).status).toBe(200);
    expect((await grid('start=2031-01-01&end=2031-01-02', otherAdminToken)).status).toBe(404);
    expect((await grid(`start=2031-01-01&end=2031-01-02&rate_plan_id=${crypto.randomUUID()}`)).status).toBe(
      404,
    );
    expect((await grid(`start=2031-01-01&end=2031-01-02&room_type_id=${foreignRoomType}`)).status).toBe(404);
    expect((await grid('start=2031-01-01')).status).toBe(400);
  });

  it('refuses a grid of more than 50,000 cells and suggests narrowing it', async () => {
    const property = (await createProperty(t.db)).id;
    await createRoomType(t.db, property);
    await createRoomType(t.db, property);
    await t.db
      .insertInto('rate_plan')
      .values(
        Array.from({ length: 69 }, (_, i) => ({
          property_id: property,
          code: `P${i}`,
          name: 'p',
          currency: 'EUR',
        })),
      )
      .execute();
    const { token } = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [property] });
    // 69 plans × 2 room types × 362 nights = 49,956 cells: allowed; one more night makes 50,094.
    const fits = await call(
      t.app,
      'GET',
      `/api/rates/grid/?property_id=${property}&start=2031-01-01&end=2031-12-28`,
      { token },
    );
    expect(fits.status).toBe(200);
    expect(fits.body.results).toHaveLength(138);
    const big = await call(
      t.app,
      'GET',
      `/api/rates/grid/?property_id=${property}&start=2031-01-01&end=2031-12-29`,
      { token },
    );
    expect(big.status).toBe(400);
    expect(big.body.detail).toMatch(/50094 cells.*rate_plan_id/);
  });
});

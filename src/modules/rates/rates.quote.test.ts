import { Kysely, PostgresDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { createProperty, createRoomType, unique, userWithToken } from '../../../test/helpers/factories.ts';
import { createPool } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import { quoteStay, quoteViolations } from './rates.service.ts';

let t: TestContext;
let hotel: string;
let otherHotel: string;
let roomType: string;
let foreignRoomType: string;
let adminToken: string;
let staffToken: string;

beforeAll(async () => {
  t = await createTestContext();
  hotel = (await createProperty(t.db, { currency: 'EUR' })).id;
  otherHotel = (await createProperty(t.db)).id;
  roomType = (await createRoomType(t.db, hotel)).id;
  foreignRoomType = (await createRoomType(t.db, otherHotel)).id;
  adminToken = (await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [hotel] })).token;
  staffToken = (await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [hotel] })).token;
});
afterAll(() => t.close());

async function createPlan(body: Record<string, unknown> = {}) {
  const res = await call(t.app, 'POST', '/api/rates/plans/', {
    token: adminToken,
    body: { property_id: hotel, code: unique('Q'), name: 'Plan', ...body },
  });
  if (res.status !== 201) throw new Error(`plan not created: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string };
}

async function setDaily(body: Record<string, unknown>) {
  const res = await call(t.app, 'PUT', '/api/rates/daily/', {
    token: adminToken,
    body: { room_type_id: roomType, ...body },
  });
  if (res.status !== 200) throw new Error(`rates not set: ${res.status} ${JSON.stringify(res.body)}`);
}

const stay = (ratePlanId: string, checkIn: string, checkOut: string) => ({
  propertyId: hotel,
  ratePlanId,
  roomTypeId: roomType,
  checkIn,
  checkOut,
});

describe('quoteStay', () => {
  it('totals exactly, night by night, and follows rate changes', async () => {
    const plan = await createPlan();
    await setDaily({
      rate_plan_id: plan.id,
      start_date: '2032-02-01',
      end_date: '2032-02-01',
      amount: '0.10',
    });
    await setDaily({
      rate_plan_id: plan.id,
      start_date: '2032-02-02',
      end_date: '2032-02-02',
      amount: '0.20',
    });
    await setDaily({
      rate_plan_id: plan.id,
      start_date: '2032-02-03',
      end_date: '2032-02-03',
      amount: '1234567.89',
    });
    const quote = await quoteStay(t.db, stay(plan.id, '2032-02-01', '2032-02-04'));
    expect(quote).toMatchObject({
      ratePlanId: plan.id,
      roomTypeId: roomType,
      currency: 'EUR',
      total: '1234568.19',
    });
    expect(quote.nights.map((n) => [n.date, n.amount])).toEqual([
      ['2032-02-01', '0.10'],
      ['2032-02-02', '0.20'],
      ['2032-02-03', '1234567.89'],
    ]);
    expect((await quoteStay(t.db, stay(plan.id, '2032-02-01', '2032-02-03'))).total).toBe('0.30');

    await setDaily({
      rate_plan_id: plan.id,
      start_date: '2032-02-02',
      end_date: '2032-02-02',
      amount: '0.21',
    });
    expect((await quoteStay(t.db, stay(plan.id, '2032-02-01', '2032-02-04'))).total).toBe('1234568.20');
    // A night without a rate leaves the stay unpriced, and says which night.
    const open = await quoteStay(t.db, stay(plan.id, '2032-02-03', '2032-02-05'));
    expect(open.total).toBeNull();
    expect(open.nights.map((n) => n.amount)).toEqual(['1234567.89', null]);
  });

  it('prices derived plans from the parent’s current amounts', async () => {
    const parent = await createPlan();
    const derived = await createPlan({
      parent_rate_plan_id: parent.id,
      offset_type: 'percent',
      offset_value: '-15',
    });
    await setDaily({
      rate_plan_id: parent.id,
      start_date: '2032-03-01',
      end_date: '2032-03-03',
      amount: '33.33',
    });
    // 33.33 × 0.85 = 28.3305 → 28.33 per night.
    expect((await quoteStay(t.db, stay(derived.id, '2032-03-01', '2032-03-04'))).total).toBe('84.99');
    await setDaily({
      rate_plan_id: parent.id,
      start_date: '2032-03-02',
      end_date: '2032-03-02',
      amount: '40.10',
    });
    // 40.10 × 0.85 = 34.085 → 34.09 (half-up).
    const quote = await quoteStay(t.db, stay(derived.id, '2032-03-01', '2032-03-04'));
    expect(quote.nights.map((n) => n.amount)).toEqual(['28.33', '34.09', '28.33']);
    expect(quote.total).toBe('90.75');
  });

  it('reads through the caller’s transaction, in a single query', async () => {
    const plan = await createPlan();
    await setDaily({ rate_plan_id: plan.id, start_date: '2032-04-01', end_date: '2032-04-02', amount: '50' });
    await t.db
      .transaction()
      .execute(async (tx) => {
        await tx
          .updateTable('daily_rate')
          .set({ amount: '70.00' })
          .where('rate_plan_id', '=', plan.id)
          .where('date', '=', '2032-04-02')
          .execute();
        expect((await quoteStay(tx, stay(plan.id, '2032-04-01', '2032-04-03'))).total).toBe('120.00');
        expect((await quoteStay(t.db, stay(plan.id, '2032-04-01', '2032-04-03'))).total).toBe('100.00');
        throw new Error('roll back');
      })
      .catch((error: Error) => expect(error.message).toBe('roll back'));

    let queries = 0;
    const counted = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: createPool({ connectionString: t.databaseUrl, max: 1 }) }),
      log: (event) => {
        if (event.level === 'query') queries++;
      },
    });
    try {
      const derived = await createPlan({
        parent_rate_plan_id: plan.id,
        offset_type: 'amount',
        offset_value: '5',
      });
      const quote = await quoteStay(counted, stay(derived.id, '2032-04-01', '2032-04-03'));
      expect(quote.total).toBe('110.00');
      expect(queries).toBe(1);
    } finally {
      await counted.destroy();
    }
  });

  it('refuses another property’s plan or room type, and bad stays', async () => {
    const plan = await createPlan();
    await expect(
      quoteStay(t.db, { ...stay(plan.id, '2032-05-01', '2032-05-02'), propertyId: otherHotel }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      quoteStay(t.db, stay(crypto.randomUUID(), '2032-05-01', '2032-05-02')),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      quoteStay(t.db, { ...stay(plan.id, '2032-05-01', '2032-05-02'), roomTypeId: foreignRoomType }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(quoteStay(t.db, stay(plan.id, '2032-05-02', '2032-05-02'))).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
    await expect(quoteStay(t.db, stay(plan.id, '2032-05-01', '2034-05-02'))).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
  });

  it('carries each night’s restrictions; violations read arrival, stay length and the departure date', async () => {
    const plan = await createPlan();
    const all = { rate_plan_id: plan.id, start_date: '2032-06-01', end_date: '2032-06-10', amount: '100' };
    await setDaily(all);
    await setDaily({
      ...all,
      start_date: '2032-06-01',
      end_date: '2032-06-01',
      closed_to_arrival: true,
      min_stay: 3,
    });
    await setDaily({ ...all, start_date: '2032-06-03', end_date: '2032-06-03', stop_sell: true });
    await setDaily({ ...all, start_date: '2032-06-05', end_date: '2032-06-05', closed_to_departure: true });

    const first = await quoteStay(t.db, stay(plan.id, '2032-06-01', '2032-06-03'));
    expect(first.nights[0]).toMatchObject({ closedToArrival: true, minStay: 3, stopSell: false });
    expect(quoteViolations(first)).toEqual([
      { date: '2032-06-01', reasons: ['CLOSED_TO_ARRIVAL', 'MIN_STAY'] },
      { date: '2032-06-02', reasons: [] },
    ]);
    const departing = await quoteStay(t.db, stay(plan.id, '2032-06-04', '2032-06-05'));
    expect(quoteViolations(departing)).toEqual([{ date: '2032-06-04', reasons: ['CLOSED_TO_DEPARTURE'] }]);
    const through = await quoteStay(t.db, stay(plan.id, '2032-06-02', '2032-06-06'));
    expect(quoteViolations(through).map((n) => n.reasons)).toEqual([[], ['STOP_SELL'], [], []]);
  });

  it('quotes an inactive plan as stop-sell on every night', async () => {
    const plan = await createPlan({ is_active: false });
    await setDaily({ rate_plan_id: plan.id, start_date: '2032-07-01', end_date: '2032-07-02', amount: '10' });
    const quote = await quoteStay(t.db, stay(plan.id, '2032-07-01', '2032-07-03'));
    expect(quote.total).toBe('20.00');
    expect(quote.nights.every((n) => n.stopSell)).toBe(true);
  });
});

describe('GET /api/rates/quote/', () => {
  it('prices a stay for staff, with reasons, and hides other properties', async () => {
    const plan = await createPlan();
    await setDaily({
      rate_plan_id: plan.id,
      start_date: '2032-08-01',
      end_date: '2032-08-02',
      amount: '99.95',
      max_stay: 1,
    });
    const url = `/api/rates/quote/?rate_plan_id=${plan.id}&room_type_id=${roomType}&check_in=2032-08-01&check_out=2032-08-03`;
    const res = await call(t.app, 'GET', url, { token: staffToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ currency: 'EUR', total: '199.90', sellable: false });
    expect(res.body.nights[0]).toMatchObject({ amount: '99.95', max_stay: 1, reasons: ['MAX_STAY'] });

    const { token: stranger } = await userWithToken(t.app, t.db, {
      role: 'STAFF',
      propertyIds: [otherHotel],
    });
    expect((await call(t.app, 'GET', url, { token: stranger })).status).toBe(404);
    const backwards = `/api/rates/quote/?rate_plan_id=${plan.id}&room_type_id=${roomType}&check_in=2032-08-03&check_out=2032-08-01`;
    expect((await call(t.app, 'GET', backwards, { token: staffToken })).status).toBe(400);
  });
});

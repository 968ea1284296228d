import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setBusinessDate } from '../booking/world.ts';
import { call, createTestContext, type TestContext } from '../helpers/context.ts';
import { unique } from '../helpers/factories.ts';
import { type HotelToday, hotelToday, stayBody } from './world.ts';

/**
 * Cancellation and no-show fees from the cancellation policy each room was booked under, in the
 * hotel's time zone, on the answer, on the reservation, in the event and in the audit row. The
 * deadline edges to the millisecond are in src/modules/reservations/reservation.fees.test.ts; here
 * the whole path runs against the real clock, in Pacific/Kiritimati (UTC+14), where "today" is
 * often tomorrow in UTC.
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(() => t.close());

const book = async (token: string, body: unknown) => {
  const res = await call(t.app, 'POST', '/api/reservations/create/', { token, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
};
const act = (token: string, id: string, action: string) =>
  call(t.app, 'POST', `/api/reservations/${id}/${action}/`, { token });

async function derivedPlan(hotel: HotelToday, policy: Record<string, unknown> | null) {
  return hotel.as('POST', '/api/rates/plans/', {
    property_id: hotel.property.id,
    code: unique('NRF'),
    name: 'Derived',
    parent_rate_plan_id: hotel.bar.id,
    offset_type: 'percent',
    offset_value: '-10.00',
    ...(policy && { cancellation_policy: policy }),
  });
}

describe('cancellation fees', () => {
  it('charge nothing inside the free period and the first night after its deadline, midnight hotel time', async () => {
    const hotel = await hotelToday(t, { timezone: 'Pacific/Kiritimati' });
    // BAR: free until 2 days before arrival. Arriving in 3 days, the deadline is tomorrow's midnight.
    const early = await book(hotel.staff.token, stayBody(hotel, hotel.day(3), hotel.day(5)));
    const free = await act(hotel.staff.token, early.id, 'cancel');
    expect(free.status).toBe(200);
    expect(free.body.fee).toMatchObject({ kind: 'cancellation', amount: '0.00', currency: 'EUR' });
    expect(free.body.fee.rooms[0]).toMatchObject({ penalty: null, policy_rate_plan_id: hotel.bar.id });
    expect(new Date(free.body.fee.rooms[0].free_until).getTime()).toBeGreaterThan(Date.now());

    // Arriving in 2 days, the deadline was today's midnight in Kiritimati: the first night is due.
    const late = await book(hotel.staff.token, stayBody(hotel, hotel.day(2), hotel.day(5)));
    const charged = await act(hotel.staff.token, late.id, 'cancel');
    expect(charged.status).toBe(200);
    expect(charged.body.fee).toMatchObject({ kind: 'cancellation', amount: '100.00', currency: 'EUR' });
    expect(charged.body.fee.rooms).toEqual([
      {
        reservation_room_id: late.rooms[0].id,
        rate_plan_id: hotel.bar.id,
        policy_rate_plan_id: hotel.bar.id,
        policy: { rate_plan_id: hotel.bar.id, free_until_days: 2, penalty: 'first_night' },
        free_until: expect.any(String),
        penalty: 'first_night',
        amount: '100.00',
      },
    ]);
    // Hotel-local midnight of today: 10:00 UTC the day before.
    expect(charged.body.fee.rooms[0].free_until).toBe(`${hotel.day(-1)}T10:00:00.000Z`);

    const stored = await t.db
      .selectFrom('reservation')
      .select(['fee_amount', 'fee_currency', 'fee_policy'])
      .where('id', '=', late.id)
      .executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ fee_amount: '100.00', fee_currency: 'EUR' });
    expect(stored.fee_policy).toMatchObject({ kind: 'cancellation', rooms: [{ penalty: 'first_night' }] });

    const cancelled = await t.db
      .selectFrom('outbox_event')
      .select('envelope')
      .where('type', '=', 'pms.reservation.cancelled')
      .where('property_id', '=', hotel.property.id)
      .execute();
    const data = cancelled.map((e) => (e.envelope as any).data).find((d) => d.reservation.id === late.id);
    expect(data.fee).toEqual(charged.body.fee);
    expect(data.reservation.fee).toEqual(charged.body.fee);

    const audit = await call(t.app, 'GET', `/api/audit/?entity_id=${late.id}`, { token: hotel.admin.token });
    expect(audit.body.results[0].action).toBe('reservation.cancelled');
    expect(audit.body.results[0].diff.fee).toEqual([null, charged.body.fee]);

    // Cancelling again changes nothing: same fee, same version, one event.
    const again = await act(hotel.staff.token, late.id, 'cancel');
    expect(again.body.fee).toEqual(charged.body.fee);
    expect(again.body.version).toBe(charged.body.version);
  });

  it('apply per room and add up; a derived plan without a policy follows its parent, one with a policy its own', async () => {
    const hotel = await hotelToday(t, { timezone: 'America/Los_Angeles' });
    const follows = await derivedPlan(hotel, null);
    const own = await derivedPlan(hotel, { free_until_days: null, penalty: 'full_stay' });
    const reservation = await book(
      hotel.staff.token,
      stayBody(hotel, hotel.day(2), hotel.day(4), {
        rooms: [
          { room_type_id: hotel.roomType.id, rate_plan_id: hotel.bar.id },
          { room_type_id: hotel.roomType.id, rate_plan_id: follows.id },
          { room_type_id: hotel.roomType.id, rate_plan_id: own.id },
        ],
      }),
    );
    expect(reservation.rooms.map((r: any) => r.cancellation_policy.rate_plan_id)).toEqual([
      hotel.bar.id,
      hotel.bar.id,
      own.id,
    ]);
    const res = await act(hotel.staff.token, reservation.id, 'cancel');
    expect(
      res.body.fee.rooms.map((r: any) => [r.rate_plan_id, r.policy_rate_plan_id, r.penalty, r.amount]),
    ).toEqual([
      [hotel.bar.id, hotel.bar.id, 'first_night', '100.00'],
      [follows.id, hotel.bar.id, 'first_night', '90.00'],
      [own.id, own.id, 'full_stay', '180.00'],
    ]);
    expect(res.body.fee.amount).toBe('370.00');
  });

  it('keep the terms the guest booked under when the plan changes its policy later', async () => {
    const hotel = await hotelToday(t);
    const reservation = await book(hotel.staff.token, stayBody(hotel, hotel.day(5), hotel.day(7)));
    await hotel.as('PATCH', `/api/rates/plans/${hotel.bar.id}/`, {
      cancellation_policy: { free_until_days: null, penalty: 'full_stay' },
    });
    const res = await act(hotel.staff.token, reservation.id, 'cancel');
    expect(res.body.fee.amount).toBe('0.00');
    expect(res.body.fee.rooms[0].policy).toEqual({
      rate_plan_id: hotel.bar.id,
      free_until_days: 2,
      penalty: 'first_night',
    });
    // A booking made now agrees to the new terms.
    const later = await book(hotel.staff.token, stayBody(hotel, hotel.day(5), hotel.day(7)));
    expect((await act(hotel.staff.token, later.id, 'cancel')).body.fee.amount).toBe('200.00');
  });

  it('charge nothing on a plan without a policy, saying so', async () => {
    const hotel = await hotelToday(t, { policy: null });
    const reservation = await book(hotel.staff.token, stayBody(hotel, hotel.day(0), hotel.day(2)));
    const res = await act(hotel.staff.token, reservation.id, 'cancel');
    expect(res.body.fee).toMatchObject({ amount: '0.00', rooms: [{ policy: null, penalty: null }] });
  });
});

describe('no-show fees', () => {
  it('charge the no-show penalty (default: the late-cancellation one), recorded like a cancellation fee', async () => {
    const hotel = await hotelToday(t, { timezone: 'America/Los_Angeles' });
    const strict = await derivedPlan(hotel, {
      free_until_days: 1,
      penalty: 'first_night',
      no_show_penalty: 'percent',
      no_show_penalty_percent: '75.00',
    });
    const plain = await book(hotel.staff.token, stayBody(hotel, hotel.today, hotel.day(2)));
    const strictly = await book(
      hotel.staff.token,
      stayBody(hotel, hotel.today, hotel.day(3), {
        rooms: [{ room_type_id: hotel.roomType.id, rate_plan_id: strict.id }],
      }),
    );
    // The arrival day is over once the business date moves past it (the night audit moves it).
    await setBusinessDate(t.db, hotel.property.id, hotel.day(1));
    const first = await act(hotel.staff.token, plain.id, 'no-show');
    expect(first.status).toBe(200);
    expect(first.body.fee).toMatchObject({
      kind: 'no_show',
      amount: '100.00',
      rooms: [{ penalty: 'first_night' }],
    });
    const second = await act(hotel.staff.token, strictly.id, 'no-show');
    // 75 % of three nights at 90.00.
    expect(second.body.fee).toMatchObject({
      kind: 'no_show',
      amount: '202.50',
      rooms: [{ penalty: 'percent' }],
    });
    const events = await t.db
      .selectFrom('outbox_event')
      .select('envelope')
      .where('property_id', '=', hotel.property.id)
      .where('type', '=', 'pms.reservation.modified')
      .execute();
    const noShow = events.map((e) => (e.envelope as any).data).find((d) => d.reservation.id === strictly.id);
    expect(noShow).toMatchObject({ change: 'no_show', fee: { amount: '202.50' } });
  });
});

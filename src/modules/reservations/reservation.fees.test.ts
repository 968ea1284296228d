import { describe, expect, it } from 'vitest';
import { type BookedPolicy, computeFee, type FeeRoomInput, freeUntil } from './reservation.fees.ts';

const PLAN = '0190a000-0000-7000-8000-000000000001';

function room(policy: Partial<BookedPolicy> | null, nightly = ['100.00', '80.00', '80.00']): FeeRoomInput {
  const amount = nightly.reduce((sum, n) => sum + Number(n), 0).toFixed(2);
  return {
    id: crypto.randomUUID(),
    rate_plan_id: PLAN,
    amount,
    nightly_prices: nightly.map((value, i) => ({ date: `2031-03-${10 + i}`, amount: value })),
    cancellation_policy: policy && {
      rate_plan_id: PLAN,
      free_until_days: 2,
      penalty: 'first_night',
      ...policy,
    },
  };
}

const fee = (kind: 'cancellation' | 'no_show', at: string, timeZone: string, rooms: FeeRoomInput[]) =>
  computeFee(kind, { checkIn: '2031-03-10', currency: 'EUR', timeZone, at: new Date(at), rooms });

describe('cancellation deadline', () => {
  it('ends at midnight hotel time starting the day free_until_days before arrival', () => {
    const policy = { rate_plan_id: PLAN, free_until_days: 2, penalty: 'first_night' } as BookedPolicy;
    // Kiritimati is UTC+14: its 2031-03-08 00:00 is 2031-03-07 10:00 UTC.
    expect(freeUntil(policy, '2031-03-10', 'Pacific/Kiritimati')!.toUTC().toISO()).toBe(
      '2031-03-07T10:00:00.000Z',
    );
    expect(freeUntil(policy, '2031-03-10', 'UTC')!.toUTC().toISO()).toBe('2031-03-08T00:00:00.000Z');
    expect(freeUntil({ ...policy, free_until_days: null }, '2031-03-10', 'UTC')).toBeNull();
  });

  it('is free one millisecond before the local midnight and charged at it, wherever the hotel is', () => {
    const rooms = [room({ free_until_days: 2 })];
    expect(fee('cancellation', '2031-03-07T09:59:59.999Z', 'Pacific/Kiritimati', rooms).amount).toBe('0.00');
    expect(fee('cancellation', '2031-03-07T10:00:00.000Z', 'Pacific/Kiritimati', rooms).amount).toBe(
      '100.00',
    );
    // The same instant is still the day before in Los Angeles (UTC−8 in early March 2031): free.
    expect(fee('cancellation', '2031-03-07T10:00:00.000Z', 'America/Los_Angeles', rooms).amount).toBe('0.00');
    expect(fee('cancellation', '2031-03-08T07:59:59.999Z', 'America/Los_Angeles', rooms).amount).toBe('0.00');
    expect(fee('cancellation', '2031-03-08T08:00:00.000Z', 'America/Los_Angeles', rooms).amount).toBe(
      '100.00',
    );
  });

  it('follows the daylight-saving change of the hotel: a deadline hour keeps its wall-clock meaning', () => {
    // Los Angeles moves to UTC−7 at 02:00 on Sunday 2031-03-09. Arrival 03-11, free until 18:00 two days before.
    const evening = {
      rate_plan_id: PLAN,
      free_until_days: 2,
      deadline_hour: 18,
      penalty: 'full_stay',
    } as const;
    expect(freeUntil(evening, '2031-03-11', 'America/Los_Angeles')!.toUTC().toISO()).toBe(
      '2031-03-10T01:00:00.000Z',
    );
    // 02:00 does not exist that night: the deadline is the first instant after the gap (03:00 PDT).
    const twoAm = { ...evening, deadline_hour: 2 };
    expect(freeUntil(twoAm, '2031-03-11', 'America/Los_Angeles')!.toUTC().toISO()).toBe(
      '2031-03-09T10:00:00.000Z',
    );
    // The day before the change the same hour is still PST (UTC−8).
    expect(freeUntil(evening, '2031-03-10', 'America/Los_Angeles')!.toUTC().toISO()).toBe(
      '2031-03-09T02:00:00.000Z',
    );
    // In November, 01:00 happens twice (PDT, then PST): the first one ends the free period.
    const oneAm = { ...evening, deadline_hour: 1, free_until_days: 0 };
    expect(freeUntil(oneAm, '2031-11-02', 'America/Los_Angeles')!.toUTC().toISO()).toBe(
      '2031-11-02T08:00:00.000Z',
    );
  });
});

describe('computeFee', () => {
  const late = '2031-03-09T12:00:00Z';

  it('charges each penalty from the stored prices, half-up to cents', () => {
    const at = (policy: Partial<BookedPolicy>) => fee('cancellation', late, 'UTC', [room(policy)]).amount;
    expect(at({ penalty: 'first_night' })).toBe('100.00');
    expect(at({ penalty: 'full_stay' })).toBe('260.00');
    expect(at({ penalty: 'percent', penalty_percent: '33.33' })).toBe('86.66');
    expect(at({ penalty: 'percent', penalty_percent: '0.01' })).toBe('0.03');
    expect(at({ penalty: 'none' })).toBe('0.00');
    // Non-refundable: no free period, whenever it is cancelled.
    expect(
      fee('cancellation', '2020-01-01T00:00:00Z', 'UTC', [
        room({ free_until_days: null, penalty: 'full_stay' }),
      ]).amount,
    ).toBe('260.00');
  });

  it('charges nothing for a room without a policy, and records why', () => {
    const result = fee('cancellation', late, 'UTC', [room(null)]);
    expect(result).toMatchObject({ kind: 'cancellation', amount: '0.00', currency: 'EUR' });
    expect(result.rooms[0]).toMatchObject({
      policy: null,
      policy_rate_plan_id: null,
      penalty: null,
      free_until: null,
    });
  });

  it('sums the rooms of a reservation, each under its own policy', () => {
    const result = fee('cancellation', '2031-03-07T12:00:00Z', 'UTC', [
      room({ free_until_days: 2, penalty: 'full_stay' }),
      room({ free_until_days: 7, penalty: 'first_night' }, ['50.00', '50.00', '50.00']),
      room({ free_until_days: null, penalty: 'percent', penalty_percent: '50.00' }, [
        '10.00',
        '10.00',
        '10.01',
      ]),
    ]);
    expect(result.rooms.map((r) => [r.penalty, r.amount])).toEqual([
      [null, '0.00'],
      ['first_night', '50.00'],
      ['percent', '15.01'],
    ]);
    expect(result.amount).toBe('65.01');
  });

  it('charges a no-show its own penalty, or the late-cancellation penalty by default, never free', () => {
    const early = '2031-01-01T00:00:00Z';
    expect(fee('no_show', early, 'UTC', [room({ penalty: 'first_night' })]).amount).toBe('100.00');
    expect(
      fee('no_show', early, 'UTC', [room({ penalty: 'first_night', no_show_penalty: 'full_stay' })]).amount,
    ).toBe('260.00');
    expect(
      fee('no_show', early, 'UTC', [
        room({ penalty: 'first_night', no_show_penalty: 'percent', no_show_penalty_percent: '25.00' }),
      ]).amount,
    ).toBe('65.00');
    expect(fee('no_show', early, 'UTC', [room({ penalty: 'none' })]).amount).toBe('0.00');
  });
});

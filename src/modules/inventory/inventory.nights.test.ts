import { describe, expect, it } from 'vitest';
import { rangesOf } from './inventory.locking.ts';
import { freeUnits, LockedNights } from './inventory.nights.ts';
import type { LockedNightRow } from './inventory.repository.ts';

const RT = '00000000-0000-0000-0000-0000000000aa';
const ref = { reason: 'test', actorId: null };

function night(date: string, counts: Partial<LockedNightRow> = {}): LockedNightRow {
  return {
    property_id: 'p',
    room_type_id: RT,
    date,
    total_units: 2,
    booked_units: 0,
    held_units: 0,
    out_of_order_units: 0,
    overbooking_limit: 0,
    overbooked_units: 0,
    stop_sell: false,
    updated_at: new Date(),
    ctid: '(0,1)',
    ...counts,
  };
}

const stay = (checkIn: string, checkOut: string, units = 1) => ({ roomTypeId: RT, checkIn, checkOut, units });

describe('LockedNights.applyDirect', () => {
  it('sells what fits and records one ledger entry per night and field', () => {
    const nights = new LockedNights('p', [night('2031-01-01'), night('2031-01-02')]);
    expect(nights.applyDirect({ take: [stay('2031-01-01', '2031-01-03', 2)] }, ref)).toEqual([]);
    expect(nights.get(RT, '2031-01-01')!.booked_units).toBe(2);
    expect(nights.ledger.map((e) => [e.date, e.field, e.delta])).toEqual([
      ['2031-01-01', 'booked_units', 2],
      ['2031-01-02', 'booked_units', 2],
    ]);
    expect(nights.changedNights()).toHaveLength(2);
  });

  it('refuses all or nothing, naming each night and why', () => {
    const nights = new LockedNights('p', [
      night('2031-01-01', { booked_units: 2 }),
      night('2031-01-02', { stop_sell: true }),
      night('2031-01-03', { overbooked_units: 1, total_units: 5 }),
      night('2031-01-04'),
    ]);
    const blocked = nights.applyDirect({ take: [stay('2031-01-01', '2031-01-06')] }, ref);
    expect(blocked.map((b) => [b.date, b.reason])).toEqual([
      ['2031-01-01', 'SOLD_OUT'],
      ['2031-01-02', 'STOP_SELL'],
      ['2031-01-03', 'SOLD_OUT'],
      ['2031-01-05', 'NOT_LOADED'],
    ]);
    expect(nights.changedNights()).toEqual([]);
    expect(nights.ledger).toEqual([]);
  });

  it('lets a hold become a booking without re-checking, and a swap keep its own nights', () => {
    const nights = new LockedNights('p', [
      night('2031-01-01', { held_units: 2, stop_sell: true }),
      night('2031-01-02', { booked_units: 2 }),
      night('2031-01-03', { booked_units: 1 }),
    ]);
    expect(
      nights.applyDirect(
        { unhold: [stay('2031-01-01', '2031-01-02', 2)], take: [stay('2031-01-01', '2031-01-02', 2)] },
        ref,
      ),
    ).toEqual([]);
    expect(nights.get(RT, '2031-01-01')).toMatchObject({ held_units: 0, booked_units: 2 });
    // Moving a one-unit stay from 02 to 02–03 on a full night 02: 02 is kept, 03 has room.
    expect(
      nights.applyDirect(
        { release: [stay('2031-01-02', '2031-01-03')], take: [stay('2031-01-02', '2031-01-04')] },
        ref,
      ),
    ).toEqual([]);
    expect(nights.get(RT, '2031-01-02')!.booked_units).toBe(2);
    expect(nights.get(RT, '2031-01-03')!.booked_units).toBe(2);
  });

  it('never releases below zero', () => {
    const nights = new LockedNights('p', [night('2031-01-01')]);
    expect(() => nights.applyDirect({ release: [stay('2031-01-01', '2031-01-02')] }, ref)).toThrow();
  });
});

describe('LockedNights imports and absorption', () => {
  it('puts the excess of an import into overbooked_units and releases it first', () => {
    const nights = new LockedNights('p', [night('2031-01-01', { booked_units: 1 })]);
    nights.applyImported([], [stay('2031-01-01', '2031-01-02', 3)], ref);
    expect(nights.get(RT, '2031-01-01')).toMatchObject({ booked_units: 2, overbooked_units: 2 });
    expect(nights.newlyOverbooked()).toHaveLength(1);
    nights.applyImported([stay('2031-01-01', '2031-01-02', 1)], [], ref);
    expect(nights.get(RT, '2031-01-01')).toMatchObject({ booked_units: 2, overbooked_units: 1 });
  });

  it('absorbs imported excess when a direct booking frees a unit or capacity grows', () => {
    const nights = new LockedNights('p', [night('2031-01-01', { booked_units: 2, overbooked_units: 2 })]);
    nights.applyDirect({ release: [stay('2031-01-01', '2031-01-02')] }, ref);
    expect(nights.get(RT, '2031-01-01')).toMatchObject({ booked_units: 2, overbooked_units: 1 });
    nights.adjust(RT, ['2031-01-01'], { totalUnits: 5 }, ref);
    expect(nights.get(RT, '2031-01-01')).toMatchObject({
      total_units: 5,
      booked_units: 3,
      overbooked_units: 0,
    });
    expect(
      nights.ledger.filter((e) => e.reason === 'overbooking.absorbed').map((e) => [e.field, e.delta]),
    ).toEqual([
      ['booked_units', 1],
      ['overbooked_units', -1],
      ['booked_units', 1],
      ['overbooked_units', -1],
    ]);
  });
});

describe('LockedNights.adjust', () => {
  it('refuses a capacity below what is sold and out-of-order beyond the total', () => {
    const nights = new LockedNights('p', [night('2031-01-01', { booked_units: 1, held_units: 1 })]);
    expect(() => nights.adjust(RT, ['2031-01-01'], { totalUnits: 1 }, ref)).toThrow(/2031-01-01/);
    expect(() => nights.adjust(RT, ['2031-01-01'], { outOfOrderUnits: 3 }, ref)).toThrow(
      /out_of_order_units/,
    );
    nights.adjust(RT, ['2031-01-01'], { totalUnits: 1, overbookingLimit: 1, stopSell: true }, ref);
    expect(freeUnits(nights.get(RT, '2031-01-01')!)).toBe(0);
    expect(nights.ledger.map((e) => [e.field, e.delta])).toEqual([
      ['total_units', -1],
      ['overbooking_limit', 1],
      ['stop_sell', 1],
    ]);
  });
});

describe('rangesOf', () => {
  it('merges overlapping and touching stays per room type, in key order', () => {
    const other = '00000000-0000-0000-0000-000000000001';
    expect(
      rangesOf([
        stay('2031-01-05', '2031-01-07'),
        { roomTypeId: other, checkIn: '2031-01-01', checkOut: '2031-01-02', units: 1 },
        stay('2031-01-01', '2031-01-03'),
        stay('2031-01-03', '2031-01-04'),
        stay('2031-01-06', '2031-01-09'),
      ]),
    ).toEqual([
      { roomTypeId: other, start: '2031-01-01', end: '2031-01-02' },
      { roomTypeId: RT, start: '2031-01-01', end: '2031-01-04' },
      { roomTypeId: RT, start: '2031-01-05', end: '2031-01-09' },
    ]);
  });
});

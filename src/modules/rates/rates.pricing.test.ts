import { describe, expect, it } from 'vitest';
import {
  deriveAmount,
  NO_RESTRICTIONS,
  type PlanPricing,
  RateBook,
  roundMoney,
  type StoredNight,
  stayRestrictionViolations,
  sumMoney,
} from './rates.pricing.ts';

const RT = 'room-type';

function stored(ratePlanId: string, date: string, fields: Partial<StoredNight> = {}): StoredNight {
  return { ratePlanId, roomTypeId: RT, date, amount: null, ...NO_RESTRICTIONS, ...fields };
}

describe('money', () => {
  it('rounds half-up to two places', () => {
    expect(roundMoney('10.005')).toBe('10.01');
    expect(roundMoney('10.004999')).toBe('10.00');
    expect(roundMoney('0.125')).toBe('0.13');
    expect(roundMoney('7')).toBe('7.00');
  });

  it('sums exactly where binary floats would not', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(sumMoney(['0.10', '0.20'])).toBe('0.30');
    expect(sumMoney(Array.from({ length: 10 }, () => '0.10'))).toBe('1.00');
    expect(sumMoney(['9999999999.99', '0.01'])).toBe('10000000000.00');
  });
});

describe('deriveAmount', () => {
  it('applies percent offsets with half-up rounding', () => {
    expect(deriveAmount('100.00', 'percent', '-10.00')).toBe('90.00');
    expect(deriveAmount('99.99', 'percent', '-10.00')).toBe('89.99');
    // 5.35 × 0.5 = 2.675 exactly; a binary float holds 2.67499… and would round down.
    expect((5.35 * 0.5).toFixed(2)).toBe('2.67');
    expect(deriveAmount('5.35', 'percent', '-50.00')).toBe('2.68');
    expect(deriveAmount('10.05', 'percent', '-50.00')).toBe('5.03');
    expect(deriveAmount('80.00', 'percent', '12.50')).toBe('90.00');
    expect(deriveAmount('100.00', 'percent', '-100.00')).toBe('0.00');
  });

  it('applies amount offsets exactly', () => {
    expect(deriveAmount('100.00', 'amount', '-15.50')).toBe('84.50');
    expect(deriveAmount('0.10', 'amount', '0.20')).toBe('0.30');
  });

  it('prices a night with no parent amount, or a negative result, as no rate', () => {
    expect(deriveAmount(null, 'percent', '-10.00')).toBeNull();
    expect(deriveAmount('10.00', 'amount', '-10.01')).toBeNull();
    expect(deriveAmount('10.00', 'amount', '-10.00')).toBe('0.00');
  });
});

describe('RateBook', () => {
  const base: PlanPricing = { id: 'base', parentId: null, offsetType: null, offsetValue: null };
  const tenOff: PlanPricing = {
    id: 'ten-off',
    parentId: 'base',
    offsetType: 'percent',
    offsetValue: '-10.00',
  };
  const minusFive: PlanPricing = {
    id: 'minus-five',
    parentId: 'ten-off',
    offsetType: 'amount',
    offsetValue: '-5.00',
  };
  const plans = [base, tenOff, minusFive];

  it('resolves chained derived amounts, rounding at each level', () => {
    const book = new RateBook(plans, [stored('base', '2030-01-01', { amount: '33.35' })]);
    // 33.35 × 0.9 = 30.015 → 30.02; then − 5.00 = 25.02.
    expect(book.resolve('ten-off', RT, '2030-01-01').amount).toBe('30.02');
    expect(book.resolve('minus-five', RT, '2030-01-01').amount).toBe('25.02');
    expect(book.resolve('minus-five', RT, '2030-01-02').amount).toBeNull();
  });

  it('inherits restrictions until a derived plan has its own row, which overrides them all', () => {
    const book = new RateBook(plans, [
      stored('base', '2030-01-01', { amount: '100.00', stopSell: true, minStay: 2 }),
      stored('ten-off', '2030-01-01', { amount: '1.00', closedToArrival: true }),
      stored('base', '2030-01-02', { amount: '100.00', stopSell: true }),
    ]);
    const own = book.resolve('ten-off', RT, '2030-01-01');
    expect(own).toMatchObject({ amount: '90.00', stopSell: false, minStay: null, closedToArrival: true });
    expect(own.restrictionsFrom).toBe('ten-off');
    const inherited = book.resolve('minus-five', RT, '2030-01-02');
    expect(inherited).toMatchObject({ amount: '85.00', stopSell: true, restrictionsFrom: 'base' });
  });

  it('never stores amounts for derived plans: a stray stored amount is ignored', () => {
    const book = new RateBook(plans, [
      stored('base', '2030-01-01', { amount: '50.00' }),
      stored('ten-off', '2030-01-01', { amount: '999.00' }),
    ]);
    expect(book.resolve('ten-off', RT, '2030-01-01').amount).toBe('45.00');
  });
});

describe('stayRestrictionViolations', () => {
  const night = (date: string, fields: Partial<StoredNight> = {}) => ({
    date,
    ...NO_RESTRICTIONS,
    ...fields,
  });

  it('reads arrival restrictions from the first night and stop-sell from every night', () => {
    const result = stayRestrictionViolations([
      night('2030-01-01', { closedToArrival: true, minStay: 3 }),
      night('2030-01-02', { stopSell: true, closedToArrival: true, minStay: 9 }),
    ]);
    expect(result).toEqual([
      { date: '2030-01-01', reasons: ['CLOSED_TO_ARRIVAL', 'MIN_STAY'] },
      { date: '2030-01-02', reasons: ['STOP_SELL'] },
    ]);
  });

  it('refuses stays longer than the arrival night allows', () => {
    const result = stayRestrictionViolations([
      night('2030-01-01', { maxStay: 1 }),
      night('2030-01-02', { maxStay: 5 }),
    ]);
    expect(result[0]!.reasons).toEqual(['MAX_STAY']);
  });

  it('reports a closed departure date on the last night, and not a closed last night', () => {
    const nights = [night('2030-01-01'), night('2030-01-02', { closedToDeparture: true })];
    expect(stayRestrictionViolations(nights, { date: '2030-01-03', closedToDeparture: false })).toEqual([
      { date: '2030-01-01', reasons: [] },
      { date: '2030-01-02', reasons: [] },
    ]);
    expect(
      stayRestrictionViolations(nights, { date: '2030-01-03', closedToDeparture: true })[1]!.reasons,
    ).toEqual(['CLOSED_TO_DEPARTURE']);
  });
});

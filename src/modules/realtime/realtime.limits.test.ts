import { describe, expect, it } from 'vitest';
import { SubscribeBudget } from './realtime.limits.ts';

describe('SubscribeBudget', () => {
  it('lets a minute’s worth through at once, then one per 60/n seconds, per user', () => {
    const budget = new SubscribeBudget(6);
    const start = 1_000_000;
    for (let i = 0; i < 6; i++) expect(budget.take('a', start)).toBe(0);
    expect(budget.take('a', start)).toBe(10_000);
    expect(budget.take('b', start)).toBe(0);
    expect(budget.take('a', start + 4_000)).toBe(6_000);
    expect(budget.take('a', start + 10_000)).toBe(0);
    expect(budget.take('a', start + 10_001)).toBeGreaterThan(9_000);
    // Never more than a minute's worth, however long it waited.
    const later = start + 3_600_000;
    for (let i = 0; i < 6; i++) expect(budget.take('a', later)).toBe(0);
    expect(budget.take('a', later)).toBeGreaterThan(0);
  });
});

import { describe, expect, it } from 'vitest';
import { KeyedBatcher } from './reservation.batcher.ts';

/** A run whose batches finish only when the test says so. */
function controlledRun() {
  const batches: Array<{ items: number[]; finish: () => void; fail: (e: Error) => void }> = [];
  const run = (items: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      batches.push({ items, finish: () => resolve(items.map((n) => n * 10)), fail: reject });
    });
  return { batches, run };
}

describe('KeyedBatcher', () => {
  it('runs a lone item at once and batches what arrives while a batch runs, in order', async () => {
    const { batches, run } = controlledRun();
    const batcher = new KeyedBatcher(run, 3);
    const first = batcher.submit('a', 1);
    expect(batches.map((b) => b.items)).toEqual([[1]]);
    const rest = [2, 3, 4, 5].map((n) => batcher.submit('a', n));
    const other = batcher.submit('b', 9);
    expect(batches.map((b) => b.items)).toEqual([[1], [9]]);
    batches[0]!.finish();
    expect(await first).toBe(10);
    await Promise.resolve();
    expect(batches.map((b) => b.items)).toEqual([[1], [9], [2, 3, 4]]);
    batches[2]!.finish();
    await Promise.all(rest.slice(0, 3));
    await Promise.resolve();
    expect(batches.at(-1)!.items).toEqual([5]);
    batches.at(-1)!.finish();
    batches[1]!.finish();
    expect(await Promise.all([...rest, other])).toEqual([20, 30, 40, 50, 90]);
  });

  it('runs up to `concurrency` batches of a key at once and rejects only the failed batch', async () => {
    const { batches, run } = controlledRun();
    const batcher = new KeyedBatcher(run, 10, 2);
    const a = batcher.submit('k', 1);
    const b = batcher.submit('k', 2);
    const c = batcher.submit('k', 3);
    expect(batches.map((x) => x.items)).toEqual([[1], [2]]);
    batches[0]!.fail(new Error('boom'));
    await expect(a).rejects.toThrow('boom');
    await Promise.resolve();
    expect(batches.map((x) => x.items)).toEqual([[1], [2], [3]]);
    batches[1]!.finish();
    batches[2]!.finish();
    expect(await Promise.all([b, c])).toEqual([20, 30]);
  });
});

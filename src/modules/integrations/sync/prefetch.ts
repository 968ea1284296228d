/**
 * Reads an async iterator one step ahead, so the next page is on the wire while the current one
 * is mapped and written. A failure of the step ahead surfaces when that step is consumed.
 */
export async function* prefetch<T>(source: AsyncIterator<T>): AsyncGenerator<T> {
  let ahead = source.next();
  // Handled here so a failure during the consumer's await is not an unhandled rejection.
  ahead.catch(() => {});
  try {
    for (;;) {
      const step = await ahead;
      if (step.done) return;
      ahead = source.next();
      ahead.catch(() => {});
      yield step.value;
    }
  } finally {
    await source.return?.();
  }
}

/** Runs `work` over items with at most `limit` at a time; every item settles, none stops another. */
export async function mapBounded<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await work(items[index]!) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

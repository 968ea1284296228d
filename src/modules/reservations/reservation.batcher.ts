interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Groups work that contends for the same rows. Per key, one batch runs at a time; whatever
 * arrives meanwhile waits and runs as the next batch. An idle key runs a lone item at once (no
 * added latency); a hot key turns many one-row-lock transactions into a few bigger ones.
 */
export class KeyedBatcher<T, R> {
  private readonly queues = new Map<string, Array<Waiting<T, R>>>();

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly maxBatch: number,
  ) {}

  submit(key: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queue = this.queues.get(key);
      if (queue) {
        queue.push({ item, resolve, reject });
        return;
      }
      const fresh: Array<Waiting<T, R>> = [{ item, resolve, reject }];
      this.queues.set(key, fresh);
      void this.drain(key, fresh);
    });
  }

  private async drain(key: string, queue: Array<Waiting<T, R>>): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, this.maxBatch);
      try {
        const results = await this.run(batch.map((waiting) => waiting.item));
        batch.forEach((waiting, i) => {
          waiting.resolve(results[i]!);
        });
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    this.queues.delete(key);
  }
}

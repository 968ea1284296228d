interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

interface Lane<T, R> {
  queue: Array<Waiting<T, R>>;
  running: number;
}

/**
 * Groups work that contends for the same rows. Per key, at most `concurrency` batches run at a
 * time; whatever arrives meanwhile waits and runs in the next batch. An idle key runs a lone
 * item at once (no added latency); a busy key turns many small transactions into a few bigger
 * ones, which costs far fewer round trips per item.
 */
export class KeyedBatcher<T, R> {
  private readonly lanes = new Map<string, Lane<T, R>>();

  private readonly run: (items: T[]) => Promise<R[]>;
  private readonly maxBatch: number;
  private readonly concurrency: number;

  constructor(run: (items: T[]) => Promise<R[]>, maxBatch: number, concurrency = 1) {
    this.run = run;
    this.maxBatch = maxBatch;
    this.concurrency = concurrency;
  }

  submit(key: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let lane = this.lanes.get(key);
      if (!lane) {
        lane = { queue: [], running: 0 };
        this.lanes.set(key, lane);
      }
      lane.queue.push({ item, resolve, reject });
      if (lane.running < this.concurrency) void this.drain(key, lane);
    });
  }

  private async drain(key: string, lane: Lane<T, R>): Promise<void> {
    lane.running++;
    while (lane.queue.length > 0) {
      const batch = lane.queue.splice(0, this.maxBatch);
      try {
        const results = await this.run(batch.map((waiting) => waiting.item));
        batch.forEach((waiting, i) => {
          waiting.resolve(results[i]!);
        });
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    lane.running--;
    if (lane.running === 0) this.lanes.delete(key);
  }
}

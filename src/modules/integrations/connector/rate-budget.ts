/**
 * One request budget per PMS (type + host), shared by every hotel that syncs from it in this
 * process: a pace of `requests_per_second` and a cap on requests in flight. Workers in other
 * processes keep their own budgets (docs/integrations.md says so).
 */
export interface RequestBudget {
  /** Waits for a request slot; returns the release function. */
  acquire(signal?: AbortSignal): Promise<() => void>;
}

class PacedBudget implements RequestBudget {
  private nextSlot = 0;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  intervalMs: number;
  private readonly maxInFlight: number;

  constructor(intervalMs: number, maxInFlight: number) {
    this.intervalMs = intervalMs;
    this.maxInFlight = maxInFlight;
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.inFlight < this.maxInFlight) {
      this.inFlight += 1;
    } else {
      // Woken by a release, which hands its slot over (inFlight stays the same).
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const at = this.waiting.indexOf(wake);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(wake);
      });
    }
    const now = Date.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + this.intervalMs;
    try {
      if (slot > now) await sleep(slot - now, signal);
    } catch (error) {
      this.release();
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release();
    };
  }

  private release() {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight -= 1;
  }
}

const budgets = new Map<string, PacedBudget>();

/** The shared budget of one PMS; its pace follows the latest config seen for it. */
export function budgetFor(
  key: string,
  requestsPerSecond: number | undefined,
  maxInFlight = 4,
): RequestBudget {
  const intervalMs = requestsPerSecond ? 1000 / requestsPerSecond : 0;
  let budget = budgets.get(key);
  if (!budget) {
    budget = new PacedBudget(intervalMs, maxInFlight);
    budgets.set(key, budget);
  }
  budget.intervalMs = intervalMs;
  return budget;
}

/** A budget of its own (tests, previews). */
export function privateBudget(requestsPerSecond: number | undefined, maxInFlight = 4): RequestBudget {
  return new PacedBudget(requestsPerSecond ? 1000 / requestsPerSecond : 0, maxInFlight);
}

/** setTimeout as a promise that an abort signal cuts short. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

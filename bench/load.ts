/**
 * Load generation shared by the booking bench and its paced-check worker: closed-loop and paced
 * (open-loop) phases, their outcome tally, and a lean JSON client over kept-alive connections.
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { percentile } from './support.ts';

export type Outcome = 'ok' | 'soldout' | 'failed';
export type Operation = (client: number) => Promise<{ outcome: Outcome; detail?: string }>;

export interface PhaseResult {
  name: string;
  clients: number;
  seconds: number;
  requests: number;
  ok: number;
  soldOut: number;
  failed: number;
  perSecond: number;
  p50: number;
  p99: number;
  failures: Record<string, number>;
  /** CPU the API server process spent per request (ms), when measured. */
  serverCpuMsPerRequest?: number;
  /** For a paced phase: the rate offered. */
  offeredPerSecond?: number;
  /**
   * Share of the machine's CPU time the hypervisor gave to other guests during the phase (steal,
   * Linux only): when it rises, every process of the bench waits, whatever the server does.
   */
  stealPercent?: number;
}

/** The machine's CPU time counters (the `cpu` line of /proc/stat), or undefined off Linux. */
function cpuTimes(): number[] | undefined {
  try {
    return readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  } catch {
    return undefined;
  }
}

/** Steal time as a share of all CPU time in a set of cpuTimes() deltas. */
function stealShare(delta: number[] | undefined): number | undefined {
  if (!delta) return undefined;
  const total = delta.reduce((sum, value) => sum + value, 0);
  return total > 0 ? (100 * delta[7]!) / total : undefined;
}

/**
 * Counts the outcomes and latencies of a phase's requests. A phase may be measured in several
 * windows (paced phases taken in turns with another): the result pools every window's requests,
 * time and CPU counters.
 */
export class Tally {
  private readonly latencies: number[] = [];
  private readonly failures: Record<string, number> = {};
  private ok = 0;
  private soldOut = 0;
  private failed = 0;
  private measuredMs = 0;
  private cpuDelta: number[] | undefined = cpuTimes()?.map(() => 0);

  /** Runs `work` as one measured window of this phase. */
  async window(work: () => Promise<void>): Promise<void> {
    const started = performance.now();
    const cpuBefore = cpuTimes();
    await work();
    this.measuredMs += performance.now() - started;
    const cpuAfter = cpuTimes();
    if (this.cpuDelta && cpuBefore && cpuAfter)
      this.cpuDelta = this.cpuDelta.map((sum, i) => sum + cpuAfter[i]! - cpuBefore[i]!);
  }

  /**
   * Runs one request and records it. Its latency counts from `due` when it was sent late (the
   * generator's queue is the server's doing), and from when it was sent when a timer fired it
   * early (Node's timers run on a millisecond clock, up to a millisecond ahead).
   */
  async record(operation: Operation, client: number, due: number): Promise<void> {
    const since = Math.min(due, performance.now());
    let result: { outcome: Outcome; detail?: string };
    try {
      result = await operation(client);
    } catch (error) {
      result = { outcome: 'failed', detail: error instanceof Error ? error.message : String(error) };
    }
    this.latencies.push(performance.now() - since);
    if (result.outcome === 'ok') this.ok++;
    else if (result.outcome === 'soldout') this.soldOut++;
    else {
      this.failed++;
      const key = result.detail ?? 'unknown';
      this.failures[key] = (this.failures[key] ?? 0) + 1;
    }
  }

  result(name: string, clients: number): PhaseResult {
    const elapsed = this.measuredMs / 1000;
    return {
      name,
      clients,
      seconds: elapsed,
      requests: this.latencies.length,
      ok: this.ok,
      soldOut: this.soldOut,
      failed: this.failed,
      perSecond: this.ok / elapsed,
      p50: percentile(this.latencies, 50),
      p99: percentile(this.latencies, 99),
      failures: this.failures,
      stealPercent: stealShare(this.cpuDelta),
    };
  }
}

/** `clients` loops, each sending one request after the other until the time is up. */
export async function phase(
  name: string,
  clients: number,
  seconds: number,
  operation: Operation,
): Promise<PhaseResult> {
  const tally = new Tally();
  const deadline = performance.now() + seconds * 1000;
  await tally.window(async () => {
    await Promise.all(
      Array.from({ length: clients }, async (_, client) => {
        while (performance.now() < deadline) await tally.record(operation, client, performance.now());
      }),
    );
  });
  return tally.result(name, clients);
}

/**
 * `clients` connections sending `rate` requests a second between them on a fixed schedule (open
 * loop). Latency counts from when a request was due, so a server that falls behind pays for the
 * queue it causes (no coordinated omission). Bounded: rate × seconds requests in all. Given a
 * `tally`, the window adds to it and the result covers every window so far.
 */
export async function pacedPhase(
  name: string,
  clients: number,
  seconds: number,
  rate: number,
  operation: Operation,
  tally = new Tally(),
): Promise<PhaseResult> {
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  await tally.window(async () => {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async (_, client) => {
        for (let n = client; n < total; n += clients) {
          const due = started + n * interval;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          await tally.record(operation, client, due);
        }
      }),
    );
  });
  return { ...tally.result(name, clients), offeredPerSecond: rate };
}

/**
 * JSON requests with a bearer token over kept-alive connections (one per client, as real clients
 * would hold). The load generator shares the server's two cores, so its CPU per request is taken
 * from the server. undici's Pool costs it about 30 % less CPU per request than node:http's Agent
 * (0.17 against 0.24 ms per paced check, measured in turns against one server), which itself costs
 * a fifth of what fetch does.
 */
export class JsonClient {
  private readonly pool: Pool;
  private readonly headers: Record<string, string>;

  constructor(url: string, token: string, connections: number) {
    this.pool = new Pool(url, { connections });
    this.headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  }

  async post(path: string, body: unknown): Promise<{ status: number; body: any }> {
    const response = await this.pool.request({
      path,
      method: 'POST',
      headers: this.headers,
      body: JSON.stringify(body),
    });
    return { status: response.statusCode, body: await response.body.json() };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Load generation shared by the booking bench and its paced-check worker: closed-loop and paced
 * (open-loop) phases, their outcome tally, and a lean JSON client over kept-alive connections.
 */
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
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
 * would hold), through node:http's Agent. The load generator shares the server's two cores and its
 * own pauses count against the server. With undici's Pool, used here before, the generator's
 * young generation grew to 64 MB and each scavenge copied and promoted 6–20 MB, taking 20–35 ms
 * (`--trace-gc-nvp` in the paced-check worker, 2026-12-03); against a bare node:http server that
 * returns a fixed body, the paced p99 was 12–20 ms with undici and 2–10 ms with node:http. With
 * node:http the worker's scavenges stay under 5 ms, for the same client CPU per request (0.24 ms).
 */
export class JsonClient {
  private readonly agent: Agent;
  private readonly target: { host: string; port: string };
  private readonly headers: Record<string, string>;

  constructor(url: string, token: string, connections: number) {
    const { hostname, port } = new URL(url);
    this.target = { host: hostname, port };
    this.agent = new Agent({ keepAlive: true, maxSockets: connections });
    this.headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  }

  post(path: string, body: unknown): Promise<{ status: number; body: any }> {
    const data = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        {
          ...this.target,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { ...this.headers, 'content-length': Buffer.byteLength(data) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            try {
              resolve({
                status: response.statusCode ?? 0,
                body: JSON.parse(Buffer.concat(chunks).toString()),
              });
            } catch (error) {
              reject(error);
            }
          });
        },
      );
      request.on('error', reject);
      request.end(data);
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

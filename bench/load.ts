/**
 * Load generation shared by the booking bench and its paced-check worker: closed-loop and paced
 * (open-loop) phases, their outcome tally, and a lean JSON client over kept-alive connections.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
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

/** Steal time as a share of all CPU time between two readings of cpuTimes(). */
function stealBetween(before: number[] | undefined, after: number[] | undefined): number | undefined {
  if (!before || !after) return undefined;
  const delta = after.map((value, i) => value - before[i]!);
  const total = delta.reduce((sum, value) => sum + value, 0);
  return total > 0 ? (100 * delta[7]!) / total : undefined;
}

/** Counts the outcomes and latencies of one phase's requests. */
class Tally {
  private readonly latencies: number[] = [];
  private readonly failures: Record<string, number> = {};
  private ok = 0;
  private soldOut = 0;
  private failed = 0;
  private readonly started = performance.now();
  private readonly cpuAtStart = cpuTimes();

  /** Runs one request and records it, its latency counted from `since`. */
  async record(operation: Operation, client: number, since: number): Promise<void> {
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
    const elapsed = (performance.now() - this.started) / 1000;
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
      stealPercent: stealBetween(this.cpuAtStart, cpuTimes()),
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
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < deadline) await tally.record(operation, client, performance.now());
    }),
  );
  return tally.result(name, clients);
}

/**
 * `clients` connections sending `rate` requests a second between them on a fixed schedule (open
 * loop). Latency counts from when a request was due, so a server that falls behind pays for the
 * queue it causes (no coordinated omission). Bounded: rate × seconds requests in all.
 */
export async function pacedPhase(
  name: string,
  clients: number,
  seconds: number,
  rate: number,
  operation: Operation,
): Promise<PhaseResult> {
  const tally = new Tally();
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
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
  return { ...tally.result(name, clients), offeredPerSecond: rate };
}

/**
 * JSON requests with a bearer token over kept-alive connections (one per client, as real clients
 * would hold). node:http costs the load generator about a fifth of the CPU that fetch does per
 * request, so the figures measure the server.
 */
export class JsonClient {
  private readonly agent: http.Agent;
  private readonly base: URL;
  private readonly token: string;

  constructor(url: string, token: string, maxSockets: number) {
    this.base = new URL(url);
    this.token = token;
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  post(path: string, body: unknown): Promise<{ status: number; body: any }> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: this.base.hostname,
          port: this.base.port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            try {
              resolve({
                status: response.statusCode ?? 0,
                body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
              });
            } catch (error) {
              reject(error);
            }
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

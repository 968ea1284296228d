/**
 * The paced availability-check phases, run in a worker thread of their own: the API's check and,
 * as the reference for what this machine allows, the raw SQL read at the same rate over the same
 * number of connections, taken in turns (window by window) so both see the same minutes of the
 * host. Latencies count from when each request was due, so any pause of the load generator counts
 * against the server: in the bench's main thread, whose heap holds the whole run so far, the
 * generator's own garbage collection (incremental marking, weak-callback passes of 3–13 ms) lined
 * up with most of the slow requests. Here its heap is only these phases', and it warms up before
 * it measures: long enough (8 s per side in the bench) for TurboFan to finish optimising the
 * generator's hot code, whose background compiles otherwise take both cores for a few hundred
 * milliseconds some seconds in.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { apiCheck, rawRead } from './booking.check.ts';
import { JsonClient, type PhaseResult, pacedPhase, Tally } from './load.ts';

export interface PacedCheckInput {
  url: string;
  token: string;
  databaseUrl: string;
  spread: string[];
  clients: number;
  rate: number;
  /** Measured seconds per side, in `windows` turns. */
  seconds: number;
  windows: number;
  warmUpSeconds: number;
  names: { api: string; raw: string };
}

export interface PacedCheckOutput {
  api: PhaseResult;
  raw: PhaseResult;
}

const input = workerData as PacedCheckInput;
const client = new JsonClient(input.url, input.token, input.clients);
// Connections stay open, as in the API's pool: closing idle ones made the next burst wait for new ones.
const pool = new pg.Pool({ connectionString: input.databaseUrl, max: input.clients, idleTimeoutMillis: 0 });
try {
  const sides = [
    { name: input.names.raw, operation: () => rawRead(pool, input.spread), tally: new Tally() },
    { name: input.names.api, operation: () => apiCheck(client, input.spread), tally: new Tally() },
  ];
  for (const side of sides)
    await pacedPhase('warm-up', input.clients, input.warmUpSeconds, input.rate, side.operation);
  const results: PhaseResult[] = [];
  for (let window = 0; window < input.windows; window++) {
    for (const [i, side] of sides.entries()) {
      const windowSeconds = input.seconds / input.windows;
      results[i] = await pacedPhase(
        side.name,
        input.clients,
        windowSeconds,
        input.rate,
        side.operation,
        side.tally,
      );
    }
  }
  parentPort!.postMessage({ raw: results[0]!, api: results[1]! } satisfies PacedCheckOutput);
} finally {
  await client.close();
  await pool.end();
}

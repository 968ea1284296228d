/**
 * The paced availability-check phase, run in a worker thread of its own. Its latencies count from
 * when each request was due, so any pause of the load generator counts against the server: in the
 * bench's main thread, whose heap holds the whole run so far, the generator's own garbage
 * collection (incremental marking, weak-callback passes of 3–13 ms) lined up with most of the slow
 * requests. Here its heap is only this phase's, and it warms up before it measures: long enough
 * (8 s in the bench) for TurboFan to finish optimising the generator's hot code, whose background
 * compiles otherwise take both cores for a few hundred milliseconds some seconds in.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { apiCheck } from './booking.check.ts';
import { JsonClient, pacedPhase } from './load.ts';

export interface PacedCheckInput {
  url: string;
  token: string;
  spread: string[];
  clients: number;
  rate: number;
  seconds: number;
  warmUpSeconds: number;
  name: string;
}

const input = workerData as PacedCheckInput;
const client = new JsonClient(input.url, input.token, input.clients);
try {
  const check = () => apiCheck(client, input.spread);
  await pacedPhase('warm-up', input.clients, input.warmUpSeconds, input.rate, check);
  parentPort!.postMessage(await pacedPhase(input.name, input.clients, input.seconds, input.rate, check));
} finally {
  client.close();
}

/**
 * The PMS simulator of the ingestion benchmark, in a worker thread: a real PMS is another
 * machine, so its page rendering must not queue on the pipeline's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type SimulatorOptions, startSimulator } from '../src/modules/integrations/simulator/server.ts';

const { options, hotels } = workerData as { options: SimulatorOptions; hotels: string[] };
const simulator = await startSimulator(options);
const bad: Record<string, number> = {};
// Generating the hotels now keeps it out of the timed part.
for (const hotel of hotels) bad[hotel] = simulator.bookings(hotel).filter((b) => b.bad).length;
parentPort!.postMessage({ url: simulator.url, credentials: simulator.credentials, bad });
parentPort!.once('message', async () => {
  await simulator.close();
  parentPort!.postMessage('closed');
});

import cluster from 'node:cluster';
import { openDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import type { AppConfig } from './config.ts';

/**
 * `pms start --workers N`: N API (or realtime) processes sharing one port through node:cluster, so
 * one machine's cores all serve requests. The nodes are stateless (DESIGN.md §2): batching and
 * locking happen in PostgreSQL, fan-out through LISTEN/NOTIFY. The primary prepares the database
 * once (booting the embedded server when DATABASE_URL is unset) and hands its URL to the workers.
 */
export async function runClusterPrimary(config: AppConfig, workers: number): Promise<void> {
  const database = await openDatabase(config, {
    log: (message) => console.log(message),
    poolSize: 1,
    stoppedByOwnerOnSignal: true,
  });
  await migrateToLatest(database.db);
  await database.db.destroy();
  const env = { DATABASE_URL: database.url };
  let stopping = false;
  const fork = () => cluster.fork(env);
  for (let i = 0; i < workers; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    console.error(`API worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const exits = Object.values(cluster.workers ?? {}).map(
      (worker) => new Promise((resolve) => worker?.once('exit', resolve)),
    );
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    await Promise.all(exits);
    await database.embedded?.stop();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

export const isClusterWorker = () => cluster.isWorker;

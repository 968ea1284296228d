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
  /**
   * Longest one statement may run (PostgreSQL's `statement_timeout`; 0 or unset = no limit). The
   * client also stops waiting for an answer {@link READ_TIMEOUT_MARGIN_MS} later and closes the
   * connection: a server that stopped answering (a network partition, a hung host) fails the
   * request instead of holding it and its pooled connection until TCP gives up, about 15 minutes.
   */
  statementTimeoutMs?: number;
  /**
   * Longest a transaction may sit waiting for its client (PostgreSQL's
   * `idle_in_transaction_session_timeout`; 0 or unset = no limit): a process that froze or lost its
   * network in the middle of a booking releases the nights it locked within this time.
   */
  idleInTransactionTimeoutMs?: number;
}

/** How much longer than the server's statement limit the client waits for an answer. */
export const READ_TIMEOUT_MARGIN_MS = 5_000;

/**
 * The client stopped waiting for the database: it did not answer within the statement limit and the
 * margin. The connection it was on is closed; whether a COMMIT in flight took effect is unknown, which
 * is why the API answers 503 and a client retries with the same Idempotency-Key.
 */
export class QueryTimeoutError extends Error {
  readonly code = 'PMS_QUERY_TIMEOUT';
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`The database did not answer within ${timeoutMs} ms; the connection was closed.`);
    this.name = 'QueryTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Marks a hot statement to run as a named prepared statement: `sql\`${PREPARED} SELECT …\``.
 * PostgreSQL then parses it once per connection and can reuse its plan, which on short queries
 * costs more than running them (measured: a 30-night calendar read went from 340 to about 130 µs of
 * server CPU). Only statements whose text is fixed may carry it (no IN lists of varying length):
 * each distinct text stays prepared for the life of its connection.
 */
/** The text the `PREPARED` marker puts at the start of a statement (for raw `client.query` calls). */
export const PREPARED_MARK = '/* prepared */';
export const PREPARED = sql.raw(PREPARED_MARK);

/** Marks the statements {@link withoutTimeLimits} sends; the client-side wait follows them. */
const NO_LIMIT_MARK = '/* no time limit */';
const LIMITS_MARK = '/* time limits */';

/**
 * Runs `fn` on one pooled connection with no statement time limit on either side, then restores the
 * connection's limits: for work whose length grows with the data, such as migrations.
 */
export async function withoutTimeLimits<T, R>(db: Kysely<T>, fn: (db: Kysely<T>) => Promise<R>): Promise<R> {
  return db.connection().execute(async (connection) => {
    await sql.raw(`${NO_LIMIT_MARK} SET statement_timeout = 0`).execute(connection);
    try {
      return await fn(connection);
    } finally {
      await sql.raw(`${LIMITS_MARK} RESET statement_timeout`).execute(connection);
    }
  });
}

const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `pms_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

type QueryCallback = (error: Error | null, result: pg.QueryResult) => void;

/**
 * Wraps a pooled client's `query`: marked statements go as named prepared statements, and every
 * query is handed to pg with its callback, the promise made here. pg's own promise form (what
 * Kysely calls) sets the callback on the query after constructing it; with that, each query's
 * result rows were still alive at the next young-generation collection, so all of them were copied
 * and promoted: about 3 MB per collection and 4–10 ms pauses in an API process serving availability
 * checks, against 20 KB and under 1 ms this way (measured; docs/PERFORMANCE.md, "GC pauses").
 *
 * With a read timeout, a query that gets no answer in time fails with {@link QueryTimeoutError} and
 * the connection is closed (pg alone would leave it waiting for that answer, with every later query
 * queued behind it); the statements that follow on it, such as Kysely's ROLLBACK, fail the same way,
 * and the pool drops the connection when it is released.
 */
function wrapClientQuery(client: pg.PoolClient, defaultReadTimeoutMs: number): void {
  const query = client.query.bind(client) as (
    config: unknown,
    values?: unknown,
    callback?: unknown,
  ) => unknown;
  let readTimeoutMs = defaultReadTimeoutMs;
  let timedOut: QueryTimeoutError | undefined;
  client.query = ((config: unknown, values?: unknown, callback?: unknown) => {
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    if (typeof config === 'string' && config.startsWith(PREPARED_MARK)) {
      config = { name: statementName(config), text: config, values };
      values = undefined;
    }
    // Query objects (cursors, streams) and callers with a callback keep pg's own behaviour.
    if (callback || typeof (config as { submit?: unknown } | null)?.submit === 'function') {
      return query(config, values, callback);
    }
    if (typeof config === 'string') {
      if (config.startsWith(NO_LIMIT_MARK)) readTimeoutMs = 0;
      else if (config.startsWith(LIMITS_MARK)) readTimeoutMs = defaultReadTimeoutMs;
      config = { text: config, values };
      values = undefined;
    }
    if (readTimeoutMs > 0) config = { ...(config as object), query_timeout: readTimeoutMs };
    const timeoutMs = readTimeoutMs;
    return new Promise((resolve, reject) => {
      if (timedOut) {
        reject(new QueryTimeoutError(timedOut.timeoutMs));
        return;
      }
      query(config, values, ((error, result) => {
        if (error?.message === 'Query read timeout') {
          timedOut = new QueryTimeoutError(timeoutMs);
          // With a query in flight, pg's end() destroys the socket; the pool drops an ended client
          // when it is released, so no later request is handed this one.
          client.end().catch(() => {});
          reject(timedOut);
        } else if (error) reject(error);
        else resolve(result);
      }) as QueryCallback);
    }).catch((error: Error) => {
      // As pg does: a stack that leads back to the caller's await, not to the socket read.
      Error.captureStackTrace(error);
      throw error;
    });
  }) as typeof client.query;
}

export type TimeLimits = Pick<DbOptions, 'statementTimeoutMs' | 'idleInTransactionTimeoutMs'>;

/**
 * The settings every long-lived connection of ours gets, for pg's Client or Pool: TCP keep-alive
 * after 10 s of silence and ten unanswered probes a second apart (Node's settings), so the kernel
 * notices a peer or middlebox that went away (without a delay the system's default applies, two
 * hours); and the time limits, sent at connection start so every session has them (0 leaves the
 * server's own).
 */
export function connectionSettings(limits: TimeLimits): pg.ClientConfig {
  return {
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(limits.statementTimeoutMs ? { statement_timeout: limits.statementTimeoutMs } : {}),
    ...(limits.idleInTransactionTimeoutMs
      ? { idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs }
      : {}),
  };
}

/** How long the client waits for an answer: the statement limit and the margin, or 0 (no limit). */
export function readTimeoutFor(limits: TimeLimits): number {
  return limits.statementTimeoutMs ? limits.statementTimeoutMs + READ_TIMEOUT_MARGIN_MS : 0;
}

export function createPool(options: DbOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 20,
    application_name: options.applicationName ?? 'pms',
    connectionTimeoutMillis: 10_000,
    // A connection, once opened, stays open: pg-pool hands out the most recently released client,
    // so under steady load below the peak the others sat idle, were closed after the idle timeout,
    // and the next burst paid for new ones (TCP, a server process, SCRAM, every prepared statement
    // again) while requests queued behind them. Measured at a paced 1,300 reads/s: p99 2–6 ms
    // without reaping against 140–290 ms with it (docs/PERFORMANCE.md). The pool never holds more
    // than `max`, which PostgreSQL's max_connections must allow for anyway (docs/deploy.md).
    idleTimeoutMillis: 0,
    ...connectionSettings(options),
  });
  const readTimeoutMs = readTimeoutFor(options);
  // A client that loses its server (a PostgreSQL restart) must not crash the process. The pool
  // listens on idle clients only; a checked-out client between two statements of a transaction
  // would emit an unhandled 'error'. The statement in flight, if any, still fails on its own.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
    wrapClientQuery(client, readTimeoutMs);
  });
  return pool;
}

export function createDb(options: DbOptions): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPool(options) }) });
}

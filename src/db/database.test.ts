import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase } from '../../test/helpers/context.ts';
import { startPgProxy } from '../../test/helpers/pg-proxy.ts';
import { loadConfig } from '../app/config.ts';
import { openDatabase } from './connect.ts';
import {
  createDb,
  createPool,
  type Db,
  PREPARED,
  PREPARED_MARK,
  QueryTimeoutError,
  READ_TIMEOUT_MARGIN_MS,
  withoutTimeLimits,
} from './database.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

describe('statements marked PREPARED', () => {
  let db: Db;
  beforeAll(async () => {
    // One connection, so every statement below runs on the same session.
    db = createDb({ connectionString: database.url, max: 1 });
  });
  afterAll(async () => {
    await db.destroy();
  });

  const prepared = async () =>
    (
      await sql<{
        statement: string;
      }>`SELECT statement FROM pg_prepared_statements ORDER BY statement`.execute(db)
    ).rows.map((row) => row.statement);

  it('run as one named prepared statement per text, reused with new parameters', async () => {
    const double = (n: number) => sql<{ v: number }>`${PREPARED} SELECT ${n}::int * 2 AS v`.execute(db);
    expect((await double(2)).rows[0]!.v).toBe(4);
    expect((await double(21)).rows[0]!.v).toBe(42);
    const statements = await prepared();
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain('SELECT $1::int * 2 AS v');
  });

  it('other statements stay unnamed', async () => {
    const before = await prepared();
    await sql`SELECT ${1}::int AS v`.execute(db);
    await db.selectFrom('property').select('id').execute();
    expect(await prepared()).toEqual(before);
  });

  it('a failing prepared statement reports its error and the next call still works', async () => {
    const divide = (n: number) => sql<{ v: number }>`${PREPARED} SELECT 10 / ${n}::int AS v`.execute(db);
    await expect(divide(0)).rejects.toMatchObject({ code: '22012' });
    expect((await divide(5)).rows[0]!.v).toBe(2);
  });
});

describe('pooled clients run every query in callback form', () => {
  let pool: ReturnType<typeof createPool>;
  beforeAll(async () => {
    pool = createPool({ connectionString: database.url, max: 2 });
  });
  afterAll(async () => {
    await pool.end();
  });

  it("a query without a callback resolves with pg's result", async () => {
    const client = await pool.connect();
    try {
      const result = await client.query<{ v: number }>('SELECT $1::int + 1 AS v', [41]);
      expect(result.rows).toEqual([{ v: 42 }]);
      expect(result.rowCount).toBe(1);
      expect(result.command).toBe('SELECT');
      const config = await client.query<{ v: string }>({ text: 'SELECT $1::text AS v', values: ['x'] });
      expect(config.rows).toEqual([{ v: 'x' }]);
    } finally {
      client.release();
    }
  });

  it("a failing query rejects with pg's error, whose stack leads back to the caller", async () => {
    const client = await pool.connect();
    try {
      const error = await client.query('SELECT 1 / $1::int', [0]).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: '22012', message: 'division by zero' });
      expect((error as Error).stack).toContain('database.test.ts');
      expect((await client.query('SELECT 1 AS v')).rows).toEqual([{ v: 1 }]);
    } finally {
      client.release();
    }
  });

  it("callers that pass a callback, with or without values, keep pg's callback form", async () => {
    const client = await pool.connect();
    try {
      const withValues = await new Promise((resolve, reject) =>
        client.query('SELECT $1::int AS v', [7], (error, result) =>
          error ? reject(error) : resolve(result.rows),
        ),
      );
      expect(withValues).toEqual([{ v: 7 }]);
      const withoutValues = await new Promise((resolve, reject) =>
        client.query('SELECT 8 AS v', (error, result) => (error ? reject(error) : resolve(result.rows))),
      );
      expect(withoutValues).toEqual([{ v: 8 }]);
      const marked = await new Promise((resolve, reject) =>
        client.query(`${PREPARED_MARK} SELECT $1::int * 3 AS v`, [3], (error, result) =>
          error ? reject(error) : resolve(result.rows),
        ),
      );
      expect(marked).toEqual([{ v: 9 }]);
      const statements = await client.query('SELECT statement FROM pg_prepared_statements');
      expect(statements.rows.map((row) => row.statement)).toEqual([expect.stringContaining('* 3 AS v')]);
    } finally {
      client.release();
    }
  });

  it('pool.query works in both forms', async () => {
    expect((await pool.query('SELECT 5 AS v')).rows).toEqual([{ v: 5 }]);
    await expect(pool.query('SELECT nope')).rejects.toMatchObject({ code: '42703' });
  });
});

describe('the pool keeps the connections it opened', () => {
  it('idle connections are not closed, however long they wait', async () => {
    const pool = createPool({ connectionString: database.url, max: 3, applicationName: 'pms-pool-keep' });
    try {
      const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
      const pids = await Promise.all(
        clients.map(async (client) => (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid),
      );
      // The idle timer, if any, starts when a client is released: fake time from there on.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        for (const client of clients) client.release();
        vi.advanceTimersByTime(60 * 60 * 1000);
      } finally {
        vi.useRealTimers();
      }
      expect(pool.totalCount).toBe(3);
      expect(pool.idleCount).toBe(3);
      // The same server sessions answer afterwards: nothing was reopened.
      const again = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
      const pidsAgain = await Promise.all(
        again.map(async (client) => (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid),
      );
      for (const client of again) client.release();
      expect(new Set(pidsAgain)).toEqual(new Set(pids));
    } finally {
      await pool.end();
    }
  });
});

describe('DATABASE_POOL_SIZE', () => {
  it('caps the connections one process opens: more queries at once wait for one of them', async () => {
    const config = loadConfig({ DATABASE_URL: database.url, DATABASE_POOL_SIZE: '3' }, { dotenv: false });
    const opened = await openDatabase(config, { applicationName: 'pms-pool-size' });
    try {
      // Eight statements at once: the pool opens three connections and queues the other five
      // (with the default of 20 it would open eight).
      const pids = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const result = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(opened.db);
          return result.rows[0]!.pid;
        }),
      );
      expect(new Set(pids).size).toBe(3);
    } finally {
      await opened.close();
    }
  });
});

describe('time limits', () => {
  const show = async (db: Db, setting: string) =>
    (await sql<Record<string, string>>`SHOW ${sql.raw(setting)}`.execute(db)).rows[0]![setting];

  it('every session of the pool starts with the statement and idle-in-transaction limits', async () => {
    const config = loadConfig(
      {
        DATABASE_URL: database.url,
        DATABASE_STATEMENT_TIMEOUT_MS: '7000',
        DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '3000',
      },
      { dotenv: false },
    );
    const opened = await openDatabase(config, { applicationName: 'pms-limits' });
    try {
      expect(await show(opened.db, 'statement_timeout')).toBe('7s');
      expect(await show(opened.db, 'idle_in_transaction_session_timeout')).toBe('3s');
    } finally {
      await opened.close();
    }
  });

  it('a statement over the limit is cancelled by the server, and its connection serves the next one', async () => {
    const db = createDb({ connectionString: database.url, max: 1, statementTimeoutMs: 300 });
    try {
      const pid = async () =>
        (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db)).rows[0]!.pid;
      const before = await pid();
      await expect(sql`SELECT pg_sleep(2)`.execute(db)).rejects.toMatchObject({ code: '57014' });
      expect(await pid()).toBe(before);
    } finally {
      await db.destroy();
    }
  });

  it('a transaction left waiting by its client is ended by the server, releasing its row locks', async () => {
    const db = createDb({ connectionString: database.url, max: 2, idleInTransactionTimeoutMs: 300 });
    const other = createDb({ connectionString: database.url, max: 1 });
    try {
      await sql`CREATE TABLE IF NOT EXISTS limits_probe (id int PRIMARY KEY)`.execute(other);
      await sql`INSERT INTO limits_probe VALUES (1) ON CONFLICT DO NOTHING`.execute(other);
      const held = db.transaction().execute(async (tx) => {
        await sql`SELECT id FROM limits_probe WHERE id = 1 FOR UPDATE`.execute(tx);
        // The process stops talking to the database here, locks held: until the server ends it.
        await waitForSessionGone(other, 'limits_probe');
        await sql`SELECT 1`.execute(tx);
      });
      // The server ended the session (25P03); what reaches the caller is the ROLLBACK after it.
      await expect(held).rejects.toThrow(/not queryable|terminated/);
      // The row is free again: a fail-fast lock gets it.
      const locked = await other
        .transaction()
        .execute(
          async (tx) =>
            (await sql`SELECT id FROM limits_probe WHERE id = 1 FOR UPDATE NOWAIT`.execute(tx)).rows,
        );
      expect(locked).toEqual([{ id: 1 }]);
      // The pool dropped the ended session and opens a new one for the next statement.
      expect((await sql<{ v: number }>`SELECT 1 AS v`.execute(db)).rows).toEqual([{ v: 1 }]);
    } finally {
      await sql`DROP TABLE IF EXISTS limits_probe`.execute(other);
      await db.destroy();
      await other.destroy();
    }
  });

  it('withoutTimeLimits lifts the limit on one connection, then restores it', async () => {
    const db = createDb({ connectionString: database.url, max: 1, statementTimeoutMs: 300 });
    try {
      await withoutTimeLimits(db, async (connection) => {
        expect(await show(connection, 'statement_timeout')).toBe('0');
        await sql`SELECT pg_sleep(0.5)`.execute(connection);
      });
      expect(await show(db, 'statement_timeout')).toBe('300ms');
      await expect(sql`SELECT pg_sleep(1)`.execute(db)).rejects.toMatchObject({ code: '57014' });
    } finally {
      await db.destroy();
    }
  });

  it('a server that stops answering fails the statement after the limit and the margin, and its connection is dropped', async () => {
    const url = new URL(database.url);
    const proxy = await startPgProxy({ host: url.hostname, port: Number(url.port || 5432) });
    const db = createDb({ connectionString: proxy.urlFor(database.url), max: 1, statementTimeoutMs: 200 });
    try {
      const pid = async () =>
        (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db)).rows[0]!.pid;
      const first = await pid();
      proxy.freezeAll();
      const started = performance.now();
      const error = await sql`SELECT 1`.execute(db).catch((e: unknown) => e);
      const waited = performance.now() - started;
      expect(error).toBeInstanceOf(QueryTimeoutError);
      expect((error as QueryTimeoutError).timeoutMs).toBe(200 + READ_TIMEOUT_MARGIN_MS);
      // pg's own timer decides; without the limit the statement would wait as long as TCP does.
      expect(waited).toBeGreaterThanOrEqual(200 + READ_TIMEOUT_MARGIN_MS - 50);
      proxy.thaw();
      // The next statement runs on a new session: the silent one was closed, not reused.
      expect(await pid()).not.toBe(first);
    } finally {
      await db.destroy();
      await proxy.close();
    }
  }, 20_000);
});

/** Waits (bounded) until no session runs or ran a statement mentioning `text` while idle in a transaction. */
async function waitForSessionGone(db: Db, text: string) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const rows = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE state = 'idle in transaction' AND query LIKE ${`%${text}%FOR UPDATE%`}`.execute(db);
    if (rows.rows[0]!.n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`a session idle in a transaction on ${text} was still there after 10 s`);
}

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/helpers/context.ts';
import { createDb, type Db, PREPARED } from './database.ts';

describe('statements marked PREPARED', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  beforeAll(async () => {
    database = await createTestDatabase();
    // One connection, so every statement below runs on the same session.
    db = createDb({ connectionString: database.url, max: 1 });
  });
  afterAll(async () => {
    await db.destroy();
    await database.drop();
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

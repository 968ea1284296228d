import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/helpers/context.ts';
import { createDb, type Db } from './database.ts';
import { pgArray } from './pg-array.ts';

let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => {
  const database = await createTestDatabase();
  drop = database.drop;
  db = createDb({ connectionString: database.url, max: 2 });
});
afterAll(async () => {
  await db?.destroy();
  await drop?.();
});

const awkward = fc.oneof(
  fc.string(),
  fc.constantFrom('', 'NULL', 'null', ' ', '"', '\\', '{}', 'a,b', '{"x": [1, 2]}', 'é ☃', '\t\n'),
);

describe('pgArray', () => {
  it('round-trips any text, including quotes, backslashes, separators, blanks and "NULL", with nulls kept apart', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(awkward), { maxLength: 20 }), async (values) => {
        const clean = values.map((v) => (v === null ? null : v.replaceAll('\u0000', '')));
        const result = await sql<{ v: string | null }>`SELECT unnest(${pgArray(clean)}::text[]) AS v`.execute(
          db,
        );
        expect(result.rows.map((r) => r.v)).toEqual(clean);
      }),
      { numRuns: 150 },
    );
  });

  it('gives typed arrays their values: uuids, dates, integers, numerics and booleans', async () => {
    const id = crypto.randomUUID();
    const result = await sql<{ id: string | null; d: string; n: number; amount: string; b: boolean }>`
      SELECT * FROM unnest(${pgArray([id, null])}::uuid[], ${pgArray(['2031-03-01', '2031-03-02'])}::date[],
        ${pgArray([1, -2])}::int[], ${pgArray(['10.50', '0'])}::numeric[], ${pgArray([true, false])}::boolean[])
        AS t(id, d, n, amount, b)`.execute(db);
    expect(result.rows).toEqual([
      { id, d: '2031-03-01', n: 1, amount: '10.50', b: true },
      { id: null, d: '2031-03-02', n: -2, amount: '0', b: false },
    ]);
  });
});

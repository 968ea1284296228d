import { sql } from 'kysely';
import type { Db } from '../../src/db/database.ts';

/**
 * A hash of every row of every application table: equal before and after a request exactly when the
 * request wrote nothing. Meant for small test databases.
 */
export async function databaseFingerprint(db: Db): Promise<string> {
  const tables = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
      AND table_name NOT LIKE 'schema_migration%'
    ORDER BY table_name`.execute(db);
  const parts = tables.rows.map(
    ({ table_name }) =>
      sql<string>`(SELECT ${table_name} || ':' || count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')
        FROM ${sql.table(table_name)} t)`,
  );
  if (parts.length === 0) return '';
  const row = await sql<{
    fingerprint: string;
  }>`SELECT concat_ws(',', ${sql.join(parts)}) AS fingerprint`.execute(db);
  return row.rows[0]?.fingerprint ?? '';
}

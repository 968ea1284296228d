import { type Kysely, sql } from 'kysely';

// Every booking checks its foreign keys against guest and reservation, and each connection keeps
// the plan of that check until the table's statistics change. Autovacuum analyses a table after
// its first 50 rows; planned then (one or two pages), the check scans the table whole, and keeps
// doing so while the table grows until the next analysis, up to a minute or more later. A fresh
// install taking a first PMS import or a burst of bookings slows down with every row (measured:
// 1.0 → 2.2 ms per insert over 20,000 rows, and the booking bench fell from about 1,500 to 300
// bookings/s within 40 s). Never analysed, PostgreSQL assumes a table of at least ten pages and
// looks the key up in the index; from 1,000 rows an analysis leads to the same choice.
const TABLES = ['guest', 'reservation'];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) {
    await sql`ALTER TABLE ${sql.table(table)} SET (autovacuum_analyze_threshold = 1000)`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) {
    await sql`ALTER TABLE ${sql.table(table)} RESET (autovacuum_analyze_threshold)`.execute(db);
  }
}

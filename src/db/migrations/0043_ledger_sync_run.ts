import { type Kysely, sql } from 'kysely';

// A PMS import writes its calendar ledger summed per night and batch, attributed to its sync run
// rather than to each reservation (docs/inventory.md, "The ledger"); the run's events name the
// reservations. Nullable and unindexed: it is for audits, never a lookup path.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE inventory_ledger ADD COLUMN sync_run_id uuid`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE inventory_ledger DROP COLUMN IF EXISTS sync_run_id`.execute(db);
}

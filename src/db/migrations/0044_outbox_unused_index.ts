import { type Kysely, sql } from 'kysely';

// Readers find outbox events by seq (the primary key), by id, or by position (migration 0030);
// nothing has read them by (property_id, seq) since positions came in. The index only cost an
// entry per event written and another when the relay sequences it (docs/PERFORMANCE.md, "What a
// booking writes").
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS outbox_event_property_seq_idx`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX IF NOT EXISTS outbox_event_property_seq_idx ON outbox_event (property_id, seq)`.execute(
    db,
  );
}

import { type Kysely, sql } from 'kysely';

// Indexes for the booking paths: room assignment clashes, departure lists and the idempotency
// key purge. No table changes: the booking engine runs on the core tables of 0001.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX IF NOT EXISTS reservation_room_room_idx ON reservation_room (room_id) WHERE room_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS reservation_property_departure_idx ON reservation (property_id, check_out);
    CREATE INDEX IF NOT EXISTS idempotency_key_expiry_idx ON idempotency_key (expires_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS reservation_room_room_idx;
    DROP INDEX IF EXISTS reservation_property_departure_idx;
    DROP INDEX IF EXISTS idempotency_key_expiry_idx;
  `.execute(db);
}

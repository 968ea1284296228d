import { type Kysely, sql } from 'kysely';

// An event is inserted without a position; the relay's sequencer gives it one later. The two
// position indexes held an entry for every unsequenced row too: written with the event, dead
// once the sequencer's update wrote the real one. Every reader of them asks for `position > n`,
// which implies `position IS NOT NULL`, so partial indexes serve the same queries and a booking
// writes four index entries fewer (two per event). Uniqueness is unchanged: NULLs never conflicted.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX outbox_event_position_idx;
    CREATE UNIQUE INDEX outbox_event_position_idx ON outbox_event (position) WHERE position IS NOT NULL;
    DROP INDEX outbox_event_property_position_idx;
    CREATE INDEX outbox_event_property_position_idx ON outbox_event (property_id, position)
      WHERE position IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX outbox_event_position_idx;
    CREATE UNIQUE INDEX outbox_event_position_idx ON outbox_event (position);
    DROP INDEX outbox_event_property_position_idx;
    CREATE INDEX outbox_event_property_position_idx ON outbox_event (property_id, position);
  `.execute(db);
}

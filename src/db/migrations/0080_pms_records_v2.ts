import { type Kysely, sql } from 'kysely';

// PMS config format v2, the records half (docs/pms-config.md):
// - a connection carries its own value maps (the PMS's room type, rate plan… ids of that hotel);
// - the PMS's view of each room of a booking of several rooms, keyed within the booking by the room's
//   own PMS id (or its position), so one room changed at the PMS changes exactly that room here (a
//   format v1 booking has none: its PMS details are its one room);
// - a quarantined record keeps what its joins matched on its page, so a replay maps it the same way;
// - a full run (every booking, from the initial cursor) may reconcile bookings the PMS no longer
//   returns, and reports each one.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE pms_connection ADD COLUMN value_maps jsonb NOT NULL DEFAULT '{}'::jsonb;

    CREATE TABLE pms_booking_room (
      reservation_id uuid NOT NULL REFERENCES reservation(id) ON DELETE CASCADE,
      -- The room's PMS id, or '#<position>' for a PMS that gives rooms no id.
      room_key text NOT NULL,
      property_id uuid NOT NULL REFERENCES property(id) ON DELETE CASCADE,
      position integer NOT NULL,
      external_id text,
      status text CHECK (status IN ('tentative', 'confirmed', 'checked_in', 'checked_out', 'cancelled', 'no_show')),
      check_in date,
      check_out date,
      room_type_code text,
      room_number text,
      rate_plan_code text,
      adults integer,
      children integer,
      amount numeric(12, 2),
      source_updated_at timestamptz,
      -- The reservation_room this room holds its nights with (none for a room that holds none). No
      -- foreign key: a dangling id simply joins nothing, and deleting rooms needs no index probe here.
      reservation_room_id uuid,
      PRIMARY KEY (reservation_id, room_key)
    );
    -- A grouped room (one PMS record per room) found by its own id when it changes group.
    CREATE INDEX pms_booking_room_external_idx ON pms_booking_room (property_id, external_id)
      WHERE external_id IS NOT NULL;

    ALTER TABLE pms_booking ADD COLUMN rate_plan_code text;

    ALTER TABLE ingestion_error ADD COLUMN context jsonb;

    ALTER TABLE sync_run
      ADD COLUMN full_listing boolean NOT NULL DEFAULT false,
      ADD COLUMN reconciliation jsonb;

    CREATE TABLE pms_vanished_booking (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      sync_run_id uuid NOT NULL REFERENCES sync_run(id) ON DELETE CASCADE,
      property_id uuid NOT NULL REFERENCES property(id) ON DELETE CASCADE,
      reservation_id uuid NOT NULL REFERENCES reservation(id) ON DELETE CASCADE,
      external_id text NOT NULL,
      check_in date NOT NULL,
      check_out date NOT NULL,
      status_before text NOT NULL,
      action text NOT NULL CHECK (action IN ('reported', 'cancelled')),
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX pms_vanished_booking_run_idx ON pms_vanished_booking (sync_run_id, created_at, id);
    CREATE INDEX pms_vanished_booking_property_idx ON pms_vanished_booking (property_id, created_at, id);
    CREATE INDEX pms_vanished_booking_reservation_idx ON pms_vanished_booking (reservation_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS pms_vanished_booking;
    ALTER TABLE sync_run DROP COLUMN IF EXISTS full_listing, DROP COLUMN IF EXISTS reconciliation;
    ALTER TABLE ingestion_error DROP COLUMN IF EXISTS context;
    ALTER TABLE pms_booking DROP COLUMN IF EXISTS rate_plan_code;
    DROP TABLE IF EXISTS pms_booking_room;
    ALTER TABLE pms_connection DROP COLUMN IF EXISTS value_maps;
  `.execute(db);
}

import { type Kysely, sql } from 'kysely';

// Rooms get the states hotels use: housekeeping (clean, dirty, inspected) is stored; occupancy
// follows the checked-in stays assigned to the room; out of order is a dated block that also
// counts in the calendar's out_of_order_units. The old single `status` column goes: `dirty` stays
// dirty, `available` and `occupied` become clean, and `out_of_order` (which never counted in the
// calendar) becomes dirty, to be put out of order again with dates (docs/api.md, "Rooms").
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE room ADD COLUMN housekeeping_status text NOT NULL DEFAULT 'clean'
      CHECK (housekeeping_status IN ('clean', 'dirty', 'inspected'));
    UPDATE room SET housekeeping_status = 'dirty' WHERE status IN ('dirty', 'out_of_order');
    ALTER TABLE room DROP COLUMN status;

    -- A room out of order over the nights [start_date, end_date). Each night counts one unit in its
    -- room type's out_of_order_units, changed under the calendar's locks by the same transaction.
    -- A return to service moves end_date earlier; one room's blocks never overlap.
    CREATE TABLE room_out_of_order (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      property_id uuid NOT NULL,
      room_id uuid NOT NULL REFERENCES room(id) ON DELETE CASCADE,
      room_type_id uuid NOT NULL,
      start_date date NOT NULL,
      end_date date NOT NULL,
      reason text,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      returned_at timestamptz,
      returned_by uuid,
      CHECK (end_date >= start_date),
      FOREIGN KEY (property_id, room_type_id) REFERENCES room_type(property_id, id) ON DELETE CASCADE,
      CONSTRAINT room_out_of_order_no_overlap
        EXCLUDE USING gist (room_id WITH =, daterange(start_date, end_date) WITH &&)
    );
    CREATE INDEX room_out_of_order_room_type_idx ON room_out_of_order (room_type_id, end_date);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS room_out_of_order;
    ALTER TABLE room ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'available'
      CHECK (status IN ('available', 'occupied', 'dirty', 'out_of_order'));
    UPDATE room SET status = 'dirty' WHERE housekeeping_status = 'dirty';
    ALTER TABLE room DROP COLUMN IF EXISTS housekeeping_status;
  `.execute(db);
}

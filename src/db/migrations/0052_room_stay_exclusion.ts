import { type Kysely, sql } from 'kysely';

// One physical room holds one stay a night, guaranteed by the database: reservation_room carries
// the stay of its reservation (kept by triggers, so no writer can forget it) and an exclusion
// constraint refuses two overlapping stays of one room while they hold it (tentative, confirmed,
// checked in). btree_gist gives GiST its uuid equality; it is a trusted extension (PostgreSQL 13+).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE EXTENSION IF NOT EXISTS btree_gist;

    ALTER TABLE reservation_room
      ADD COLUMN stay daterange,
      ADD COLUMN holds_room boolean NOT NULL DEFAULT false;

    -- Before the constraint: stays that a race let through the service's check (it had no
    -- database backing) lose their room, keeping the checked-in stay, else the earliest booked.
    WITH assigned AS (
      SELECT rr.id, rr.room_id, rr.reservation_id, r.property_id, r.confirmation_code,
        daterange(r.check_in, r.check_out) AS stay,
        row_number() OVER (ORDER BY r.status = 'checked_in' DESC, r.created_at, rr.id) AS rank
      FROM reservation_room rr JOIN reservation r ON r.id = rr.reservation_id
      WHERE rr.room_id IS NOT NULL AND r.status IN ('tentative', 'confirmed', 'checked_in')
    ),
    losers AS (
      SELECT DISTINCT b.id, b.room_id, b.reservation_id, b.property_id, b.confirmation_code
      FROM assigned a JOIN assigned b ON a.room_id = b.room_id AND a.stay && b.stay AND a.rank < b.rank
    ),
    audit AS (
      INSERT INTO audit_log (property_id, actor_role, action, entity_type, entity_id, diff)
      SELECT property_id, 'SYSTEM', 'reservation.room_unassigned', 'reservation', reservation_id::text,
        jsonb_build_object('room_id', jsonb_build_array(room_id, NULL))
      FROM losers
    )
    UPDATE reservation_room SET room_id = NULL WHERE id IN (SELECT id FROM losers);

    CREATE FUNCTION reservation_room_stay() RETURNS trigger LANGUAGE plpgsql AS $fn$
    DECLARE
      booking record;
    BEGIN
      IF NEW.room_id IS NULL THEN
        NEW.stay := NULL;
        NEW.holds_room := false;
        RETURN NEW;
      END IF;
      SELECT check_in, check_out, status, source INTO booking FROM reservation WHERE id = NEW.reservation_id;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'reservation % must exist before a room is assigned to it', NEW.reservation_id
          USING ERRCODE = 'foreign_key_violation';
      END IF;
      NEW.stay := daterange(booking.check_in, booking.check_out);
      NEW.holds_room := booking.status IN ('tentative', 'confirmed', 'checked_in');
      -- An imported booking's PMS is the truth for the booking, not for this hotel's room plan: a
      -- room another stay holds on those nights stays unassigned instead of failing the import.
      -- Direct assignments lock the room row too, so the check cannot miss one in flight.
      IF NEW.holds_room AND booking.source <> 'direct' THEN
        PERFORM 1 FROM room WHERE id = NEW.room_id FOR UPDATE;
        IF EXISTS (
          SELECT 1 FROM reservation_room other
          WHERE other.room_id = NEW.room_id AND other.holds_room AND other.stay && NEW.stay
            AND other.id <> NEW.id
        ) THEN
          NEW.room_id := NULL;
          NEW.stay := NULL;
          NEW.holds_room := false;
        END IF;
      END IF;
      RETURN NEW;
    END
    $fn$;
    CREATE TRIGGER reservation_room_stay
      BEFORE INSERT OR UPDATE ON reservation_room
      FOR EACH ROW WHEN (NEW.room_id IS NOT NULL OR NEW.stay IS NOT NULL OR NEW.holds_room)
      EXECUTE FUNCTION reservation_room_stay();

    -- New dates or a new status reach the assigned rooms (reservation_room_stay re-reads them),
    -- where the exclusion constraint decides whether the room still fits.
    CREATE FUNCTION reservation_room_stay_follow() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      UPDATE reservation_room SET stay = daterange(NEW.check_in, NEW.check_out)
      WHERE reservation_id = NEW.id AND room_id IS NOT NULL;
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER reservation_room_stay_follow
      AFTER UPDATE OF check_in, check_out, status ON reservation
      FOR EACH ROW WHEN (OLD.check_in IS DISTINCT FROM NEW.check_in
        OR OLD.check_out IS DISTINCT FROM NEW.check_out OR OLD.status IS DISTINCT FROM NEW.status)
      EXECUTE FUNCTION reservation_room_stay_follow();

    -- Fills the stay of every assigned room (reservation_room_stay computes it).
    UPDATE reservation_room SET room_id = room_id WHERE room_id IS NOT NULL;

    ALTER TABLE reservation_room
      ADD CONSTRAINT reservation_room_stay_of_assignment
        CHECK ((room_id IS NULL AND stay IS NULL AND NOT holds_room) OR (room_id IS NOT NULL AND stay IS NOT NULL)),
      ADD CONSTRAINT reservation_room_one_stay_per_room_night
        EXCLUDE USING gist (room_id WITH =, stay WITH &&) WHERE (holds_room);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE reservation_room
      DROP CONSTRAINT IF EXISTS reservation_room_one_stay_per_room_night,
      DROP CONSTRAINT IF EXISTS reservation_room_stay_of_assignment;
    DROP TRIGGER IF EXISTS reservation_room_stay_follow ON reservation;
    DROP FUNCTION IF EXISTS reservation_room_stay_follow();
    DROP TRIGGER IF EXISTS reservation_room_stay ON reservation_room;
    DROP FUNCTION IF EXISTS reservation_room_stay();
    ALTER TABLE reservation_room DROP COLUMN IF EXISTS stay, DROP COLUMN IF EXISTS holds_room;
  `.execute(db);
}

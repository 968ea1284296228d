import { type Kysely, sql } from 'kysely';

// Issue #23, guests: one profile per guest across the whole installation (the hotel group), linking
// the per-booking `guest` rows, and the right to erasure (docs/api.md, "Guests").
// - A guest's match key is its normalised e-mail, else its normalised phone (guest_match_key); a
//   guest with neither gets a profile of its own. guest_profile_key maps each key to one profile: its
//   primary key is what makes two bookings of the same new guest, at once, end with one profile.
// - Triggers link every guest row to its profile, whoever writes it (direct bookings, PMS imports,
//   guest corrections, SQL), and keep an erased guest row, and its reservations' notes, erased.
// - Existing guests are backfilled: one profile per key (details of its earliest guest row), one
//   per guest without a key. This rewrites every guest row and indexes reservation by guest, which
//   holds bookings back while it runs: on a large installation, migrate in a quiet hour.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Trimmed, lower case, Unicode NFC; only something shaped like an address counts.
    CREATE FUNCTION guest_email_key(email text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
    DECLARE
      e text := lower(normalize(btrim(email, E' \\t\\r\\n'), NFC));
    BEGIN
      RETURN CASE WHEN e ~ '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' THEN e END;
    END
    $fn$;

    -- Digits only; "+" or "00" in front makes it international ("+" and the digits), a "(0)" trunk
    -- prefix is dropped. A national number stays as its digits: without a country it cannot be
    -- told apart from another country's. Anything but digits, spaces and + ( ) . - / is no phone.
    CREATE FUNCTION guest_phone_key(phone text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
    DECLARE
      p text := replace(btrim(phone), '(0)', '');
      d text := regexp_replace(p, '[^0-9]', '', 'g');
    BEGIN
      RETURN CASE
        WHEN p !~ '^\\+?[0-9 ().\\-/]+$' OR length(d) < 6 OR length(d) > 20 THEN NULL
        WHEN p LIKE '+%' THEN '+' || d
        WHEN d LIKE '00%' THEN '+' || substr(d, 3)
        ELSE d
      END;
    END
    $fn$;

    -- A guest's e-mail decides; its phone only when it has no e-mail.
    CREATE FUNCTION guest_match_key(email text, phone text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
    BEGIN
      RETURN coalesce('email:' || guest_email_key(email), 'phone:' || guest_phone_key(phone));
    END
    $fn$;

    CREATE TABLE guest_profile (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      first_name text,
      last_name text,
      full_name text,
      email text,
      phone text,
      -- Millisecond precision: JavaScript dates carry the list's keyset cursor exactly.
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
      updated_at timestamptz NOT NULL DEFAULT now(),
      erased_at timestamptz,
      -- Profiles merged into this one (and those merged into them): erasure finds their history.
      merged_ids uuid[] NOT NULL DEFAULT '{}'
    );
    -- Searches read the profiles whole (ILIKE): a trigram index would cost every new guest, on
    -- the booking path, more than a search saves (docs/api.md, "Guests").
    CREATE INDEX guest_profile_created_idx ON guest_profile (created_at, id);

    CREATE TABLE guest_profile_key (
      key text PRIMARY KEY,
      profile_id uuid NOT NULL REFERENCES guest_profile(id) ON DELETE CASCADE
    );
    CREATE INDEX guest_profile_key_profile_idx ON guest_profile_key (profile_id);

    ALTER TABLE guest ADD COLUMN profile_id uuid, ADD COLUMN erased_at timestamptz;

    CREATE TEMP TABLE profile_seed ON COMMIT DROP AS
      SELECT DISTINCT ON (grp) gen_random_uuid() AS profile_id, key, grp, first_name, last_name, full_name,
        email, phone, created_at
      FROM (
        SELECT g.*, k.key, coalesce(k.key, g.id::text) AS grp
        FROM guest g CROSS JOIN LATERAL (SELECT guest_match_key(g.email, g.phone) AS key) AS k
      ) AS keyed
      ORDER BY grp, created_at, id;
    INSERT INTO guest_profile (id, first_name, last_name, full_name, email, phone, created_at, updated_at)
      SELECT profile_id, first_name, last_name, full_name, btrim(email), btrim(phone),
        date_trunc('milliseconds', created_at), created_at
      FROM profile_seed;
    INSERT INTO guest_profile_key (key, profile_id)
      SELECT key, profile_id FROM profile_seed WHERE key IS NOT NULL;
    UPDATE guest g SET profile_id = s.profile_id
      FROM profile_seed s WHERE s.grp = coalesce(guest_match_key(g.email, g.phone), g.id::text);

    ALTER TABLE guest ALTER COLUMN profile_id SET NOT NULL,
      ADD CONSTRAINT guest_profile_id_fkey FOREIGN KEY (profile_id) REFERENCES guest_profile(id);
    CREATE INDEX guest_profile_property_idx ON guest (profile_id, property_id);
    -- A profile's stays, and erasure, find reservations by their guest.
    CREATE INDEX reservation_guest_idx ON reservation (guest_id);

    -- The profile of a match key, made when the key is new. The profile is locked FOR KEY SHARE,
    -- as the guest's foreign key would lock it: an erasure or a merge (FOR UPDATE) waits for the
    -- bookings in flight, and a booking that comes after waits for it, then finds the key's
    -- profile of after it (an erased profile has no keys, a merged one has moved them).
    CREATE FUNCTION guest_profile_for(match_key text, g guest) RETURNS uuid LANGUAGE plpgsql AS $fn$
    DECLARE
      found_id uuid;
    BEGIN
      IF match_key IS NOT NULL THEN
        FOR attempt IN 1..5 LOOP
          SELECT p.id INTO found_id FROM guest_profile_key k JOIN guest_profile p ON p.id = k.profile_id
            WHERE k.key = match_key AND p.erased_at IS NULL FOR KEY SHARE OF p;
          IF found_id IS NOT NULL THEN
            RETURN found_id;
          END IF;
          -- The key and its profile in one statement (foreign keys are checked at its end). Two
          -- transactions making the same new key: the second waits for the first to commit, makes
          -- nothing, and takes the first one's profile on the next turn.
          WITH made AS (
            INSERT INTO guest_profile_key (key, profile_id) VALUES (match_key, gen_random_uuid())
            -- A key left on an erased profile (a race with the erasure) is taken over.
            ON CONFLICT (key) DO UPDATE SET profile_id = excluded.profile_id
              WHERE EXISTS (SELECT 1 FROM guest_profile e WHERE e.id = guest_profile_key.profile_id
                AND e.erased_at IS NOT NULL)
            RETURNING profile_id
          )
          INSERT INTO guest_profile (id, first_name, last_name, full_name, email, phone)
            SELECT profile_id, g.first_name, g.last_name, g.full_name, btrim(g.email), btrim(g.phone) FROM made
            RETURNING id INTO found_id;
          IF found_id IS NOT NULL THEN
            RETURN found_id;
          END IF;
        END LOOP;
        RAISE EXCEPTION 'guest profile key % stayed out of reach', match_key USING ERRCODE = '40001';
      END IF;
      INSERT INTO guest_profile (first_name, last_name, full_name, email, phone)
        VALUES (g.first_name, g.last_name, g.full_name, btrim(g.email), btrim(g.phone))
        RETURNING id INTO found_id;
      RETURN found_id;
    END
    $fn$;

    CREATE FUNCTION guest_link_profile() RETURNS trigger LANGUAGE plpgsql AS $fn$
    DECLARE
      match_key text := guest_match_key(NEW.email, NEW.phone);
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        IF OLD.erased_at IS NOT NULL THEN
          -- Erased stays erased, whoever writes the row (a PMS sending the booking again included).
          NEW.first_name := OLD.first_name;
          NEW.last_name := OLD.last_name;
          NEW.full_name := OLD.full_name;
          NEW.email := OLD.email;
          NEW.phone := OLD.phone;
          NEW.erased_at := OLD.erased_at;
          RETURN NEW;
        END IF;
        -- Same key, or no key any more: the guest keeps its profile.
        IF match_key IS NULL OR match_key IS NOT DISTINCT FROM guest_match_key(OLD.email, OLD.phone) THEN
          RETURN NEW;
        END IF;
        -- A new key on a profile that is this guest's alone: the profile takes the key (locked as
        -- a booking locks it, so an erasure or merge of it in flight is waited for).
        IF NOT EXISTS (SELECT 1 FROM guest_profile_key WHERE key = match_key)
          AND NOT EXISTS (SELECT 1 FROM guest WHERE profile_id = OLD.profile_id AND id <> OLD.id)
          AND EXISTS (SELECT 1 FROM guest_profile WHERE id = OLD.profile_id AND erased_at IS NULL FOR KEY SHARE) THEN
          INSERT INTO guest_profile_key (key, profile_id) VALUES (match_key, OLD.profile_id)
            ON CONFLICT (key) DO NOTHING;
          IF FOUND THEN
            RETURN NEW;
          END IF;
        END IF;
      END IF;
      NEW.profile_id := guest_profile_for(match_key, NEW);
      RETURN NEW;
    END
    $fn$;

    -- A profile left without guests (its one booking's contact was corrected to another guest's)
    -- holds personal data for nothing: it goes, unless a booking linked a guest to it meanwhile.
    CREATE FUNCTION guest_profile_release() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      BEGIN
        DELETE FROM guest_profile p WHERE p.id = OLD.profile_id AND p.erased_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM guest g WHERE g.profile_id = p.id);
      EXCEPTION WHEN foreign_key_violation THEN
        NULL;
      END;
      RETURN NULL;
    END
    $fn$;

    CREATE TRIGGER guest_link_profile_insert BEFORE INSERT ON guest
      FOR EACH ROW EXECUTE FUNCTION guest_link_profile();
    CREATE TRIGGER guest_link_profile_update
      BEFORE UPDATE OF first_name, last_name, full_name, email, phone, erased_at ON guest
      FOR EACH ROW EXECUTE FUNCTION guest_link_profile();
    -- The notes of an erased guest's reservation stay erased too (a PMS sends its notes again
    -- with every change of the booking).
    CREATE FUNCTION reservation_notes_erased() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF EXISTS (SELECT 1 FROM guest WHERE id = NEW.guest_id AND erased_at IS NOT NULL) THEN
        NEW.notes := OLD.notes;
      END IF;
      RETURN NEW;
    END
    $fn$;
    CREATE TRIGGER reservation_notes_erased BEFORE UPDATE OF notes ON reservation
      FOR EACH ROW WHEN (NEW.notes IS NOT NULL AND NEW.notes IS DISTINCT FROM OLD.notes)
      EXECUTE FUNCTION reservation_notes_erased();

    CREATE TRIGGER guest_profile_release AFTER UPDATE ON guest
      FOR EACH ROW WHEN (OLD.profile_id IS DISTINCT FROM NEW.profile_id) EXECUTE FUNCTION guest_profile_release();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER IF EXISTS reservation_notes_erased ON reservation;
    DROP FUNCTION IF EXISTS reservation_notes_erased();
    DROP TRIGGER IF EXISTS guest_profile_release ON guest;
    DROP TRIGGER IF EXISTS guest_link_profile_update ON guest;
    DROP TRIGGER IF EXISTS guest_link_profile_insert ON guest;
    DROP FUNCTION IF EXISTS guest_profile_release();
    DROP FUNCTION IF EXISTS guest_link_profile();
    DROP FUNCTION IF EXISTS guest_profile_for(text, guest);
    DROP INDEX IF EXISTS reservation_guest_idx;
    ALTER TABLE guest DROP COLUMN IF EXISTS profile_id, DROP COLUMN IF EXISTS erased_at;
    DROP TABLE IF EXISTS guest_profile_key, guest_profile;
    DROP FUNCTION IF EXISTS guest_match_key(text, text);
    DROP FUNCTION IF EXISTS guest_phone_key(text);
    DROP FUNCTION IF EXISTS guest_email_key(text);
  `.execute(db);
}

import { type Kysely, sql } from 'kysely';

// Core schema: identity, properties, inventory, rates, reservations, outbox, audit.
// Every table of a property's data carries property_id (DESIGN.md §9: distributable by property).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE property (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      code text NOT NULL UNIQUE,
      name text NOT NULL,
      timezone text NOT NULL DEFAULT 'UTC',
      currency char(3) NOT NULL DEFAULT 'EUR',
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
      address jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE room_type (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      property_id uuid NOT NULL REFERENCES property(id) ON DELETE RESTRICT,
      code text NOT NULL,
      name text NOT NULL,
      description text,
      total_units integer NOT NULL CHECK (total_units >= 0),
      max_occupancy integer NOT NULL DEFAULT 2 CHECK (max_occupancy >= 1),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (property_id, code),
      UNIQUE (property_id, id)
    );

    CREATE TABLE room (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      property_id uuid NOT NULL REFERENCES property(id) ON DELETE RESTRICT,
      room_type_id uuid NOT NULL,
      number text NOT NULL,
      floor text,
      status text NOT NULL DEFAULT 'available'
        CHECK (status IN ('available', 'occupied', 'dirty', 'out_of_order')),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (property_id, number),
      FOREIGN KEY (property_id, room_type_id) REFERENCES room_type(property_id, id) ON DELETE RESTRICT
    );
    CREATE INDEX room_room_type_idx ON room (room_type_id);

    CREATE TABLE app_user (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      email text NOT NULL,
      password_hash text NOT NULL,
      role text NOT NULL CHECK (role IN ('SUPER_ADMIN', 'PROPERTY_ADMIN', 'STAFF')),
      full_name text,
      is_active boolean NOT NULL DEFAULT true,
      last_login_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX app_user_email_idx ON app_user (lower(email));

    CREATE TABLE user_property (
      user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
      property_id uuid NOT NULL REFERENCES property(id) ON DELETE CASCADE,
      PRIMARY KEY (user_id, property_id)
    );
    CREATE INDEX user_property_property_idx ON user_property (property_id);

    -- Rotating refresh tokens: each use replaces the token; a reused one revokes its family.
    CREATE TABLE refresh_token (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
      family_id uuid NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      revoked_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX refresh_token_family_idx ON refresh_token (family_id);

    -- One row per room type and hotel-local night. The CHECKs are invariant 2 in the database:
    -- units sold directly plus units held never exceed total - out of order + overbooking limit.
    CREATE TABLE inventory_calendar (
      property_id uuid NOT NULL,
      room_type_id uuid NOT NULL,
      date date NOT NULL,
      total_units integer NOT NULL CHECK (total_units >= 0),
      booked_units integer NOT NULL DEFAULT 0 CHECK (booked_units >= 0),
      held_units integer NOT NULL DEFAULT 0 CHECK (held_units >= 0),
      out_of_order_units integer NOT NULL DEFAULT 0 CHECK (out_of_order_units >= 0),
      overbooking_limit integer NOT NULL DEFAULT 0 CHECK (overbooking_limit >= 0),
      overbooked_units integer NOT NULL DEFAULT 0 CHECK (overbooked_units >= 0),
      stop_sell boolean NOT NULL DEFAULT false,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (room_type_id, date),
      FOREIGN KEY (property_id, room_type_id) REFERENCES room_type(property_id, id) ON DELETE CASCADE,
      CONSTRAINT inventory_out_of_order_within_total CHECK (out_of_order_units <= total_units),
      CONSTRAINT inventory_no_overbooking
        CHECK (booked_units + held_units <= total_units - out_of_order_units + overbooking_limit)
    );
    CREATE INDEX inventory_calendar_property_date_idx ON inventory_calendar (property_id, date);

    -- Append-only: every change to a night, so a calendar can be audited and rebuilt.
    CREATE TABLE inventory_ledger (
      id bigserial PRIMARY KEY,
      property_id uuid NOT NULL,
      room_type_id uuid NOT NULL,
      date date NOT NULL,
      field text NOT NULL CHECK (field IN ('total_units', 'booked_units', 'held_units',
        'out_of_order_units', 'overbooking_limit', 'overbooked_units', 'stop_sell')),
      delta integer NOT NULL,
      reason text NOT NULL,
      reservation_id uuid,
      hold_id uuid,
      actor_id uuid,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX inventory_ledger_night_idx ON inventory_ledger (room_type_id, date);
    CREATE INDEX inventory_ledger_reservation_idx ON inventory_ledger (reservation_id);

    CREATE TABLE inventory_hold (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      property_id uuid NOT NULL REFERENCES property(id) ON DELETE RESTRICT,
      room_type_id uuid NOT NULL,
      check_in date NOT NULL,
      check_out date NOT NULL,
      units integer NOT NULL CHECK (units > 0),
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'confirmed', 'released', 'expired')),
      reference text,
      expires_at timestamptz NOT NULL,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (check_out > check_in),
      FOREIGN KEY (property_id, room_type_id) REFERENCES room_type(property_id, id) ON DELETE RESTRICT
    );
    CREATE INDEX inventory_hold_expiry_idx ON inventory_hold (expires_at) WHERE status = 'active';

    CREATE TABLE rate_plan (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      property_id uuid NOT NULL REFERENCES property(id) ON DELETE RESTRICT,
      code text NOT NULL,
      name text NOT NULL,
      currency char(3) NOT NULL,
      parent_rate_plan_id uuid REFERENCES rate_plan(id) ON DELETE RESTRICT,
      offset_type text CHECK (offset_type IN ('percent', 'amount')),
      offset_value numeric(12, 2),
      cancellation_policy jsonb,
      is_active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (property_id, code),
      CHECK ((parent_rate_plan_id IS NULL) = (offset_type IS NULL))
    );

    CREATE TABLE daily_rate (
      property_id uuid NOT NULL,
      rate_plan_id uuid NOT NULL REFERENCES rate_plan(id) ON DELETE CASCADE,
      room_type_id uuid NOT NULL,
      date date NOT NULL,
      amount numeric(12, 2) CHECK (amount >= 0),
      min_stay integer CHECK (min_stay >= 1),
      max_stay integer CHECK (max_stay >= 1),
      closed_to_arrival boolean NOT NULL DEFAULT false,
      closed_to_departure boolean NOT NULL DEFAULT false,
      stop_sell boolean NOT NULL DEFAULT false,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (rate_plan_id, room_type_id, date),
      FOREIGN KEY (property_id, room_type_id) REFERENCES room_type(property_id, id) ON DELETE CASCADE
    );

    CREATE TABLE guest (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      property_id uuid NOT NULL REFERENCES property(id) ON DELETE RESTRICT,
      first_name text,
      last_name text,
      full_name text,
      email text,
      phone text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX guest_property_email_idx ON guest (property_id, lower(email));

    CREATE TABLE reservation (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      property_id uuid NOT NULL REFERENCES property(id) ON DELETE RESTRICT,
      confirmation_code text NOT NULL UNIQUE,
      status text NOT NULL CHECK (status IN ('tentative', 'confirmed', 'checked_in', 'checked_out',
        'cancelled', 'no_show')),
      check_in date NOT NULL,
      check_out date NOT NULL,
      guest_id uuid REFERENCES guest(id) ON DELETE RESTRICT,
      source text NOT NULL DEFAULT 'direct',
      external_id text,
      total_amount numeric(12, 2) NOT NULL DEFAULT 0,
      currency char(3) NOT NULL,
      notes text,
      hold_id uuid,
      source_updated_at timestamptz,
      version integer NOT NULL DEFAULT 1,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      cancelled_at timestamptz,
      CHECK (check_out > check_in)
    );
    CREATE UNIQUE INDEX reservation_source_external_idx ON reservation (property_id, source, external_id)
      WHERE external_id IS NOT NULL;
    CREATE INDEX reservation_property_arrival_idx ON reservation (property_id, check_in);
    CREATE INDEX reservation_property_created_idx ON reservation (property_id, created_at, id);

    CREATE TABLE reservation_room (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      reservation_id uuid NOT NULL REFERENCES reservation(id) ON DELETE CASCADE,
      property_id uuid NOT NULL,
      room_type_id uuid NOT NULL,
      rate_plan_id uuid REFERENCES rate_plan(id) ON DELETE RESTRICT,
      room_id uuid REFERENCES room(id) ON DELETE SET NULL,
      adults integer NOT NULL DEFAULT 1 CHECK (adults >= 0),
      children integer NOT NULL DEFAULT 0 CHECK (children >= 0),
      nightly_prices jsonb NOT NULL DEFAULT '[]',
      amount numeric(12, 2) NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      FOREIGN KEY (property_id, room_type_id) REFERENCES room_type(property_id, id) ON DELETE RESTRICT
    );
    CREATE INDEX reservation_room_reservation_idx ON reservation_room (reservation_id);
    CREATE INDEX reservation_room_room_type_idx ON reservation_room (room_type_id);

    CREATE TABLE idempotency_key (
      user_id uuid NOT NULL,
      key text NOT NULL,
      request_hash text NOT NULL,
      response_status integer,
      response_body jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (user_id, key)
    );

    -- Transactional outbox (invariant 3): written in the same transaction as the change.
    CREATE TABLE outbox_event (
      seq bigserial PRIMARY KEY,
      id uuid NOT NULL UNIQUE,
      property_id uuid,
      type text NOT NULL,
      envelope jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX outbox_event_property_seq_idx ON outbox_event (property_id, seq);

    CREATE TABLE audit_log (
      id bigserial PRIMARY KEY,
      property_id uuid,
      actor_id uuid,
      actor_role text,
      action text NOT NULL,
      entity_type text NOT NULL,
      entity_id text,
      diff jsonb,
      request_id text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);
    CREATE INDEX audit_log_property_idx ON audit_log (property_id, id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS audit_log, outbox_event, idempotency_key, reservation_room, reservation, guest,
      daily_rate, rate_plan, inventory_hold, inventory_ledger, inventory_calendar, refresh_token,
      user_property, app_user, room, room_type, property CASCADE;
  `.execute(db);
}

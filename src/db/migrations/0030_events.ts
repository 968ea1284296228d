import { type Kysely, sql } from 'kysely';

// Events: the relay's sequencing and per-sink delivery state, webhook subscriptions and their
// delivery log, and the NOTIFY that wakes the relay and feeds the realtime nodes.
//
// Why a `position` column: `seq` is taken when a row is inserted, not when its transaction
// commits, so a lower seq can become visible after a higher one. A cursor over seq would skip it.
// The relay's sequencer (one at a time, serialised by a lock on event_sequencer) numbers committed
// rows in the order it sees them; positions only ever grow in visibility order, so a cursor over
// position never skips a committed event. See docs/events.md.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE outbox_event ADD COLUMN position bigint;
    CREATE UNIQUE INDEX outbox_event_position_idx ON outbox_event (position);
    CREATE INDEX outbox_event_unsequenced_idx ON outbox_event (seq) WHERE position IS NULL;
    CREATE INDEX outbox_event_property_position_idx ON outbox_event (property_id, position);

    CREATE TABLE event_sequencer (
      id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
      last_position bigint NOT NULL DEFAULT 0
    );
    -- Rows already present are committed: they are numbered in seq order.
    UPDATE outbox_event SET position = seq;
    INSERT INTO event_sequencer (id, last_position)
      SELECT 1, coalesce(max(position), 0) FROM outbox_event;

    -- The broker sinks (nats, kafka) that have ever been enabled; a sink receives every event
    -- sequenced after it was first registered, even while no worker has it configured.
    CREATE TABLE event_sink (
      name text PRIMARY KEY CHECK (name IN ('nats', 'kafka')),
      enabled boolean NOT NULL DEFAULT true,
      registered_at timestamptz NOT NULL DEFAULT now()
    );

    -- One lane per (sink, property) or per webhook subscription: events in a lane are delivered
    -- strictly in position order; lanes are claimed with a lease so several workers share them.
    CREATE TABLE event_lane (
      sink text NOT NULL,
      lane_key text NOT NULL,
      property_id uuid,
      delivered_position bigint NOT NULL,
      head_position bigint NOT NULL,
      active boolean NOT NULL DEFAULT true,
      attempts integer NOT NULL DEFAULT 0,
      failing_since timestamptz,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      lease_owner text,
      lease_expires_at timestamptz,
      last_error text,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (sink, lane_key),
      CHECK (delivered_position <= head_position)
    );
    CREATE INDEX event_lane_pending_idx ON event_lane (sink, delivered_position)
      WHERE delivered_position < head_position AND active;
    CREATE INDEX event_lane_lease_idx ON event_lane (lease_expires_at) WHERE lease_owner IS NOT NULL;
    CREATE INDEX event_lane_property_idx ON event_lane (property_id);

    CREATE TABLE webhook_subscription (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      property_id uuid NOT NULL REFERENCES property(id) ON DELETE CASCADE,
      url text NOT NULL CHECK (url ~ '^https?://'),
      description text,
      event_types text[] NOT NULL CHECK (cardinality(event_types) > 0),
      secret_encrypted text NOT NULL,
      enabled boolean NOT NULL DEFAULT true,
      disabled_reason text,
      disabled_at timestamptz,
      created_by uuid,
      -- Millisecond precision: JavaScript dates carry the keyset cursors of the lists exactly.
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX webhook_subscription_property_idx ON webhook_subscription (property_id, created_at, id);

    CREATE TABLE webhook_delivery (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      subscription_id uuid NOT NULL REFERENCES webhook_subscription(id) ON DELETE CASCADE,
      property_id uuid NOT NULL,
      event_id uuid NOT NULL,
      event_type text NOT NULL,
      attempt integer NOT NULL CHECK (attempt >= 1),
      trigger text NOT NULL CHECK (trigger IN ('automatic', 'manual')),
      status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
      response_status integer,
      response_body text,
      error text,
      duration_ms integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
    );
    CREATE INDEX webhook_delivery_subscription_idx ON webhook_delivery (subscription_id, created_at, id);

    -- Sent at commit (never for a rolled-back row), in commit order; well under the 8000-byte
    -- payload limit, so listeners load the envelope themselves.
    CREATE FUNCTION outbox_event_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify('pms_outbox', json_build_object(
        'seq', NEW.seq, 'id', NEW.id, 'property_id', NEW.property_id, 'type', NEW.type)::text);
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER outbox_event_notify AFTER INSERT ON outbox_event
      FOR EACH ROW EXECUTE FUNCTION outbox_event_notify();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER IF EXISTS outbox_event_notify ON outbox_event;
    DROP FUNCTION IF EXISTS outbox_event_notify();
    DROP TABLE IF EXISTS webhook_delivery, webhook_subscription, event_lane, event_sink, event_sequencer;
    DROP INDEX IF EXISTS outbox_event_property_position_idx;
    DROP INDEX IF EXISTS outbox_event_unsequenced_idx;
    DROP INDEX IF EXISTS outbox_event_position_idx;
    ALTER TABLE outbox_event DROP COLUMN IF EXISTS position;
  `.execute(db);
}

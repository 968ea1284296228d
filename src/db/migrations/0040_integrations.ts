import { type Kysely, sql } from 'kysely';

// PMS integration: configs, per-hotel connections, sync runs, quarantined records, the raw-field
// fingerprints behind schema-drift reports, and the PMS's own view of each imported booking.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- One document per PMS type and version (PMS_CONFIG.md); shipped ones are reloaded at start.
    CREATE TABLE pms_config (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      pms_type text NOT NULL,
      version text NOT NULL,
      description text,
      document jsonb NOT NULL,
      checksum text NOT NULL,
      origin text NOT NULL DEFAULT 'upload' CHECK (origin IN ('upload', 'shipped')),
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (pms_type, version)
    );

    -- A hotel's link to its PMS. Secrets are AES-256-GCM ciphertext (iv | tag | data); only
    -- their names are ever shown.
    CREATE TABLE pms_connection (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      property_id uuid NOT NULL UNIQUE REFERENCES property(id) ON DELETE CASCADE,
      config_id uuid NOT NULL REFERENCES pms_config(id) ON DELETE RESTRICT,
      base_url text NOT NULL,
      hotel_external_id text NOT NULL,
      secrets_ciphertext bytea,
      secret_names text[] NOT NULL DEFAULT '{}',
      schedule_seconds integer NOT NULL DEFAULT 300 CHECK (schedule_seconds BETWEEN 60 AND 604800),
      cursor text,
      enabled boolean NOT NULL DEFAULT true,
      next_run_at timestamptz NOT NULL DEFAULT now(),
      last_run_id uuid,
      last_run_status text,
      last_run_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX pms_connection_due_idx ON pms_connection (next_run_at) WHERE enabled;

    CREATE TABLE sync_run (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      property_id uuid NOT NULL REFERENCES property(id) ON DELETE CASCADE,
      connection_id uuid NOT NULL REFERENCES pms_connection(id) ON DELETE CASCADE,
      config_id uuid NOT NULL REFERENCES pms_config(id) ON DELETE RESTRICT,
      trigger text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'replay')),
      status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'partial', 'failed')),
      queued_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz,
      heartbeat_at timestamptz,
      pages integer NOT NULL DEFAULT 0,
      fetched integer NOT NULL DEFAULT 0,
      created integer NOT NULL DEFAULT 0,
      updated integer NOT NULL DEFAULT 0,
      unchanged integer NOT NULL DEFAULT 0,
      quarantined integer NOT NULL DEFAULT 0,
      cursor_before text,
      cursor_after text,
      schema_drift jsonb,
      warnings jsonb,
      timings jsonb,
      error text,
      requested_by uuid,
      -- A replay's selection of quarantined records: {sync_run_id?, error_ids?}.
      replay_filter jsonb
    );
    -- At most one queued or running run per hotel: a second request joins the first.
    CREATE UNIQUE INDEX sync_run_active_idx ON sync_run (connection_id) WHERE status IN ('queued', 'running');
    CREATE INDEX sync_run_property_idx ON sync_run (property_id, queued_at, id);
    CREATE INDEX sync_run_queued_idx ON sync_run (queued_at) WHERE status = 'queued';

    -- Quarantine: a record that failed a stage, with the raw payload kept whole for replay.
    CREATE TABLE ingestion_error (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      sync_run_id uuid NOT NULL REFERENCES sync_run(id) ON DELETE CASCADE,
      property_id uuid NOT NULL REFERENCES property(id) ON DELETE CASCADE,
      stage text NOT NULL CHECK (stage IN ('raw_schema', 'mapping', 'sanitisation', 'field_rules',
        'business_rules', 'upsert')),
      error_type text NOT NULL CHECK (error_type IN ('PMSConnectionError', 'PMSDataValidationError',
        'PMSBusinessRuleError', 'PMSMappingError')),
      field text,
      message text NOT NULL,
      external_id text,
      raw jsonb NOT NULL,
      replay_status text NOT NULL DEFAULT 'pending' CHECK (replay_status IN ('pending', 'ingested', 'failed')),
      replayed_at timestamptz,
      replay_run_id uuid REFERENCES sync_run(id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX ingestion_error_run_idx ON ingestion_error (sync_run_id, created_at, id);
    CREATE INDEX ingestion_error_property_idx ON ingestion_error (property_id, created_at, id);
    CREATE INDEX ingestion_error_pending_idx ON ingestion_error (property_id) WHERE replay_status = 'pending';

    -- The raw-field fingerprint of each PMS type and version: every path seen in its records,
    -- and whether every record had it. New and vanished paths are a run's schema drift.
    CREATE TABLE pms_raw_field (
      pms_type text NOT NULL,
      version text NOT NULL,
      path text NOT NULL,
      always_present boolean NOT NULL,
      first_seen_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      last_seen_run_id uuid,
      PRIMARY KEY (pms_type, version, path)
    );

    -- What the PMS said about each imported booking beyond the ledger's columns, and the hash of
    -- its canonical form (an unchanged booking is recognised without comparing every column).
    CREATE TABLE pms_booking (
      reservation_id uuid PRIMARY KEY REFERENCES reservation(id) ON DELETE CASCADE,
      property_id uuid NOT NULL REFERENCES property(id) ON DELETE CASCADE,
      connection_id uuid REFERENCES pms_connection(id) ON DELETE SET NULL,
      room_type_code text,
      room_number text,
      adults integer,
      children integer,
      content_hash text NOT NULL,
      last_sync_run_id uuid,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX pms_booking_property_idx ON pms_booking (property_id);

    -- Ingested bookings are listed by property and modification time.
    CREATE INDEX reservation_source_updated_idx ON reservation (property_id, updated_at, id)
      WHERE source LIKE 'pms:%';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS reservation_source_updated_idx;
    DROP TABLE IF EXISTS pms_booking, pms_raw_field, ingestion_error, sync_run, pms_connection, pms_config CASCADE;
  `.execute(db);
}

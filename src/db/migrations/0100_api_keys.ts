import { type Kysely, sql } from 'kysely';

// Issue #21, partner credentials: API keys for machine clients (docs/api.md, "Partner credentials").
// - api_key stores the SHA-256 of the whole key, never the key; a rotation may leave the previous
//   hash valid until previous_secret_expires_at (a grace period), then only the new one works;
// - a key sees the properties listed in api_key_property, or every property (all_properties, which
//   only a SUPER_ADMIN grants); a deleted property leaves its keys;
// - API processes cache keys like users (src/modules/auth/auth.cache.ts): every change that can alter
//   what a key may do notifies `pms_actor` with the key's id, whoever makes it (API, CLI, SQL);
// - api_key_usage counts each key's calls per minute (flushed from each API process's memory);
// - audit rows written by a key carry its name (actor_name), filled here for every writer, the
//   booking batch's set-based insert included.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE api_key (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
      scopes text[] NOT NULL
        CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['search', 'book', 'reservations:read', 'events']),
      all_properties boolean NOT NULL DEFAULT false,
      secret_hash bytea NOT NULL CHECK (length(secret_hash) = 32),
      previous_secret_hash bytea CHECK (length(previous_secret_hash) = 32),
      previous_secret_expires_at timestamptz,
      rate_limit_per_minute integer NOT NULL DEFAULT 600 CHECK (rate_limit_per_minute BETWEEN 1 AND 100000),
      expires_at timestamptz,
      revoked_at timestamptz,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      rotated_at timestamptz,
      CHECK ((previous_secret_hash IS NULL) = (previous_secret_expires_at IS NULL))
    );
    CREATE INDEX api_key_created_idx ON api_key (created_at, id);

    CREATE TABLE api_key_property (
      api_key_id uuid NOT NULL REFERENCES api_key(id) ON DELETE CASCADE,
      property_id uuid NOT NULL REFERENCES property(id) ON DELETE CASCADE,
      PRIMARY KEY (api_key_id, property_id)
    );
    CREATE INDEX api_key_property_property_idx ON api_key_property (property_id);

    CREATE TABLE api_key_usage (
      api_key_id uuid NOT NULL REFERENCES api_key(id) ON DELETE CASCADE,
      minute timestamptz NOT NULL,
      requests integer NOT NULL,
      errors integer NOT NULL,
      last_at timestamptz NOT NULL,
      PRIMARY KEY (api_key_id, minute)
    );

    CREATE FUNCTION api_key_actor_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify('pms_actor', OLD.id::text);
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER api_key_actor_changed
      AFTER UPDATE OF name, scopes, all_properties, secret_hash, previous_secret_hash,
        previous_secret_expires_at, rate_limit_per_minute, expires_at, revoked_at OR DELETE ON api_key
      FOR EACH ROW EXECUTE FUNCTION api_key_actor_notify();

    CREATE FUNCTION api_key_property_actor_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('pms_actor', OLD.api_key_id::text); END IF;
      IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('pms_actor', NEW.api_key_id::text); END IF;
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER api_key_property_actor_changed
      AFTER INSERT OR UPDATE OR DELETE ON api_key_property
      FOR EACH ROW EXECUTE FUNCTION api_key_property_actor_notify();

    ALTER TABLE audit_log ADD COLUMN actor_name text;
    CREATE FUNCTION audit_log_api_key_name() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      NEW.actor_name := (SELECT name FROM api_key WHERE id = NEW.actor_id);
      RETURN NEW;
    END
    $fn$;
    CREATE TRIGGER audit_log_api_key_name BEFORE INSERT ON audit_log
      FOR EACH ROW WHEN (NEW.actor_role = 'API_KEY' AND NEW.actor_name IS NULL)
      EXECUTE FUNCTION audit_log_api_key_name();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER IF EXISTS audit_log_api_key_name ON audit_log;
    DROP FUNCTION IF EXISTS audit_log_api_key_name();
    ALTER TABLE audit_log DROP COLUMN IF EXISTS actor_name;
    DROP TABLE IF EXISTS api_key_usage, api_key_property, api_key;
    DROP FUNCTION IF EXISTS api_key_property_actor_notify();
    DROP FUNCTION IF EXISTS api_key_actor_notify();
  `.execute(db);
}

import { type Kysely, sql } from 'kysely';

// Access tokens carry the user's token_version (`sv`) and their sign-in (`sid`, the refresh-token
// family). A new password or a deactivation bumps the version here, whichever process, tool or SQL
// session writes it, so tokens issued before it stop working; a version, not a time, because a
// token's `iat` has one-second resolution. Revoking a refresh token (theft detection, sign-out) and
// a new password now notify `pms_actor` too (migration 0042), so every process re-checks that
// user's cached sessions and open WebSockets at once.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE app_user ADD COLUMN token_version integer NOT NULL DEFAULT 0;

    CREATE FUNCTION app_user_token_version_bump() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF NEW.password_hash IS DISTINCT FROM OLD.password_hash OR (OLD.is_active AND NOT NEW.is_active) THEN
        NEW.token_version := OLD.token_version + 1;
      END IF;
      RETURN NEW;
    END
    $fn$;
    CREATE TRIGGER app_user_token_version_bump
      BEFORE UPDATE OF password_hash, is_active ON app_user
      FOR EACH ROW EXECUTE FUNCTION app_user_token_version_bump();

    DROP TRIGGER app_user_actor_changed ON app_user;
    CREATE TRIGGER app_user_actor_changed
      AFTER UPDATE OF role, is_active, email, password_hash, token_version OR DELETE ON app_user
      FOR EACH ROW EXECUTE FUNCTION app_user_actor_notify();

    -- One notification per user and transaction: PostgreSQL folds identical payloads.
    CREATE FUNCTION refresh_token_actor_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify('pms_actor', NEW.user_id::text);
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER refresh_token_revoked
      AFTER UPDATE OF revoked_at ON refresh_token
      FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
      EXECUTE FUNCTION refresh_token_actor_notify();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER IF EXISTS refresh_token_revoked ON refresh_token;
    DROP FUNCTION IF EXISTS refresh_token_actor_notify();
    DROP TRIGGER IF EXISTS app_user_actor_changed ON app_user;
    CREATE TRIGGER app_user_actor_changed
      AFTER UPDATE OF role, is_active, email OR DELETE ON app_user
      FOR EACH ROW EXECUTE FUNCTION app_user_actor_notify();
    DROP TRIGGER IF EXISTS app_user_token_version_bump ON app_user;
    DROP FUNCTION IF EXISTS app_user_token_version_bump();
    ALTER TABLE app_user DROP COLUMN IF EXISTS token_version;
  `.execute(db);
}

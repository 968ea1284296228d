import { type Kysely, sql } from 'kysely';

// API processes cache authenticated users (src/modules/auth/auth.cache.ts). Every change that can
// alter what a user may do (role, activity, email, deletion, property grants), whichever process or
// tool makes it, notifies `pms_actor` with the user's id when it commits, and each process evicts
// that user.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION app_user_actor_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify('pms_actor', OLD.id::text);
      RETURN NULL;
    END
    $fn$;

    CREATE FUNCTION user_property_actor_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('pms_actor', OLD.user_id::text); END IF;
      IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('pms_actor', NEW.user_id::text); END IF;
      RETURN NULL;
    END
    $fn$;

    CREATE TRIGGER app_user_actor_changed
      AFTER UPDATE OF role, is_active, email OR DELETE ON app_user
      FOR EACH ROW EXECUTE FUNCTION app_user_actor_notify();
    CREATE TRIGGER user_property_actor_changed
      AFTER INSERT OR UPDATE OR DELETE ON user_property
      FOR EACH ROW EXECUTE FUNCTION user_property_actor_notify();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER IF EXISTS user_property_actor_changed ON user_property;
    DROP TRIGGER IF EXISTS app_user_actor_changed ON app_user;
    DROP FUNCTION IF EXISTS user_property_actor_notify();
    DROP FUNCTION IF EXISTS app_user_actor_notify();
  `.execute(db);
}

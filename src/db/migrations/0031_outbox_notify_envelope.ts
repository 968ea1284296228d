import { type Kysely, sql } from 'kysely';

// The outbox notification carries the envelope when the payload stays under PostgreSQL's
// 8000-byte limit, which saves each realtime node a query per event; larger events still send only
// the reference (seq, id, property, type) and listeners load the envelope by seq.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION outbox_event_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
    DECLARE
      payload text := json_build_object('seq', NEW.seq, 'id', NEW.id, 'property_id', NEW.property_id,
        'type', NEW.type, 'envelope', NEW.envelope)::text;
    BEGIN
      IF octet_length(payload) > 7900 THEN
        payload := json_build_object('seq', NEW.seq, 'id', NEW.id, 'property_id', NEW.property_id,
          'type', NEW.type)::text;
      END IF;
      PERFORM pg_notify('pms_outbox', payload);
      RETURN NULL;
    END
    $fn$;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION outbox_event_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify('pms_outbox', json_build_object(
        'seq', NEW.seq, 'id', NEW.id, 'property_id', NEW.property_id, 'type', NEW.type)::text);
      RETURN NULL;
    END
    $fn$;
  `.execute(db);
}

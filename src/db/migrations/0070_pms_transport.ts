import { type Kysely, sql } from 'kysely';

// PMS integration v2, transport: the origins a connection's secrets were given for (base_url's,
// and an auth block's token or login URL on another origin), and the acknowledgements of queue
// feeds that were committed but not yet accepted by the PMS, retried at the next run.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Null on rows written before: base_url's origin only.
    ALTER TABLE pms_connection ADD COLUMN IF NOT EXISTS secret_origins text[];

    CREATE TABLE IF NOT EXISTS pms_pending_ack (
      connection_id uuid NOT NULL REFERENCES pms_connection(id) ON DELETE CASCADE,
      -- r:<record's values> or p:<sha256 of a page's values>: one acknowledgement request.
      ack_key text NOT NULL,
      -- The acknowledged records' values (the config's ack.values), as a list.
      items jsonb NOT NULL,
      -- hotel_external_id and base_url when it was read: an ack never goes to another hotel or PMS.
      scope text NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (connection_id, ack_key)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS pms_pending_ack;
    ALTER TABLE pms_connection DROP COLUMN IF EXISTS secret_origins;
  `.execute(db);
}

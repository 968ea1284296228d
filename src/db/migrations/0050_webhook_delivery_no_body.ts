import { type Kysely, sql } from 'kysely';

// The delivery log no longer keeps what a target answered: whoever sets a webhook URL could read
// any service the server reaches through it. Bodies already logged go; the column stays (always
// NULL) because nodes of the previous release still write it while a deploy rolls.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`UPDATE webhook_delivery SET response_body = NULL WHERE response_body IS NOT NULL`.execute(db);
  await sql`COMMENT ON COLUMN webhook_delivery.response_body IS 'unused since migration 0050: always NULL'`.execute(
    db,
  );
}

export async function down(): Promise<void> {
  // The bodies are gone; there is nothing to restore.
}

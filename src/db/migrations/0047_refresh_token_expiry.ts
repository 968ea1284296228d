import { type Kysely, sql } from 'kysely';

// Workers delete refresh tokens a day after they expire (every login and every rotation adds one);
// the purge finds them by expiry.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX IF NOT EXISTS refresh_token_expires_idx ON refresh_token (expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS refresh_token_expires_idx`.execute(db);
}

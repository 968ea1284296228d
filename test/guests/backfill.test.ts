import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, type Db } from '../../src/db/database.ts';
import { createMigrator } from '../../src/db/migrate.ts';

/**
 * Migration 0090 on a database that already has guests: one profile per normalised e-mail (or
 * phone), with the details of its earliest guest row, one per guest without either, every guest
 * row linked; the guests booked afterwards find those profiles.
 */

const MIGRATION = '0090_guest_profiles';
const name = `pms_t_guest_backfill_${process.pid}_${Date.now().toString(36)}`;
let db: Db;

async function admin(statement: string) {
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function migrateTo(target: string) {
  const result = await createMigrator(db).migrateTo(target);
  if (result.error) throw result.error;
}

beforeAll(async () => {
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(inject('pgAdminUrl'));
  url.pathname = `/${name}`;
  db = createDb({ connectionString: url.toString(), max: 2 });
});
afterAll(async () => {
  await db?.destroy();
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

describe('migration 0090 on existing guests', () => {
  it('gives them profiles by normalised e-mail or phone, details from the earliest, and links every row', async () => {
    const names = (await createMigrator(db).getMigrations()).map((m) => m.name).sort();
    const previous = names[names.indexOf(MIGRATION) - 1]!;
    await migrateTo(previous);
    const [property] = (
      await sql<{
        id: string;
      }>`INSERT INTO property (code, name) VALUES ('OLD', 'Old Hotel') RETURNING id`.execute(db)
    ).rows;
    const guest = (at: string, fullName: string, email: string | null, phone: string | null) =>
      sql`INSERT INTO guest (property_id, full_name, email, phone, created_at)
        VALUES (${property!.id}, ${fullName}, ${email}, ${phone}, ${at}::timestamptz)`.execute(db);
    await guest('2024-01-02', 'Later Ada', 'ADA@example.test ', '+44 20 7946 0000');
    await guest('2024-01-01', 'First Ada', ' ada@Example.test', null);
    await guest('2024-01-03', 'Phone Only', null, '+41 79 555 00 11');
    await guest('2024-01-04', 'Phone Again', null, '0041 79 555 00 11');
    await guest('2024-01-05', 'Nobody', null, null);
    await guest('2024-01-06', 'Nobody', null, 'n/a');
    await migrateTo(MIGRATION);

    const rows = await sql<{ full_name: string; profile_id: string }>`
      SELECT full_name, profile_id FROM guest ORDER BY created_at`.execute(db);
    const profileOf = Object.fromEntries(rows.rows.map((r) => [r.full_name, r.profile_id]));
    expect(rows.rows.every((r) => r.profile_id)).toBe(true);
    expect(profileOf['Later Ada']).toBe(profileOf['First Ada']);
    expect(profileOf['Phone Again']).toBe(profileOf['Phone Only']);
    expect(new Set(rows.rows.map((r) => r.profile_id)).size).toBe(4);
    const profiles = await sql<{ id: string; full_name: string; email: string | null; phone: string | null }>`
      SELECT id, full_name, email, phone FROM guest_profile ORDER BY created_at`.execute(db);
    expect(profiles.rows.map(({ id: _, ...p }) => p)).toEqual([
      { full_name: 'First Ada', email: 'ada@Example.test', phone: null },
      { full_name: 'Phone Only', email: null, phone: '+41 79 555 00 11' },
      { full_name: 'Nobody', email: null, phone: null },
      { full_name: 'Nobody', email: null, phone: 'n/a' },
    ]);
    const keys = await sql<{ key: string; profile_id: string }>`
      SELECT key, profile_id FROM guest_profile_key ORDER BY key`.execute(db);
    expect(keys.rows).toEqual([
      { key: 'email:ada@example.test', profile_id: profileOf['First Ada'] },
      { key: 'phone:+41795550011', profile_id: profileOf['Phone Only'] },
    ]);

    // The trigger takes over: a new booking of Ada finds her backfilled profile.
    await guest('2024-02-01', 'Ada Again', 'Ada@Example.Test', null);
    const again = await sql<{ profile_id: string }>`
      SELECT profile_id FROM guest WHERE full_name = 'Ada Again'`.execute(db);
    expect(again.rows[0]!.profile_id).toBe(profileOf['First Ada']);
  });
});

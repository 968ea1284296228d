import { type Selectable, sql } from 'kysely';
import type { Db, Tx } from '../../db/database.ts';
import type { GuestProfileTable, ReservationStatus } from '../../db/schema.ts';

export type ProfileRow = Selectable<GuestProfileTable>;

export interface ProfileListRow extends ProfileRow {
  stay_count: number;
  last_check_in: string | null;
  property_ids: string[];
}

export interface ProfileFilter {
  /** The properties the caller may see, or null for all. */
  propertyIds: string[] | null;
  propertyId?: string;
  name?: string;
  email?: string;
  phone?: string;
  /** Name, e-mail or phone. */
  search?: string;
  after?: { createdAt: string; id: string };
  limit: number;
}

const NO_PROPERTY = '00000000-0000-0000-0000-000000000000';

/** A LIKE pattern matching `text` anywhere, with LIKE's own characters taken literally. */
function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The properties clause of a scope: null sees every property. */
function inScope(column: ReturnType<typeof sql.ref>, propertyIds: string[] | null) {
  if (propertyIds === null) return sql<boolean>`true`;
  return sql<boolean>`${column} = ANY(${propertyIds.length > 0 ? propertyIds : [NO_PROPERTY]}::uuid[])`;
}

/** What the caller may know of a profile's stays, as columns of a profile `p`. */
function scopedColumns(propertyIds: string[] | null) {
  const scope = inScope(sql.ref('r.property_id'), propertyIds);
  return sql`
    (SELECT count(*)::int FROM guest g JOIN reservation r ON r.guest_id = g.id
      WHERE g.profile_id = p.id AND ${scope}) AS stay_count,
    (SELECT to_char(max(r.check_in), 'YYYY-MM-DD') FROM guest g JOIN reservation r ON r.guest_id = g.id
      WHERE g.profile_id = p.id AND ${scope}) AS last_check_in,
    ARRAY(SELECT DISTINCT r.property_id::text FROM guest g JOIN reservation r ON r.guest_id = g.id
      WHERE g.profile_id = p.id AND ${scope} ORDER BY 1) AS property_ids`;
}

/**
 * Profiles the caller may see (those with a guest row at one of its properties), newest first,
 * keyset-paginated on (created_at, id). Filters match part of the profile's own details, or,
 * given a whole address or number, any e-mail or phone the guest ever booked with (its keys).
 */
export async function listProfiles(db: Db, filter: ProfileFilter): Promise<ProfileListRow[]> {
  const conditions = [sql<boolean>`true`];
  if (filter.propertyIds !== null) {
    conditions.push(sql<boolean>`EXISTS (SELECT 1 FROM guest g WHERE g.profile_id = p.id
      AND ${inScope(sql.ref('g.property_id'), filter.propertyIds)})`);
  }
  if (filter.propertyId) {
    conditions.push(
      sql<boolean>`EXISTS (SELECT 1 FROM guest g WHERE g.profile_id = p.id AND g.property_id = ${filter.propertyId})`,
    );
  }
  const byName = (text: string) => sql<boolean>`p.full_name ILIKE ${containing(text)}`;
  const byEmail = (text: string) => sql<boolean>`(p.email ILIKE ${containing(text)}
    OR p.id = (SELECT k.profile_id FROM guest_profile_key k WHERE k.key = 'email:' || guest_email_key(${text})))`;
  const byPhone = (
    text: string,
  ) => sql<boolean>`(regexp_replace(p.phone, '[^0-9]', '', 'g') LIKE ${containing(text.replace(/\D/g, ''))}
    OR p.id = (SELECT k.profile_id FROM guest_profile_key k WHERE k.key = 'phone:' || guest_phone_key(${text})))`;
  if (filter.name) conditions.push(byName(filter.name));
  if (filter.email) conditions.push(byEmail(filter.email));
  if (filter.phone) conditions.push(byPhone(filter.phone));
  if (filter.search) {
    const either = [byName(filter.search), byEmail(filter.search)];
    // A few digits are a phone search; fewer would match nearly everyone.
    if (filter.search.replace(/\D/g, '').length >= 3) either.push(byPhone(filter.search));
    conditions.push(sql<boolean>`(${sql.join(either, sql` OR `)})`);
  }
  if (filter.after) {
    conditions.push(
      sql<boolean>`(p.created_at, p.id) < (${filter.after.createdAt}::timestamptz, ${filter.after.id}::uuid)`,
    );
  }
  const result = await sql<ProfileListRow>`
    SELECT p.*, ${scopedColumns(filter.propertyIds)}
    FROM guest_profile p
    WHERE ${sql.join(conditions, sql` AND `)}
    ORDER BY p.created_at DESC, p.id DESC
    LIMIT ${filter.limit + 1}`.execute(db);
  return result.rows;
}

export async function findProfile(
  db: Db | Tx,
  id: string,
  propertyIds: string[] | null,
): Promise<ProfileListRow | undefined> {
  const result = await sql<ProfileListRow>`
    SELECT p.*, ${scopedColumns(propertyIds)} FROM guest_profile p WHERE p.id = ${id}`.execute(db);
  return result.rows[0];
}

/** Every property where the profile has a guest row (a booking), whoever asks. */
export async function propertiesOf(db: Db | Tx, profileId: string): Promise<string[]> {
  const result = await sql<{ property_id: string }>`
    SELECT DISTINCT property_id FROM guest WHERE profile_id = ${profileId} ORDER BY property_id`.execute(db);
  return result.rows.map((row) => row.property_id);
}

export interface StayRow {
  reservation_id: string;
  property_id: string;
  confirmation_code: string;
  status: ReservationStatus;
  check_in: string;
  check_out: string;
  total_amount: string;
  currency: string;
  source: string;
  guest_name: string | null;
}

/** The profile's stays at the properties in scope, newest arrival first. */
export async function listStays(
  db: Db,
  profileId: string,
  propertyIds: string[] | null,
  limit: number,
): Promise<StayRow[]> {
  const result = await sql<StayRow>`
    SELECT r.id AS reservation_id, r.property_id, r.confirmation_code, r.status,
      to_char(r.check_in, 'YYYY-MM-DD') AS check_in, to_char(r.check_out, 'YYYY-MM-DD') AS check_out,
      r.total_amount, trim(r.currency) AS currency, r.source, g.full_name AS guest_name
    FROM guest g JOIN reservation r ON r.guest_id = g.id
    WHERE g.profile_id = ${profileId} AND ${inScope(sql.ref('r.property_id'), propertyIds)}
    ORDER BY r.check_in DESC, r.id DESC
    LIMIT ${limit}`.execute(db);
  return result.rows;
}

/**
 * Locks profiles, in id order (two merges of the same pair cannot deadlock). `details`: FOR NO KEY
 * UPDATE, bookings that link guests to them go on. `guests`: FOR UPDATE, for a merge or an erasure,
 * which change who the profile's guests are: it waits for the bookings in flight that found the
 * profile (they hold it FOR KEY SHARE), and the bookings after it wait for it (migration 0090).
 */
export async function lockProfiles(tx: Tx, ids: string[], what: 'details' | 'guests'): Promise<ProfileRow[]> {
  const mode = what === 'guests' ? sql`FOR UPDATE` : sql`FOR NO KEY UPDATE`;
  const result = await sql<ProfileRow>`
    SELECT * FROM guest_profile WHERE id = ANY(${ids}::uuid[]) ORDER BY id ${mode}`.execute(tx);
  return result.rows;
}

export type ProfileDetails = Pick<ProfileRow, 'first_name' | 'last_name' | 'full_name' | 'email' | 'phone'>;

export function updateProfile(
  tx: Tx,
  id: string,
  changes: Partial<ProfileDetails> & { merged_ids?: string[] },
): Promise<ProfileRow> {
  return tx
    .updateTable('guest_profile')
    .set({ ...changes, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The match key of an e-mail and a phone, by the database's own rule (migration 0090). */
export async function matchKey(tx: Tx, email: string | null, phone: string | null): Promise<string | null> {
  const result = await sql<{ key: string | null }>`
    SELECT guest_match_key(${email}::text, ${phone}::text) AS key`.execute(tx);
  return result.rows[0]?.key ?? null;
}

/** Gives the profile a match key; returns the profile that holds it (another one, if taken). */
export async function claimKey(tx: Tx, key: string, profileId: string): Promise<string> {
  const result = await sql<{ profile_id: string }>`
    WITH claimed AS (
      INSERT INTO guest_profile_key (key, profile_id) VALUES (${key}, ${profileId})
      ON CONFLICT (key) DO NOTHING RETURNING profile_id
    )
    SELECT profile_id FROM claimed
    UNION ALL
    SELECT profile_id FROM guest_profile_key WHERE key = ${key} AND NOT EXISTS (SELECT 1 FROM claimed)`.execute(
    tx,
  );
  return result.rows[0]!.profile_id;
}

/**
 * Moves a duplicate's keys and guest rows to the profile that keeps them, then removes the
 * duplicate. Both are locked for their guests (lockProfiles), so no booking links to the duplicate
 * meanwhile.
 */
export async function moveProfile(tx: Tx, duplicateId: string, keeperId: string): Promise<void> {
  await sql`UPDATE guest_profile_key SET profile_id = ${keeperId} WHERE profile_id = ${duplicateId}`.execute(
    tx,
  );
  await sql`UPDATE guest SET profile_id = ${keeperId} WHERE profile_id = ${duplicateId}`.execute(tx);
  await sql`DELETE FROM guest_profile WHERE id = ${duplicateId}`.execute(tx);
}

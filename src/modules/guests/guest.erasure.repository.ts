import { type RawBuilder, sql } from 'kysely';
import type { Tx } from '../../db/database.ts';

/**
 * The statements of an erasure. Each runs in the erasure's one transaction; rows are found by what
 * ties them to the guest (its reservations, its profile) or by the guest's e-mails and phones,
 * locked, scrubbed in the service and written back by their ctid (stable while the row is locked).
 */

export interface GuestRowValues {
  id: string;
  property_id: string;
  first_name: string | null;
  last_name: string | null;
  full_name: string | null;
  email: string | null;
  phone: string | null;
}

export interface ReservationRef {
  id: string;
  property_id: string;
}

/**
 * Removes the profile's match keys, so no booking links to it any more (the profile is locked for
 * its guests first: the bookings in flight that found it have committed their guest rows).
 */
export async function deleteKeys(tx: Tx, profileId: string): Promise<string[]> {
  const result = await sql<{ key: string }>`
    DELETE FROM guest_profile_key WHERE profile_id = ${profileId} RETURNING key`.execute(tx);
  return result.rows.map((row) => row.key);
}

export async function guestRowsOf(tx: Tx, profileId: string): Promise<GuestRowValues[]> {
  const result = await sql<GuestRowValues>`
    SELECT id, property_id, first_name, last_name, full_name, email, phone FROM guest
    WHERE profile_id = ${profileId} ORDER BY id FOR UPDATE`.execute(tx);
  return result.rows;
}

export async function reservationsOf(tx: Tx, guestIds: string[]): Promise<ReservationRef[]> {
  if (guestIds.length === 0) return [];
  const result = await sql<ReservationRef>`
    SELECT id, property_id FROM reservation WHERE guest_id = ANY(${guestIds}::uuid[]) ORDER BY id`.execute(
    tx,
  );
  return result.rows;
}

/** The notes of the guest's reservations are free text about the guest: cleared. */
export async function clearNotes(tx: Tx, reservationIds: string[]): Promise<number> {
  if (reservationIds.length === 0) return 0;
  const result = await sql`
    UPDATE reservation SET notes = NULL
    WHERE id = ANY(${reservationIds}::uuid[]) AND notes IS NOT NULL`.execute(tx);
  return Number(result.numAffectedRows ?? 0);
}

export async function eraseGuestRows(tx: Tx, profileId: string): Promise<number> {
  const result = await sql`
    UPDATE guest SET first_name = NULL, last_name = NULL, full_name = NULL, email = NULL, phone = NULL,
      erased_at = coalesce(erased_at, now())
    WHERE profile_id = ${profileId}`.execute(tx);
  return Number(result.numAffectedRows ?? 0);
}

export async function eraseProfile(tx: Tx, profileId: string): Promise<void> {
  await sql`
    UPDATE guest_profile SET first_name = NULL, last_name = NULL, full_name = NULL, email = NULL, phone = NULL,
      erased_at = coalesce(erased_at, now()), updated_at = now()
    WHERE id = ${profileId}`.execute(tx);
}

/** What ties a row to the guest, given its reservations and profiles (ids as text). */
export interface GuestTies {
  reservationIds: string[];
  profileIds: string[];
}

/** A column that may hold a guest's data besides the guest's own rows. */
export interface Sweep {
  table: string;
  column: string;
  json: boolean;
  /** Rows about the guest, whatever they contain: their personal fields are erased. */
  ofGuest?: (ties: GuestTies) => RawBuilder<boolean>;
}

export const SWEEPS: Sweep[] = [
  {
    table: 'outbox_event',
    column: 'envelope',
    json: true,
    ofGuest: (ties) => sql<boolean>`(
      (type LIKE 'pms.reservation.%' AND envelope #>> '{data,reservation,id}' = ANY(${ties.reservationIds}::text[]))
      OR (type LIKE 'pms.guest.%' AND envelope #>> '{data,guest,id}' = ANY(${ties.profileIds}::text[])))`,
  },
  {
    table: 'audit_log',
    column: 'diff',
    json: true,
    ofGuest: (ties) => sql<boolean>`(
      (entity_type = 'reservation' AND entity_id = ANY(${ties.reservationIds}::text[]))
      OR (entity_type = 'guest_profile' AND entity_id = ANY(${ties.profileIds}::text[])))`,
  },
  {
    table: 'idempotency_key',
    column: 'response_body',
    json: true,
    ofGuest: (ties) => sql<boolean>`response_body ->> 'id' = ANY(${ties.reservationIds}::text[])`,
  },
  // Another guest's notes may name this guest's e-mail; the guest's own are cleared whole.
  { table: 'reservation', column: 'notes', json: false },
  { table: 'pms_pending_ack', column: 'items', json: true },
  { table: 'pms_pending_ack', column: 'last_error', json: false },
  { table: 'inventory_hold', column: 'reference', json: false },
  { table: 'room_out_of_order', column: 'reason', json: false },
  { table: 'sync_run', column: 'error', json: false },
  { table: 'event_lane', column: 'last_error', json: false },
  { table: 'webhook_delivery', column: 'error', json: false },
];

export interface SweptRow {
  ref: string;
  value: unknown;
  of_guest: boolean;
}

/** The rows of a swept column about the guest or holding one of its contacts, locked. */
export async function sweepRows(
  tx: Tx,
  sweep: Sweep,
  ties: GuestTies,
  patterns: string[],
): Promise<SweptRow[]> {
  const column = sql.ref(sweep.column);
  const ofGuest = sweep.ofGuest ? sweep.ofGuest(ties) : sql<boolean>`false`;
  const holdsContact =
    patterns.length > 0 ? sql<boolean>`${column}::text ILIKE ANY(${patterns}::text[])` : sql<boolean>`false`;
  const result = await sql<SweptRow>`
    SELECT ctid::text AS ref, ${column} AS value, (${ofGuest}) AS of_guest
    FROM ${sql.table(sweep.table)}
    WHERE ${column} IS NOT NULL AND ((${ofGuest}) OR ${holdsContact})
    FOR UPDATE`.execute(tx);
  return result.rows;
}

export async function writeSwept(
  tx: Tx,
  sweep: Sweep,
  rows: Array<{ ref: string; value: unknown }>,
): Promise<void> {
  if (rows.length === 0) return;
  const value = sweep.json ? sql`v.value` : sql`v.value #>> '{}'`;
  await sql`
    UPDATE ${sql.table(sweep.table)} AS t SET ${sql.ref(sweep.column)} = ${value}
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS v(ref text, value jsonb)
    WHERE t.ctid = v.ref::tid`.execute(tx);
}

export interface QuarantinedRow {
  id: string;
  message: string;
}

/**
 * Quarantined PMS records that carry one of the guest's contacts, in their payload, what their
 * joins matched, or their message (at any property: a record that failed has no stay to tie it).
 */
export async function quarantinedRecords(tx: Tx, patterns: string[]): Promise<QuarantinedRow[]> {
  if (patterns.length === 0) return [];
  const result = await sql<QuarantinedRow>`
    SELECT id, message FROM ingestion_error
    WHERE raw::text ILIKE ANY(${patterns}::text[]) OR context::text ILIKE ANY(${patterns}::text[])
      OR message ILIKE ANY(${patterns}::text[])
    ORDER BY id FOR UPDATE`.execute(tx);
  return result.rows;
}

/**
 * A quarantined record of the guest loses its payload: the PMS's record may hold more about the
 * guest than this system knows to look for. What stays says why it failed, with the guest's values
 * taken out of the message. Its external id stays: it names the PMS's booking, not the person.
 */
export async function eraseQuarantined(tx: Tx, rows: Array<{ id: string; message: string }>): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    UPDATE ingestion_error AS e SET raw = '{"erased": true}'::jsonb, context = NULL, message = v.message
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS v(id uuid, message text)
    WHERE e.id = v.id`.execute(tx);
}

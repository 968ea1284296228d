import { sql } from 'kysely';
import type { Tx } from '../../../db/database.ts';
import { pgArray } from '../../../db/pg-array.ts';
import type { ReservationStatus } from '../../../db/schema.ts';
import type { CloudEvent } from '../../events/outbox.ts';

/**
 * The bulk writes of ingestion: every statement takes whole columns as arrays (unnest), so a
 * batch of a thousand bookings is a handful of round trips, never a row at a time.
 */

export interface ExistingBooking {
  id: string;
  external_id: string;
  confirmation_code: string;
  status: ReservationStatus;
  check_in: string;
  check_out: string;
  guest_id: string | null;
  source_updated_at: Date | null;
  content_hash: string | null;
  room_type_id: string | null;
}

/** The hotel's bookings with these external ids, locked until the batch commits. */
export async function findExisting(
  tx: Tx,
  propertyId: string,
  source: string,
  externalIds: string[],
): Promise<ExistingBooking[]> {
  if (externalIds.length === 0) return [];
  const result = await sql<ExistingBooking>`
    SELECT r.id, r.external_id, r.confirmation_code, r.status, r.check_in, r.check_out, r.guest_id,
           r.source_updated_at, pb.content_hash, rr.room_type_id
    FROM reservation r
    LEFT JOIN pms_booking pb ON pb.reservation_id = r.id
    LEFT JOIN LATERAL (
      SELECT room_type_id FROM reservation_room WHERE reservation_id = r.id ORDER BY created_at LIMIT 1
    ) rr ON true
    WHERE r.property_id = ${propertyId} AND r.source = ${source} AND r.external_id = ANY(${externalIds}::text[])
    FOR UPDATE OF r`.execute(tx);
  return result.rows;
}

export interface GuestWrite {
  id: string;
  first_name: string | null;
  last_name: string | null;
  full_name: string | null;
  email: string | null;
  phone: string | null;
}

export async function insertGuests(tx: Tx, propertyId: string, guests: GuestWrite[]): Promise<void> {
  if (guests.length === 0) return;
  await sql`
    INSERT INTO guest (id, property_id, first_name, last_name, full_name, email, phone)
    SELECT v.id, ${propertyId}::uuid, v.first_name, v.last_name, v.full_name, v.email, v.phone
    FROM unnest(
      ${pgArray(guests.map((g) => g.id))}::uuid[], ${pgArray(guests.map((g) => g.first_name))}::text[],
      ${pgArray(guests.map((g) => g.last_name))}::text[], ${pgArray(guests.map((g) => g.full_name))}::text[],
      ${pgArray(guests.map((g) => g.email))}::text[], ${pgArray(guests.map((g) => g.phone))}::text[]
    ) AS v(id, first_name, last_name, full_name, email, phone)`.execute(tx);
}

export async function updateGuests(tx: Tx, guests: GuestWrite[]): Promise<void> {
  if (guests.length === 0) return;
  await sql`
    UPDATE guest g SET first_name = v.first_name, last_name = v.last_name, full_name = v.full_name,
      email = v.email, phone = v.phone
    FROM unnest(
      ${pgArray(guests.map((g) => g.id))}::uuid[], ${pgArray(guests.map((g) => g.first_name))}::text[],
      ${pgArray(guests.map((g) => g.last_name))}::text[], ${pgArray(guests.map((g) => g.full_name))}::text[],
      ${pgArray(guests.map((g) => g.email))}::text[], ${pgArray(guests.map((g) => g.phone))}::text[]
    ) AS v(id, first_name, last_name, full_name, email, phone)
    WHERE g.id = v.id`.execute(tx);
}

export interface ReservationWrite {
  id: string;
  confirmation_code: string;
  external_id: string;
  status: ReservationStatus;
  check_in: string;
  check_out: string;
  guest_id: string;
  total_amount: string;
  currency: string;
  notes: string | null;
  source_updated_at: string | null;
}

/**
 * Inserts the batch's new bookings. The run holds its connection's lock, the only writer of this
 * hotel's PMS source, so none of them can exist yet: a plain insert, without the per-row
 * speculative insertion of ON CONFLICT. Should that ever be wrong, the unique index
 * (property, source, external_id) fails the batch and the next run writes it again.
 */
export async function insertReservations(
  tx: Tx,
  propertyId: string,
  source: string,
  rows: ReservationWrite[],
): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    INSERT INTO reservation (id, property_id, confirmation_code, status, check_in, check_out, guest_id, source,
      external_id, total_amount, currency, notes, source_updated_at, cancelled_at)
    SELECT v.id, ${propertyId}::uuid, v.code, v.status, v.check_in, v.check_out, v.guest_id, ${source},
      v.external_id, v.total_amount, v.currency, v.notes, v.source_updated_at,
      CASE WHEN v.status = 'cancelled' THEN now() END
    FROM unnest(
      ${pgArray(rows.map((r) => r.id))}::uuid[], ${pgArray(rows.map((r) => r.confirmation_code))}::text[],
      ${pgArray(rows.map((r) => r.status))}::text[], ${pgArray(rows.map((r) => r.check_in))}::date[],
      ${pgArray(rows.map((r) => r.check_out))}::date[], ${pgArray(rows.map((r) => r.guest_id))}::uuid[],
      ${pgArray(rows.map((r) => r.external_id))}::text[], ${pgArray(rows.map((r) => r.total_amount))}::numeric[],
      ${pgArray(rows.map((r) => r.currency))}::text[], ${pgArray(rows.map((r) => r.notes))}::text[],
      ${pgArray(rows.map((r) => r.source_updated_at))}::timestamptz[]
    ) AS v(id, code, status, check_in, check_out, guest_id, external_id, total_amount, currency, notes,
           source_updated_at)`.execute(tx);
}

/**
 * Updates changed bookings (locked by findExisting) and returns the ids it changed. The WHERE is
 * the last word on ordering: an older PMS version never overwrites a newer one, even if two runs
 * raced.
 */
export async function updateReservations(tx: Tx, rows: ReservationWrite[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const result = await sql<{ id: string }>`
    UPDATE reservation r SET
      status = v.status,
      check_in = v.check_in,
      check_out = v.check_out,
      guest_id = coalesce(r.guest_id, v.guest_id),
      total_amount = v.total_amount,
      currency = v.currency,
      notes = v.notes,
      source_updated_at = v.source_updated_at,
      version = r.version + 1,
      updated_at = now(),
      cancelled_at = CASE WHEN v.status = 'cancelled' THEN coalesce(r.cancelled_at, now()) END
    FROM unnest(
      ${pgArray(rows.map((r) => r.id))}::uuid[], ${pgArray(rows.map((r) => r.status))}::text[],
      ${pgArray(rows.map((r) => r.check_in))}::date[], ${pgArray(rows.map((r) => r.check_out))}::date[],
      ${pgArray(rows.map((r) => r.guest_id))}::uuid[], ${pgArray(rows.map((r) => r.total_amount))}::numeric[],
      ${pgArray(rows.map((r) => r.currency))}::text[], ${pgArray(rows.map((r) => r.notes))}::text[],
      ${pgArray(rows.map((r) => r.source_updated_at))}::timestamptz[]
    ) AS v(id, status, check_in, check_out, guest_id, total_amount, currency, notes, source_updated_at)
    WHERE r.id = v.id
      AND (r.source_updated_at IS NULL OR v.source_updated_at IS NULL OR v.source_updated_at > r.source_updated_at)
    RETURNING r.id`.execute(tx);
  return result.rows.map((r) => r.id);
}

export interface RoomWrite {
  id: string;
  reservation_id: string;
  room_type_id: string;
  room_id: string | null;
  adults: number;
  children: number;
  amount: string;
}

/** A PMS booking is one room: its row is replaced whole when the booking changes. */
export async function replaceRooms(
  tx: Tx,
  propertyId: string,
  replacedFor: string[],
  rooms: RoomWrite[],
): Promise<void> {
  if (replacedFor.length > 0) {
    await sql`DELETE FROM reservation_room WHERE reservation_id = ANY(${replacedFor}::uuid[])`.execute(tx);
  }
  if (rooms.length === 0) return;
  await sql`
    INSERT INTO reservation_room (id, reservation_id, property_id, room_type_id, room_id, adults, children, amount)
    SELECT v.id, v.reservation_id, ${propertyId}::uuid, v.room_type_id, v.room_id, v.adults, v.children, v.amount
    FROM unnest(
      ${pgArray(rooms.map((r) => r.id))}::uuid[], ${pgArray(rooms.map((r) => r.reservation_id))}::uuid[],
      ${pgArray(rooms.map((r) => r.room_type_id))}::uuid[], ${pgArray(rooms.map((r) => r.room_id))}::uuid[],
      ${pgArray(rooms.map((r) => r.adults))}::int[], ${pgArray(rooms.map((r) => r.children))}::int[],
      ${pgArray(rooms.map((r) => r.amount))}::numeric[]
    ) AS v(id, reservation_id, room_type_id, room_id, adults, children, amount)`.execute(tx);
}

export interface PmsBookingWrite {
  reservation_id: string;
  room_type_code: string | null;
  room_number: string | null;
  adults: number | null;
  children: number | null;
  content_hash: string;
}

/**
 * PMS details of the batch's bookings. New reservations cannot have a row yet, so they are plain
 * inserts; only `existing` ones (reservations that may predate their details) go through
 * ON CONFLICT, whose speculative insertion costs a probe and a WAL record per row.
 */
export async function upsertPmsBookings(
  tx: Tx,
  propertyId: string,
  connectionId: string,
  runId: string,
  rows: PmsBookingWrite[],
  existing: boolean,
): Promise<void> {
  if (rows.length === 0) return;
  const onConflict = existing
    ? sql`ON CONFLICT (reservation_id) DO UPDATE SET
      connection_id = excluded.connection_id, room_type_code = excluded.room_type_code,
      room_number = excluded.room_number, adults = excluded.adults, children = excluded.children,
      content_hash = excluded.content_hash, last_sync_run_id = excluded.last_sync_run_id, updated_at = now()`
    : sql``;
  await sql`
    INSERT INTO pms_booking (reservation_id, property_id, connection_id, room_type_code, room_number, adults,
      children, content_hash, last_sync_run_id)
    SELECT v.reservation_id, ${propertyId}::uuid, ${connectionId}::uuid, v.room_type_code, v.room_number, v.adults,
      v.children, v.content_hash, ${runId}::uuid
    FROM unnest(
      ${pgArray(rows.map((r) => r.reservation_id))}::uuid[], ${pgArray(rows.map((r) => r.room_type_code))}::text[],
      ${pgArray(rows.map((r) => r.room_number))}::text[], ${pgArray(rows.map((r) => r.adults))}::int[],
      ${pgArray(rows.map((r) => r.children))}::int[], ${pgArray(rows.map((r) => r.content_hash))}::text[]
    ) AS v(reservation_id, room_type_code, room_number, adults, children, content_hash)
    ${onConflict}`.execute(tx);
}

/** A newer PMS version with the same content: only its modification time moves forward. */
export async function advanceSourceUpdatedAt(
  tx: Tx,
  rows: Array<{ id: string; source_updated_at: string }>,
): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    UPDATE reservation r SET source_updated_at = v.at
    FROM unnest(${pgArray(rows.map((r) => r.id))}::uuid[], ${pgArray(rows.map((r) => r.source_updated_at))}::timestamptz[]) AS v(id, at)
    WHERE r.id = v.id AND (r.source_updated_at IS NULL OR r.source_updated_at < v.at)`.execute(tx);
}

/**
 * The batch's events as one JSON array parameter: serialising a jsonb[] would escape every quote
 * of every envelope on the way out. WITH ORDINALITY keeps the batch order in the outbox sequence.
 */
export async function insertEvents(tx: Tx, events: CloudEvent[]): Promise<void> {
  if (events.length === 0) return;
  await sql`
    INSERT INTO outbox_event (id, property_id, type, envelope)
    SELECT (e.envelope->>'id')::uuid, (e.envelope->>'subject')::uuid, e.envelope->>'type', e.envelope
    FROM jsonb_array_elements(${JSON.stringify(events)}::jsonb) WITH ORDINALITY AS e(envelope, n)
    ORDER BY e.n`.execute(tx);
}

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
  /** The PMS details of a one-room booking (format v1 keeps no per-room rows: these are its room). */
  room_type_code: string | null;
  room_number: string | null;
  rate_plan_code: string | null;
  adults: number | null;
  children: number | null;
  total_amount: string;
  currency: string;
  notes: string | null;
  first_name: string | null;
  last_name: string | null;
  full_name: string | null;
  email: string | null;
  phone: string | null;
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
           r.source_updated_at, pb.content_hash, pb.room_type_code, pb.room_number, pb.rate_plan_code, pb.adults,
           pb.children, r.total_amount, trim(r.currency) AS currency, r.notes,
           g.first_name, g.last_name, g.full_name, g.email, g.phone
    FROM reservation r
    LEFT JOIN pms_booking pb ON pb.reservation_id = r.id
    LEFT JOIN guest g ON g.id = r.guest_id
    WHERE r.property_id = ${propertyId} AND r.source = ${source} AND r.external_id = ANY(${externalIds}::text[])
    FOR UPDATE OF r`.execute(tx);
  return result.rows;
}

/** A reservation_room row of an imported booking: the nights it holds are its reservation's. */
export interface HeldRoom {
  id: string;
  reservation_id: string;
  room_type_id: string;
  room_id: string | null;
}

/** The PMS's view of one room, as stored (pms_booking_room). */
export interface StoredRoom {
  reservation_id: string;
  room_key: string;
  position: number;
  external_id: string | null;
  status: ReservationStatus | null;
  check_in: string | null;
  check_out: string | null;
  room_type_code: string | null;
  room_number: string | null;
  rate_plan_code: string | null;
  adults: number | null;
  children: number | null;
  amount: string | null;
  source_updated_at: Date | null;
  reservation_room_id: string | null;
}

/** The rooms of locked reservations: their reservation_room rows and the PMS's view of each room. */
export async function findRooms(
  tx: Tx,
  reservationIds: string[],
): Promise<{ held: HeldRoom[]; stored: StoredRoom[] }> {
  if (reservationIds.length === 0) return { held: [], stored: [] };
  const [held, stored] = await Promise.all([
    sql<HeldRoom>`
      SELECT id, reservation_id, room_type_id, room_id FROM reservation_room
      WHERE reservation_id = ANY(${reservationIds}::uuid[]) ORDER BY created_at, id`.execute(tx),
    sql<StoredRoom>`
      SELECT reservation_id, room_key, position, external_id, status, check_in, check_out, room_type_code,
             room_number, rate_plan_code, adults, children, amount, source_updated_at, reservation_room_id
      FROM pms_booking_room WHERE reservation_id = ANY(${reservationIds}::uuid[]) ORDER BY position`.execute(
      tx,
    ),
  ]);
  return { held: held.rows, stored: stored.rows };
}

/**
 * External ids of the hotel's bookings that hold one of these grouped rooms under another group: a
 * room the PMS moved to another group leaves its old booking in the same batch.
 */
export async function bookingsHoldingRooms(
  tx: Tx,
  propertyId: string,
  source: string,
  roomExternalIds: string[],
  exceptExternalIds: string[],
): Promise<string[]> {
  if (roomExternalIds.length === 0) return [];
  const result = await sql<{ external_id: string }>`
    SELECT DISTINCT r.external_id FROM pms_booking_room pbr
    JOIN reservation r ON r.id = pbr.reservation_id
    WHERE pbr.property_id = ${propertyId} AND pbr.external_id = ANY(${roomExternalIds}::text[])
      AND r.source = ${source} AND r.external_id <> ALL(${exceptExternalIds}::text[])`.execute(tx);
  return result.rows.map((r) => r.external_id);
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
  /** Decided under the batch's locks from every room's own version (grouped rooms): no version guard. */
  force?: boolean;
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
      ${pgArray(rows.map((r) => r.source_updated_at))}::timestamptz[], ${pgArray(rows.map((r) => r.force === true))}::boolean[]
    ) AS v(id, status, check_in, check_out, guest_id, total_amount, currency, notes, source_updated_at, force)
    WHERE r.id = v.id
      AND (v.force OR r.source_updated_at IS NULL OR v.source_updated_at IS NULL OR v.source_updated_at > r.source_updated_at)
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

/** reservation_room rows of rooms that left their booking (or stopped holding nights). */
export async function deleteRooms(tx: Tx, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`DELETE FROM reservation_room WHERE id = ANY(${ids}::uuid[])`.execute(tx);
}

/**
 * Rooms that stay in their booking, changed in place: one room changed at the PMS changes that row
 * only, and the others keep their ids and their room assignments.
 */
export async function updateRooms(tx: Tx, rooms: Omit<RoomWrite, 'reservation_id'>[]): Promise<void> {
  if (rooms.length === 0) return;
  await sql`
    UPDATE reservation_room rr SET room_type_id = v.room_type_id, room_id = v.room_id, adults = v.adults,
      children = v.children, amount = v.amount
    FROM unnest(
      ${pgArray(rooms.map((r) => r.id))}::uuid[], ${pgArray(rooms.map((r) => r.room_type_id))}::uuid[],
      ${pgArray(rooms.map((r) => r.room_id))}::uuid[], ${pgArray(rooms.map((r) => r.adults))}::int[],
      ${pgArray(rooms.map((r) => r.children))}::int[], ${pgArray(rooms.map((r) => r.amount))}::numeric[]
    ) AS v(id, room_type_id, room_id, adults, children, amount)
    WHERE rr.id = v.id`.execute(tx);
}

/** New reservation_room rows, one per room that holds nights. */
export async function insertRooms(tx: Tx, propertyId: string, rooms: RoomWrite[]): Promise<void> {
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
  rate_plan_code: string | null;
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
      rate_plan_code = excluded.rate_plan_code, content_hash = excluded.content_hash,
      last_sync_run_id = excluded.last_sync_run_id, updated_at = now()`
    : sql``;
  await sql`
    INSERT INTO pms_booking (reservation_id, property_id, connection_id, room_type_code, room_number, adults,
      children, rate_plan_code, content_hash, last_sync_run_id)
    SELECT v.reservation_id, ${propertyId}::uuid, ${connectionId}::uuid, v.room_type_code, v.room_number, v.adults,
      v.children, v.rate_plan_code, v.content_hash, ${runId}::uuid
    FROM unnest(
      ${pgArray(rows.map((r) => r.reservation_id))}::uuid[], ${pgArray(rows.map((r) => r.room_type_code))}::text[],
      ${pgArray(rows.map((r) => r.room_number))}::text[], ${pgArray(rows.map((r) => r.adults))}::int[],
      ${pgArray(rows.map((r) => r.children))}::int[], ${pgArray(rows.map((r) => r.rate_plan_code))}::text[],
      ${pgArray(rows.map((r) => r.content_hash))}::text[]
    ) AS v(reservation_id, room_type_code, room_number, adults, children, rate_plan_code, content_hash)
    ${onConflict}`.execute(tx);
}

export interface PmsRoomWrite {
  reservation_id: string;
  room_key: string;
  position: number;
  external_id: string | null;
  status: ReservationStatus | null;
  check_in: string | null;
  check_out: string | null;
  room_type_code: string | null;
  room_number: string | null;
  rate_plan_code: string | null;
  adults: number | null;
  children: number | null;
  amount: string | null;
  source_updated_at: string | null;
  reservation_room_id: string | null;
}

/** The PMS's view of the rooms of these bookings, replaced whole (new bookings have none yet). */
export async function replacePmsRooms(
  tx: Tx,
  propertyId: string,
  replacedFor: string[],
  rows: PmsRoomWrite[],
): Promise<void> {
  if (replacedFor.length > 0) {
    await sql`DELETE FROM pms_booking_room WHERE reservation_id = ANY(${replacedFor}::uuid[])`.execute(tx);
  }
  if (rows.length === 0) return;
  const column = <K extends keyof PmsRoomWrite>(key: K) => pgArray(rows.map((r) => r[key]));
  await sql`
    INSERT INTO pms_booking_room (reservation_id, room_key, property_id, position, external_id, status, check_in,
      check_out, room_type_code, room_number, rate_plan_code, adults, children, amount, source_updated_at,
      reservation_room_id)
    SELECT v.reservation_id, v.room_key, ${propertyId}::uuid, v.position, v.external_id, v.status, v.check_in,
      v.check_out, v.room_type_code, v.room_number, v.rate_plan_code, v.adults, v.children, v.amount,
      v.source_updated_at, v.reservation_room_id
    FROM unnest(
      ${column('reservation_id')}::uuid[], ${column('room_key')}::text[], ${column('position')}::int[],
      ${column('external_id')}::text[], ${column('status')}::text[], ${column('check_in')}::date[],
      ${column('check_out')}::date[], ${column('room_type_code')}::text[], ${column('room_number')}::text[],
      ${column('rate_plan_code')}::text[], ${column('adults')}::int[], ${column('children')}::int[],
      ${column('amount')}::numeric[], ${column('source_updated_at')}::timestamptz[],
      ${column('reservation_room_id')}::uuid[]
    ) AS v(reservation_id, room_key, position, external_id, status, check_in, check_out, room_type_code,
           room_number, rate_plan_code, adults, children, amount, source_updated_at, reservation_room_id)`.execute(
    tx,
  );
}

/** Grouped rooms whose newer PMS version changed nothing: only their modification time moves. */
export async function advanceRoomTimes(
  tx: Tx,
  rows: Array<{ reservation_id: string; room_key: string; source_updated_at: string }>,
): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    UPDATE pms_booking_room p SET source_updated_at = v.at
    FROM unnest(${pgArray(rows.map((r) => r.reservation_id))}::uuid[], ${pgArray(rows.map((r) => r.room_key))}::text[],
      ${pgArray(rows.map((r) => r.source_updated_at))}::timestamptz[]) AS v(reservation_id, room_key, at)
    WHERE p.reservation_id = v.reservation_id AND p.room_key = v.room_key
      AND (p.source_updated_at IS NULL OR p.source_updated_at < v.at)`.execute(tx);
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

import { decodeCursor, pageOf } from '../../../app/schemas.ts';
import type { Db } from '../../../db/database.ts';
import type { ReservationStatus } from '../../../db/schema.ts';
import { type Actor, assertCanSeeProperty, propertyScope } from '../../auth/auth.context.ts';
import { type IngestedBookingRow, listBookingRooms, listIngestedBookings } from './bookings.repository.ts';

type RoomRow = Awaited<ReturnType<typeof listBookingRooms>>[number];
const HOLDS = new Set(['tentative', 'confirmed', 'checked_in', 'checked_out']);

function toBookingView(row: IngestedBookingRow, rooms: RoomRow[]) {
  return {
    id: row.id,
    property_id: row.property_id,
    source: row.source,
    pms_type: row.source.slice('pms:'.length),
    external_id: row.external_id!,
    confirmation_code: row.confirmation_code,
    status: row.status,
    check_in: row.check_in,
    check_out: row.check_out,
    guest: {
      first_name: row.first_name,
      last_name: row.last_name,
      full_name: row.full_name,
      email: row.email,
      phone: row.phone,
    },
    room_type_code: row.room_type_code,
    room_type_id: row.room_type_id,
    room_number: row.room_number,
    room_id: row.room_id,
    adults: row.adults,
    children: row.children,
    total_amount: row.total_amount,
    currency: row.currency.trim(),
    notes: row.notes,
    source_updated_at: row.source_updated_at?.toISOString() ?? null,
    rate_plan_code: row.rate_plan_code,
    rooms: rooms.map((room) => ({
      external_id: room.external_id,
      status: room.status,
      room_type_code: room.room_type_code,
      room_type_id: room.room_type_id,
      room_number: room.room_number,
      room_id: room.room_id,
      rate_plan_code: room.rate_plan_code,
      adults: room.adults,
      children: room.children,
      amount: room.amount,
      holds_inventory: room.room_type_id !== null && HOLDS.has(row.status),
    })),
    /** True when the booking holds calendar nights (a known room type, a status that holds). */
    holds_inventory: row.room_type_id !== null && row.status !== 'cancelled' && row.status !== 'no_show',
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** A format v1 booking keeps no per-room rows: its one room is its PMS details and its reservation_room. */
function oneRoom(row: IngestedBookingRow): RoomRow {
  return {
    reservation_id: row.id,
    external_id: null,
    status: null,
    room_type_code: row.room_type_code,
    room_type_id: row.room_type_id,
    room_number: row.room_number,
    room_id: row.room_id,
    rate_plan_code: row.rate_plan_code,
    adults: row.adults,
    children: row.children,
    amount: row.total_amount,
  };
}

export function createBookingsService(db: Db) {
  return {
    /** STAFF read these too: ingested bookings are part of the hotel's reservations. */
    async list(
      actor: Actor,
      query: {
        property_id?: string;
        status?: ReservationStatus;
        updated_since?: string;
        limit: number;
        cursor?: string;
      },
    ) {
      if (query.property_id) assertCanSeeProperty(actor, query.property_id);
      const after = decodeCursor(query.cursor);
      const rows = await listIngestedBookings(db, {
        propertyIds: propertyScope(actor),
        propertyId: query.property_id,
        status: query.status,
        updatedSince: query.updated_since,
        after: after ? { sortKey: String(after.sortKey), id: after.id } : undefined,
        limit: query.limit,
      });
      const page = pageOf(rows, query.limit, (r) => r.sort_key);
      const rooms = new Map<string, RoomRow[]>();
      for (const room of await listBookingRooms(
        db,
        page.results.map((r) => r.id),
      )) {
        rooms.set(room.reservation_id, [...(rooms.get(room.reservation_id) ?? []), room]);
      }
      return {
        results: page.results.map((r) => toBookingView(r, rooms.get(r.id) ?? [oneRoom(r)])),
        next_cursor: page.next_cursor,
      };
    },
  };
}

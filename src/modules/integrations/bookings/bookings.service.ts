import { decodeCursor, pageOf } from '../../../app/schemas.ts';
import type { Db } from '../../../db/database.ts';
import type { ReservationStatus } from '../../../db/schema.ts';
import { type Actor, assertCanSeeProperty, propertyScope } from '../../auth/auth.context.ts';
import { type IngestedBookingRow, listIngestedBookings } from './bookings.repository.ts';

function toBookingView(row: IngestedBookingRow) {
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
    /** True when the booking holds calendar nights (a known room type, a status that holds). */
    holds_inventory: row.room_type_id !== null && row.status !== 'cancelled' && row.status !== 'no_show',
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
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
      return { results: page.results.map(toBookingView), next_cursor: page.next_cursor };
    },
  };
}

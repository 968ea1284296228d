import { sql } from 'kysely';
import type { Db } from '../../../db/database.ts';
import type { ReservationStatus } from '../../../db/schema.ts';

export interface BookingFilter {
  propertyIds: string[] | null;
  propertyId?: string;
  status?: ReservationStatus;
  updatedSince?: string;
  after?: { sortKey: string; id: string };
  limit: number;
}

/** Ingested bookings (source pms:*) with the PMS's view of them, in ledger modification order. */
export function listIngestedBookings(db: Db, filter: BookingFilter) {
  let query = db
    .selectFrom('reservation as r')
    .innerJoin('pms_booking as pb', 'pb.reservation_id', 'r.id')
    .leftJoin('guest as g', 'g.id', 'r.guest_id')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('reservation_room')
          .select(['room_type_id', 'room_id'])
          .whereRef('reservation_id', '=', 'r.id')
          .orderBy('created_at')
          .limit(1)
          .as('rr'),
      (join) => join.onTrue(),
    )
    .select([
      'r.id',
      'r.property_id',
      'r.source',
      'r.external_id',
      'r.confirmation_code',
      'r.status',
      'r.check_in',
      'r.check_out',
      'g.first_name',
      'g.last_name',
      'g.full_name',
      'g.email',
      'g.phone',
      'pb.room_type_code',
      'rr.room_type_id',
      'pb.room_number',
      'rr.room_id',
      'pb.adults',
      'pb.children',
      'pb.rate_plan_code',
      'r.total_amount',
      'r.currency',
      'r.notes',
      'r.source_updated_at',
      'r.version',
      'r.created_at',
      'r.updated_at',
      sql<string>`to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`.as('sort_key'),
    ])
    .where('r.source', 'like', 'pms:%');
  if (filter.propertyIds !== null) {
    if (filter.propertyIds.length === 0) return Promise.resolve([]);
    query = query.where('r.property_id', 'in', filter.propertyIds);
  }
  if (filter.propertyId) query = query.where('r.property_id', '=', filter.propertyId);
  if (filter.status) query = query.where('r.status', '=', filter.status);
  if (filter.updatedSince) query = query.where('r.updated_at', '>=', new Date(filter.updatedSince));
  if (filter.after) {
    const { sortKey, id } = filter.after;
    query = query.where(
      sql<boolean>`(r.updated_at, r.id) > (${sortKey}::timestamp AT TIME ZONE 'UTC', ${id}::uuid)`,
    );
  }
  return query
    .orderBy('r.updated_at')
    .orderBy('r.id')
    .limit(filter.limit + 1)
    .execute();
}

export type IngestedBookingRow = Awaited<ReturnType<typeof listIngestedBookings>>[number];

/** The PMS's rooms of these bookings, in order, with the reservation_room each holds its nights with. */
export function listBookingRooms(db: Db, reservationIds: string[]) {
  if (reservationIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('pms_booking_room as p')
    .leftJoin('reservation_room as rr', (join) =>
      join.onRef('rr.id', '=', 'p.reservation_room_id').onRef('rr.reservation_id', '=', 'p.reservation_id'),
    )
    .select([
      'p.reservation_id',
      'p.external_id',
      'p.status',
      'p.room_type_code',
      'rr.room_type_id',
      'p.room_number',
      'rr.room_id',
      'p.rate_plan_code',
      'p.adults',
      'p.children',
      'p.amount',
    ])
    .where('p.reservation_id', 'in', reservationIds)
    .orderBy('p.reservation_id')
    .orderBy('p.position')
    .execute();
}

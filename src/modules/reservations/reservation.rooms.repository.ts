import { sql } from 'kysely';
import type { Tx } from '../../db/database.ts';
import type { HousekeepingStatus } from '../../db/schema.ts';

/** The queries of room assignment (the stays that hold a room, and the rooms check-in may pick). */

export interface LockedRoom {
  id: string;
  property_id: string;
  room_type_id: string;
  number: string;
  housekeeping_status: HousekeepingStatus;
}

/**
 * Locks physical rooms in id order. Every transaction that gives a room a stay or widens one
 * (assignment, moves, date changes, extensions, check-in, imports) locks the room first, so each
 * decides against the stays committed before it; the exclusion constraint is the last word.
 */
export function lockRooms(tx: Tx, roomIds: string[]): Promise<LockedRoom[]> {
  if (roomIds.length === 0) return Promise.resolve([]);
  return tx
    .selectFrom('room')
    .select(['id', 'property_id', 'room_type_id', 'number', 'housekeeping_status'])
    .where('id', 'in', roomIds)
    .orderBy('id')
    .forUpdate()
    .execute();
}

/**
 * The best room check-in may give a stay, locked: of the room type, inspected or clean, vacant,
 * not out of order and held by no other stay on its nights; inspected first, then by number.
 * SKIP LOCKED lets concurrent check-ins take different rooms instead of queueing on one.
 */
export async function lockFreeCleanRoom(
  tx: Tx,
  input: {
    propertyId: string;
    roomTypeId: string;
    reservationId: string;
    checkIn: string;
    checkOut: string;
    /** Out-of-order nights before this date do not matter (they are over). */
    from: string;
    exclude: string[];
  },
): Promise<LockedRoom | undefined> {
  const result = await sql<LockedRoom>`
    SELECT r.id, r.property_id, r.room_type_id, r.number, r.housekeeping_status
    FROM room r
    WHERE r.property_id = ${input.propertyId} AND r.room_type_id = ${input.roomTypeId}
      AND r.housekeeping_status IN ('clean', 'inspected')
      AND r.id <> ALL(${input.exclude}::uuid[])
      AND NOT EXISTS (
        SELECT 1 FROM reservation_room rr JOIN reservation res ON res.id = rr.reservation_id
        WHERE rr.room_id = r.id AND res.id <> ${input.reservationId}
          AND (res.status = 'checked_in'
            OR (rr.holds_room AND rr.stay && daterange(${input.checkIn}::date, ${input.checkOut}::date))))
      AND NOT EXISTS (
        SELECT 1 FROM room_out_of_order b
        WHERE b.room_id = r.id AND b.start_date < ${input.checkOut}::date AND b.end_date > ${input.from}::date)
    ORDER BY r.housekeeping_status = 'inspected' DESC, r.number, r.id
    LIMIT 1
    FOR UPDATE OF r SKIP LOCKED`.execute(tx);
  return result.rows[0];
}

/** How many rooms a room type has (none: the hotel does not manage that type's rooms here). */
export async function countRoomsOfType(tx: Tx, roomTypeId: string): Promise<number> {
  const row = await tx
    .selectFrom('room')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('room_type_id', '=', roomTypeId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Whether a checked-in stay other than `reservationId`'s has the room (it is occupied now). */
export async function occupiedBy(tx: Tx, roomId: string, reservationId: string) {
  return tx
    .selectFrom('reservation_room as rr')
    .innerJoin('reservation as r', 'r.id', 'rr.reservation_id')
    .select(['r.id', 'r.confirmation_code'])
    .where('rr.room_id', '=', roomId)
    .where('r.status', '=', 'checked_in')
    .where('r.id', '<>', reservationId)
    .executeTakeFirst();
}

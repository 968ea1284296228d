import { sql } from 'kysely';
import type { Db, Tx } from '../../db/database.ts';
import type { HousekeepingStatus, Room, RoomStatus } from '../../db/schema.ts';
import type { KeysetAfter } from './property.repository.ts';

/**
 * Room state queries: a room with what it derives from stays and blocks (occupancy, the block of
 * the business date), and the out-of-order blocks themselves.
 */

export interface OutOfOrderRow {
  id: string;
  property_id: string;
  room_id: string;
  room_type_id: string;
  start_date: string;
  end_date: string;
  reason: string | null;
  created_by: string | null;
  created_at: Date;
  returned_at: Date | null;
  returned_by: string | null;
}

export interface RoomState extends Room {
  occupied_by: {
    reservation_id: string;
    confirmation_code: string;
    check_in: string;
    check_out: string;
  } | null;
  out_of_order: OutOfOrderRow | null;
}

/** The hotel's business date (its current trading day), or undefined when the property does not exist. */
export async function businessDate(db: Db | Tx, propertyId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('property')
    .select('business_date')
    .where('id', '=', propertyId)
    .executeTakeFirst();
  return row?.business_date;
}

export interface RoomStateFilter {
  roomIds?: string[];
  roomTypeId?: string;
  status?: RoomStatus;
  housekeepingStatus?: HousekeepingStatus;
  occupancy?: 'vacant' | 'occupied';
  floor?: string;
  search?: string;
  after?: KeysetAfter;
  limit: number;
}

/**
 * Rooms of a property with their state: the checked-in stay that occupies each (if any) and the
 * out-of-order block covering the business date (if any), in room-number order.
 */
export async function listRoomStates(db: Db | Tx, propertyId: string, filter: RoomStateFilter) {
  let query = db
    .selectFrom('room as r')
    .innerJoin('property as p', 'p.id', 'r.property_id')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('reservation_room as rr')
          .innerJoin('reservation as res', 'res.id', 'rr.reservation_id')
          .select(['res.id as reservation_id', 'res.confirmation_code', 'res.check_in', 'res.check_out'])
          .whereRef('rr.room_id', '=', 'r.id')
          .where('res.status', '=', 'checked_in')
          .orderBy('res.check_in')
          .limit(1)
          .as('occ'),
      (join) => join.onTrue(),
    )
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('room_out_of_order as b')
          .selectAll('b')
          .whereRef('b.room_id', '=', 'r.id')
          .whereRef('b.start_date', '<=', 'p.business_date')
          .whereRef('b.end_date', '>', 'p.business_date')
          .limit(1)
          .as('ooo'),
      (join) => join.onTrue(),
    )
    .selectAll('r')
    .select([
      'occ.reservation_id as occ_reservation_id',
      'occ.confirmation_code as occ_confirmation_code',
      'occ.check_in as occ_check_in',
      'occ.check_out as occ_check_out',
      sql<OutOfOrderRow | null>`CASE WHEN ooo.id IS NULL THEN NULL ELSE to_jsonb(ooo) END`.as('ooo'),
    ])
    .where('r.property_id', '=', propertyId);
  if (filter.roomIds) query = query.where('r.id', 'in', filter.roomIds.length ? filter.roomIds : [NO_ROOM]);
  if (filter.roomTypeId) query = query.where('r.room_type_id', '=', filter.roomTypeId);
  if (filter.housekeepingStatus) query = query.where('r.housekeeping_status', '=', filter.housekeepingStatus);
  if (filter.occupancy === 'occupied') query = query.where('occ.reservation_id', 'is not', null);
  if (filter.occupancy === 'vacant') query = query.where('occ.reservation_id', 'is', null);
  if (filter.status) {
    // The legacy single status, derived in this order: out of order, occupied, dirty, available.
    const status = filter.status;
    query = query.where((eb) => {
      const blocked = eb('ooo.id', 'is not', null);
      const occupied = eb('occ.reservation_id', 'is not', null);
      const dirty = eb('r.housekeeping_status', '=', 'dirty');
      if (status === 'out_of_order') return blocked;
      if (status === 'occupied') return eb.and([eb.not(blocked), occupied]);
      if (status === 'dirty') return eb.and([eb.not(blocked), eb.not(occupied), dirty]);
      return eb.and([eb.not(blocked), eb.not(occupied), eb.not(dirty)]);
    });
  }
  if (filter.floor) query = query.where('r.floor', '=', filter.floor);
  if (filter.search) {
    const escaped = filter.search.replace(/[\\%_]/g, (c) => `\\${c}`);
    query = query.where('r.number', 'ilike', `${escaped}%`);
  }
  if (filter.after) {
    const { sortKey, id } = filter.after;
    query = query.where(sql<boolean>`(r.number, r.id) > (${sortKey}, ${id}::uuid)`);
  }
  const rows = await query
    .orderBy('r.number')
    .orderBy('r.id')
    .limit(filter.limit + 1)
    .execute();
  return rows.map(
    ({
      occ_reservation_id,
      occ_confirmation_code,
      occ_check_in,
      occ_check_out,
      ooo,
      ...room
    }): RoomState => ({
      ...(room as Room),
      occupied_by: occ_reservation_id
        ? {
            reservation_id: occ_reservation_id,
            confirmation_code: occ_confirmation_code!,
            check_in: occ_check_in!,
            check_out: occ_check_out!,
          }
        : null,
      out_of_order: ooo
        ? {
            ...ooo,
            created_at: new Date(ooo.created_at),
            returned_at: ooo.returned_at ? new Date(ooo.returned_at) : null,
          }
        : null,
    }),
  );
}

const NO_ROOM = '00000000-0000-0000-0000-000000000000';

/** One room with its state, or undefined when it is not a room of the property. */
export async function findRoomState(db: Db | Tx, propertyId: string, roomId: string) {
  const [room] = await listRoomStates(db, propertyId, { roomIds: [roomId], limit: 1 });
  return room;
}

export async function setHousekeeping(tx: Tx, roomIds: string[], status: HousekeepingStatus): Promise<void> {
  if (roomIds.length === 0) return;
  await tx
    .updateTable('room')
    .set({ housekeeping_status: status, updated_at: new Date() })
    .where('id', 'in', roomIds)
    .execute();
}

/** A room's blocks, newest first. */
export function listOutOfOrder(db: Db, roomId: string): Promise<OutOfOrderRow[]> {
  return db
    .selectFrom('room_out_of_order')
    .selectAll()
    .where('room_id', '=', roomId)
    .orderBy('start_date', 'desc')
    .orderBy('id')
    .execute();
}

/** Locks one block (its return is decided against it). */
export function lockOutOfOrder(tx: Tx, roomId: string, blockId: string): Promise<OutOfOrderRow | undefined> {
  return tx
    .selectFrom('room_out_of_order')
    .selectAll()
    .where('id', '=', blockId)
    .where('room_id', '=', roomId)
    .forUpdate()
    .executeTakeFirst();
}

/** Blocks of some rooms that overlap the nights [start, end). */
export function overlappingOutOfOrder(
  db: Db | Tx,
  roomIds: string[],
  start: string,
  end: string,
): Promise<OutOfOrderRow[]> {
  if (roomIds.length === 0 || start >= end) return Promise.resolve([]);
  return db
    .selectFrom('room_out_of_order')
    .selectAll()
    .where('room_id', 'in', roomIds)
    .where('start_date', '<', end)
    .where('end_date', '>', start)
    .orderBy('start_date')
    .execute();
}

export function insertOutOfOrder(
  tx: Tx,
  block: Pick<
    OutOfOrderRow,
    'property_id' | 'room_id' | 'room_type_id' | 'start_date' | 'end_date' | 'reason' | 'created_by'
  >,
): Promise<OutOfOrderRow> {
  return tx.insertInto('room_out_of_order').values(block).returningAll().executeTakeFirstOrThrow();
}

export function endOutOfOrder(
  tx: Tx,
  blockId: string,
  endDate: string,
  actorId: string | null,
): Promise<OutOfOrderRow> {
  return tx
    .updateTable('room_out_of_order')
    .set({ end_date: endDate, returned_at: new Date(), returned_by: actorId })
    .where('id', '=', blockId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Holding stays that have one of these rooms assigned on nights of [start, end), other than `reservationId`'s. */
export function holdingStaysOfRooms(
  db: Db | Tx,
  input: { roomIds: string[]; start: string; end: string; exceptReservationId?: string },
) {
  if (input.roomIds.length === 0 || input.start >= input.end) return Promise.resolve([]);
  let query = db
    .selectFrom('reservation_room as rr')
    .innerJoin('reservation as r', 'r.id', 'rr.reservation_id')
    .select(['rr.room_id', 'r.id as reservation_id', 'r.confirmation_code', 'r.check_in', 'r.check_out'])
    .where('rr.room_id', 'in', input.roomIds)
    .where('rr.holds_room', '=', true)
    .where('r.check_in', '<', input.end)
    .where('r.check_out', '>', input.start);
  if (input.exceptReservationId) query = query.where('r.id', '<>', input.exceptReservationId);
  return query.orderBy('r.check_in').execute();
}

/** Blocks that still count nights from `from` on (the ones a deletion or a room type change would strand). */
export async function countBlocksFrom(tx: Tx, roomId: string, from: string): Promise<number> {
  const row = await tx
    .selectFrom('room_out_of_order')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('room_id', '=', roomId)
    .where('end_date', '>', from)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

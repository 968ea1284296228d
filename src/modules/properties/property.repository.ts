import { sql } from 'kysely';
import type { Db, Tx } from '../../db/database.ts';
import type { HousekeepingStatus, Property, Room, RoomType } from '../../db/schema.ts';

const NO_PROPERTY = '00000000-0000-0000-0000-000000000000';

function likePattern(text: string, anchored: 'contains' | 'prefix'): string {
  const escaped = text.replace(/[\\%_]/g, (c) => `\\${c}`);
  return anchored === 'contains' ? `%${escaped}%` : `${escaped}%`;
}

/** The unique constraint a PostgreSQL error violated, if it is a unique violation. */
export function violatedUniqueConstraint(error: unknown): string | undefined {
  const pgError = error as { code?: unknown; constraint?: unknown };
  return pgError?.code === '23505' && typeof pgError.constraint === 'string' ? pgError.constraint : undefined;
}

/** The referencing table of a foreign key that blocked a delete, if that is what the error is. */
export function blockingReference(error: unknown): string | undefined {
  const pgError = error as { code?: unknown; table?: unknown; detail?: unknown };
  // 23001 is what PostgreSQL reports for ON DELETE RESTRICT, 23503 for NO ACTION.
  if (pgError?.code !== '23001' && pgError?.code !== '23503') return undefined;
  const match =
    typeof pgError.detail === 'string' ? /referenced from table "([^"]+)"/.exec(pgError.detail) : null;
  return match?.[1] ?? (typeof pgError.table === 'string' ? pgError.table : 'another table');
}

export interface KeysetAfter {
  sortKey: string;
  id: string;
}

export type PropertyInsert = {
  code: string;
  name: string;
  timezone?: string;
  currency?: string;
  status?: 'active' | 'inactive';
  address?: Record<string, unknown> | null;
  /** Set by the service from the hotel's time zone; a trigger fills it in when left out. */
  business_date?: string;
  default_rate_plan_id?: string | null;
};
export type PropertyChanges = Partial<PropertyInsert>;

/** Whether a rate plan is one of the property's (a key-share lock keeps it until the transaction ends). */
export async function isPropertyPlan(tx: Tx, propertyId: string, ratePlanId: string): Promise<boolean> {
  const row = await tx
    .selectFrom('rate_plan')
    .select('id')
    .where('id', '=', ratePlanId)
    .where('property_id', '=', propertyId)
    .forKeyShare()
    .executeTakeFirst();
  return row !== undefined;
}

function jsonOrNull(value: Record<string, unknown> | null | undefined) {
  return value === undefined ? undefined : value === null ? null : JSON.stringify(value);
}

export function findProperty(db: Db | Tx, id: string): Promise<Property | undefined> {
  return db.selectFrom('property').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Locks a property's row. `update` does not block bookings (their foreign keys take KEY SHARE);
 * `delete` does, so no reservation can start referencing the hotel while it is being removed.
 */
export function lockProperty(
  tx: Tx,
  id: string,
  purpose: 'update' | 'delete',
): Promise<Property | undefined> {
  const query = tx.selectFrom('property').selectAll().where('id', '=', id);
  return (purpose === 'update' ? query.forNoKeyUpdate() : query.forUpdate()).executeTakeFirst();
}

export interface PropertyFilter {
  /** Only these properties (null: every property). */
  propertyIds: string[] | null;
  search?: string;
  status?: 'active' | 'inactive';
  after?: KeysetAfter;
  limit: number;
}

export function listProperties(db: Db, filter: PropertyFilter): Promise<Property[]> {
  let query = db.selectFrom('property').selectAll();
  if (filter.propertyIds !== null) {
    query = query.where('id', 'in', filter.propertyIds.length > 0 ? filter.propertyIds : [NO_PROPERTY]);
  }
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.search) {
    const pattern = likePattern(filter.search, 'contains');
    query = query.where((eb) => eb.or([eb('code', 'ilike', pattern), eb('name', 'ilike', pattern)]));
  }
  if (filter.after) {
    const { sortKey, id } = filter.after;
    query = query.where(sql<boolean>`(code, id) > (${sortKey}, ${id}::uuid)`);
  }
  return query
    .orderBy('code')
    .orderBy('id')
    .limit(filter.limit + 1)
    .execute();
}

export function insertProperty(tx: Tx, values: PropertyInsert): Promise<Property> {
  return tx
    .insertInto('property')
    .values({ ...values, address: jsonOrNull(values.address) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function updateProperty(tx: Tx, id: string, changes: PropertyChanges): Promise<Property> {
  return tx
    .updateTable('property')
    .set({ ...changes, address: jsonOrNull(changes.address), updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function countReservations(
  tx: Tx,
  where: { propertyId: string } | { roomTypeId: string },
): Promise<number> {
  const row =
    'propertyId' in where
      ? await tx
          .selectFrom('reservation')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('property_id', '=', where.propertyId)
          .executeTakeFirstOrThrow()
      : await tx
          .selectFrom('reservation_room')
          .select((eb) => eb.fn.count<string>('reservation_id').distinct().as('n'))
          .where('room_type_id', '=', where.roomTypeId)
          .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Removes a hotel with its own configuration; its calendar and daily rates go with the room types (FK cascade). */
export async function deletePropertyWithRooms(tx: Tx, id: string): Promise<void> {
  await tx
    .deleteFrom('inventory_hold')
    .where('property_id', '=', id)
    .where('status', '<>', 'active')
    .execute();
  await tx.deleteFrom('room').where('property_id', '=', id).execute();
  await tx.deleteFrom('room_type').where('property_id', '=', id).execute();
  await tx.deleteFrom('property').where('id', '=', id).execute();
}

export type RoomTypeInsert = {
  property_id: string;
  code: string;
  name: string;
  description?: string | null;
  total_units: number;
  max_occupancy?: number;
};
export type RoomTypeChanges = Partial<Omit<RoomTypeInsert, 'property_id'>>;

/** A room type of a property; undefined when it does not exist or belongs to another property. */
export function findRoomType(
  db: Db | Tx,
  propertyId: string,
  roomTypeId: string,
): Promise<RoomType | undefined> {
  return db
    .selectFrom('room_type')
    .selectAll()
    .where('property_id', '=', propertyId)
    .where('id', '=', roomTypeId)
    .executeTakeFirst();
}

/**
 * Locks a room type's row. `update` (FOR NO KEY UPDATE) serialises changes of one room type
 * without blocking bookings, whose foreign keys take KEY SHARE; `delete` (FOR UPDATE) also keeps
 * new bookings from referencing it.
 */
export function lockRoomType(
  tx: Tx,
  propertyId: string,
  roomTypeId: string,
  purpose: 'update' | 'delete',
): Promise<RoomType | undefined> {
  const query = tx
    .selectFrom('room_type')
    .selectAll()
    .where('property_id', '=', propertyId)
    .where('id', '=', roomTypeId);
  return (purpose === 'update' ? query.forNoKeyUpdate() : query.forUpdate()).executeTakeFirst();
}

export interface RoomTypeFilter {
  search?: string;
  after?: KeysetAfter;
  limit: number;
}

export function listRoomTypes(db: Db, propertyId: string, filter: RoomTypeFilter): Promise<RoomType[]> {
  let query = db.selectFrom('room_type').selectAll().where('property_id', '=', propertyId);
  if (filter.search) {
    const pattern = likePattern(filter.search, 'contains');
    query = query.where((eb) => eb.or([eb('code', 'ilike', pattern), eb('name', 'ilike', pattern)]));
  }
  if (filter.after) {
    const { sortKey, id } = filter.after;
    query = query.where(sql<boolean>`(code, id) > (${sortKey}, ${id}::uuid)`);
  }
  return query
    .orderBy('code')
    .orderBy('id')
    .limit(filter.limit + 1)
    .execute();
}

export function insertRoomType(tx: Tx, values: RoomTypeInsert): Promise<RoomType> {
  return tx.insertInto('room_type').values(values).returningAll().executeTakeFirstOrThrow();
}

export function updateRoomType(tx: Tx, id: string, changes: RoomTypeChanges): Promise<RoomType> {
  return tx
    .updateTable('room_type')
    .set({ ...changes, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteRoomType(tx: Tx, id: string): Promise<void> {
  await tx
    .deleteFrom('inventory_hold')
    .where('room_type_id', '=', id)
    .where('status', '<>', 'active')
    .execute();
  await tx.deleteFrom('room_type').where('id', '=', id).execute();
}

export async function countRooms(tx: Tx, roomTypeId: string): Promise<number> {
  const row = await tx
    .selectFrom('room')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('room_type_id', '=', roomTypeId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Holds still taking units; released, expired and confirmed ones are history that may go with the rooms. */
export async function countActiveHolds(
  tx: Tx,
  where: { propertyId: string } | { roomTypeId: string },
): Promise<number> {
  let query = tx
    .selectFrom('inventory_hold')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status', '=', 'active');
  query =
    'propertyId' in where
      ? query.where('property_id', '=', where.propertyId)
      : query.where('room_type_id', '=', where.roomTypeId);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface CalendarNight {
  date: string;
  total_units: number;
  booked_units: number;
  held_units: number;
  out_of_order_units: number;
  overbooking_limit: number;
  overbooked_units: number;
  stop_sell: boolean;
}

/**
 * Locks a room type's whole calendar in date order: the same (room_type_id, date) order every
 * inventory write uses, so this and a booking can never deadlock.
 */
export function lockNights(tx: Tx, roomTypeId: string): Promise<CalendarNight[]> {
  return tx
    .selectFrom('inventory_calendar')
    .select([
      'date',
      'total_units',
      'booked_units',
      'held_units',
      'out_of_order_units',
      'overbooking_limit',
      'overbooked_units',
      'stop_sell',
    ])
    .where('room_type_id', '=', roomTypeId)
    .orderBy('date')
    .forUpdate()
    .execute();
}

/** The room type's last loaded night from `fromDate` on, or undefined when none is. */
export async function lastLoadedNight(
  tx: Tx,
  roomTypeId: string,
  fromDate: string,
): Promise<string | undefined> {
  const row = await tx
    .selectFrom('inventory_calendar')
    .select((eb) => eb.fn.max('date').as('last'))
    .where('room_type_id', '=', roomTypeId)
    .where('date', '>=', fromDate)
    .executeTakeFirst();
  return (row?.last as string | null | undefined) ?? undefined;
}

export type RoomInsert = {
  property_id: string;
  room_type_id: string;
  number: string;
  floor?: string | null;
  housekeeping_status?: HousekeepingStatus;
};
export type RoomChanges = Partial<Omit<RoomInsert, 'property_id'>>;

export function findRoom(db: Db | Tx, propertyId: string, roomId: string): Promise<Room | undefined> {
  return db
    .selectFrom('room')
    .selectAll()
    .where('property_id', '=', propertyId)
    .where('id', '=', roomId)
    .executeTakeFirst();
}

/** Locks a room's row; `delete` also keeps new stays from being assigned to it meanwhile. */
export function lockRoom(
  tx: Tx,
  propertyId: string,
  roomId: string,
  purpose: 'update' | 'delete',
): Promise<Room | undefined> {
  const query = tx
    .selectFrom('room')
    .selectAll()
    .where('property_id', '=', propertyId)
    .where('id', '=', roomId);
  return (purpose === 'update' ? query.forNoKeyUpdate() : query.forUpdate()).executeTakeFirst();
}

export function insertRoom(tx: Tx, values: RoomInsert): Promise<Room> {
  return tx.insertInto('room').values(values).returningAll().executeTakeFirstOrThrow();
}

export function updateRoom(tx: Tx, id: string, changes: RoomChanges): Promise<Room> {
  return tx
    .updateTable('room')
    .set({ ...changes, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteRoom(tx: Tx, id: string): Promise<void> {
  await tx.deleteFrom('room').where('id', '=', id).execute();
}

/** Stays not yet over that have this room assigned (a finished stay only loses its room number). */
export async function countOpenAssignments(tx: Tx, roomId: string): Promise<number> {
  const row = await tx
    .selectFrom('reservation_room as rr')
    .innerJoin('reservation as r', 'r.id', 'rr.reservation_id')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('rr.room_id', '=', roomId)
    .where('r.status', 'in', ['tentative', 'confirmed', 'checked_in'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

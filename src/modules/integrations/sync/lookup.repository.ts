import type { Db, Tx } from '../../../db/database.ts';

/** Room type codes of a hotel (for room_type_known and for matching imported bookings). */
export async function roomTypeCodes(db: Db | Tx, propertyId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('room_type')
    .select('code')
    .where('property_id', '=', propertyId)
    .execute();
  return rows.map((r) => r.code);
}

/** What imported bookings are matched against: room types by code, rooms by number. */
export async function hotelLookups(db: Db | Tx, propertyId: string) {
  const [types, rooms, property] = await Promise.all([
    db.selectFrom('room_type').select(['id', 'code']).where('property_id', '=', propertyId).execute(),
    db
      .selectFrom('room')
      .select(['id', 'number', 'room_type_id'])
      .where('property_id', '=', propertyId)
      .execute(),
    db.selectFrom('property').select(['currency']).where('id', '=', propertyId).executeTakeFirstOrThrow(),
  ]);
  return {
    roomTypeIds: new Map(types.map((t) => [t.code, t.id])),
    rooms: new Map(rooms.map((r) => [r.number, { id: r.id, roomTypeId: r.room_type_id }])),
    currency: property.currency,
  };
}

export type HotelLookups = Awaited<ReturnType<typeof hotelLookups>>;

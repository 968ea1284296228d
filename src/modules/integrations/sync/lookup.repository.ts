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
    db
      .selectFrom('property')
      .select(['currency', 'timezone'])
      .where('id', '=', propertyId)
      .executeTakeFirstOrThrow(),
  ]);
  return {
    roomTypeIds: new Map(types.map((t) => [t.code, t.id])),
    rooms: new Map(rooms.map((r) => [r.number, { id: r.id, roomTypeId: r.room_type_id }])),
    currency: property.currency,
    /** The hotel's IANA time zone: `timezone: "property"` and the hotel-local today. */
    timezone: property.timezone,
  };
}

export type HotelLookups = Awaited<ReturnType<typeof hotelLookups>>;

/** What a preview maps with for a hotel: its time zone and its connection's value maps (none without one). */
export async function hotelMapEnv(
  db: Db | Tx,
  propertyId: string,
): Promise<{ timezone: string; valueMaps: Record<string, Record<string, string>> }> {
  const row = await db
    .selectFrom('property as p')
    .leftJoin('pms_connection as c', 'c.property_id', 'p.id')
    .select(['p.timezone', 'c.value_maps'])
    .where('p.id', '=', propertyId)
    .executeTakeFirst();
  return { timezone: row?.timezone ?? 'UTC', valueMaps: row?.value_maps ?? {} };
}

import { addDays } from '../../src/app/dates.ts';
import type { Db } from '../../src/db/database.ts';
import type { Property, RoomType } from '../../src/db/schema.ts';
import type { SimBooking } from '../../src/modules/integrations/simulator/generator.ts';
import {
  DIALECT_CONFIG,
  type DialectName,
  type Simulator,
} from '../../src/modules/integrations/simulator/server.ts';
import { call, type TestContext } from '../helpers/context.ts';
import { createProperty, createRoomType, unique, userWithToken } from '../helpers/factories.ts';

export const ROOM_TYPE_CODES = ['STD', 'DBL', 'STE'] as const;

export interface PmsHotel {
  property: Property;
  roomTypes: Record<string, RoomType>;
  hotel: string;
  dialect: DialectName;
  token: string;
}

/** A property with the simulator's room types and a connection to one simulated hotel. */
export async function pmsHotel(
  t: TestContext,
  sim: Simulator,
  dialect: DialectName,
  options: { bookings?: number; badRatio?: number; units?: number; secret?: string; token?: string } = {},
): Promise<PmsHotel> {
  const property = await createProperty(t.db);
  const roomTypes: Record<string, RoomType> = {};
  for (const code of ROOM_TYPE_CODES) {
    roomTypes[code] = await createRoomType(t.db, property.id, { code, totalUnits: options.units ?? 500 });
  }
  const hotel = unique('H');
  sim.defineHotel(hotel, { bookings: options.bookings ?? 50, badRatio: options.badRatio ?? 0 });
  const token = options.token ?? (await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' })).token;
  const config = DIALECT_CONFIG[dialect];
  const res = await call(t.app, 'PUT', `/api/integrations/pms/connections/${property.id}/`, {
    token,
    body: {
      pms_type: config.pms_type,
      version: config.version,
      base_url: sim.url,
      hotel_external_id: hotel,
      secrets: { [config.secret]: options.secret ?? sim.credentials[dialect] },
    },
  });
  if (res.status !== 201) throw new Error(`connection: ${res.status} ${JSON.stringify(res.body)}`);
  return { property, roomTypes, hotel, dialect, token };
}

export async function syncNow(t: TestContext, h: PmsHotel) {
  const res = await call(t.app, 'POST', '/api/integrations/pms/sync/', {
    token: h.token,
    body: { property_id: h.property.id, wait: true },
  });
  if (res.status !== 200) throw new Error(`sync: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const HOLDS = new Set(['tentative', 'confirmed', 'checked_in', 'checked_out']);

/** The calendar the PMS's good bookings imply: units per room type code and night. */
export function expectedCalendar(bookings: SimBooking[]): Map<string, number> {
  const units = new Map<string, number>();
  for (const b of bookings) {
    if (b.bad || !HOLDS.has(b.status)) continue;
    for (let date = b.checkIn; date < b.checkOut; date = addDays(date, 1)) {
      const key = `${b.roomType}|${date}`;
      units.set(key, (units.get(key) ?? 0) + 1);
    }
  }
  return units;
}

/** What the calendar holds for imported bookings (booked plus overbooked), by room type code and night. */
export async function importedCalendar(db: Db, h: PmsHotel): Promise<Map<string, number>> {
  const codes = new Map(Object.entries(h.roomTypes).map(([code, rt]) => [rt.id, code]));
  const rows = await db
    .selectFrom('inventory_calendar')
    .select(['room_type_id', 'date', 'booked_units', 'overbooked_units'])
    .where('property_id', '=', h.property.id)
    .execute();
  const units = new Map<string, number>();
  for (const row of rows) {
    const total = row.booked_units + row.overbooked_units;
    if (total > 0) units.set(`${codes.get(row.room_type_id)}|${row.date}`, total);
  }
  return units;
}

/** A stable picture of what the ledger holds for a property, to prove a run wrote nothing. */
export async function ledgerSnapshot(db: Db, propertyId: string) {
  const [reservations, guests, nights, ledger, events] = await Promise.all([
    db
      .selectFrom('reservation')
      .select(['id', 'version', 'updated_at', 'source_updated_at', 'status'])
      .where('property_id', '=', propertyId)
      .orderBy('id')
      .execute(),
    db
      .selectFrom('guest')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .where('property_id', '=', propertyId)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('inventory_calendar')
      .select(['room_type_id', 'date', 'booked_units', 'overbooked_units', 'updated_at'])
      .where('property_id', '=', propertyId)
      .orderBy('room_type_id')
      .orderBy('date')
      .execute(),
    db
      .selectFrom('inventory_ledger')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .where('property_id', '=', propertyId)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('outbox_event')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .where('property_id', '=', propertyId)
      .where('type', '!=', 'pms.integration.sync.completed')
      .executeTakeFirstOrThrow(),
  ]);
  return { reservations, guests: guests.n, nights, ledger: ledger.n, events: events.n };
}

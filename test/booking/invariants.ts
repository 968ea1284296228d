import { sql } from 'kysely';
import type { Db } from '../../src/db/database.ts';

/**
 * Checks, for every night of a property, that the ledger sums to the calendar field by field and
 * that booked + overbooked units equal the rooms of the reservations that hold the night, and
 * that invariant 2 holds. Returns the problems found (empty when all is well).
 */
export async function inventoryProblems(db: Db, propertyId: string): Promise<string[]> {
  const problems: string[] = [];
  const ledger = await sql<{ room_type_id: string; date: string; field: string; total: number }>`
    SELECT room_type_id, date::text AS date, field, sum(delta)::int AS total
    FROM inventory_ledger WHERE property_id = ${propertyId} GROUP BY 1, 2, 3
  `.execute(db);
  const sums = new Map(ledger.rows.map((r) => [`${r.room_type_id}|${r.date}|${r.field}`, r.total]));
  const holding = await sql<{ room_type_id: string; date: string; units: number }>`
    SELECT rr.room_type_id, d::date::text AS date, count(*)::int AS units
    FROM reservation r JOIN reservation_room rr ON rr.reservation_id = r.id
    CROSS JOIN LATERAL generate_series(r.check_in::timestamp, r.check_out::timestamp - interval '1 day', interval '1 day') d
    WHERE r.property_id = ${propertyId} AND r.status IN ('tentative', 'confirmed', 'checked_in', 'checked_out')
    GROUP BY 1, 2
  `.execute(db);
  const held = await sql<{ room_type_id: string; date: string; units: number }>`
    SELECT h.room_type_id, d::date::text AS date, sum(h.units)::int AS units
    FROM inventory_hold h
    CROSS JOIN LATERAL generate_series(h.check_in::timestamp, h.check_out::timestamp - interval '1 day', interval '1 day') d
    WHERE h.property_id = ${propertyId} AND h.status = 'active'
    GROUP BY 1, 2
  `.execute(db);
  const units = new Map(holding.rows.map((r) => [`${r.room_type_id}|${r.date}`, r.units]));
  const heldUnits = new Map(held.rows.map((r) => [`${r.room_type_id}|${r.date}`, r.units]));
  const nights = await db
    .selectFrom('inventory_calendar')
    .selectAll()
    .where('property_id', '=', propertyId)
    .execute();
  for (const night of nights) {
    const key = `${night.room_type_id}|${night.date}`;
    for (const field of [
      'total_units',
      'booked_units',
      'held_units',
      'out_of_order_units',
      'overbooking_limit',
      'overbooked_units',
      'stop_sell',
    ] as const) {
      const value = Number(night[field]);
      const sum = sums.get(`${key}|${field}`) ?? 0;
      if (sum !== value) problems.push(`${key} ${field}: calendar ${value}, ledger ${sum}`);
    }
    const expected = units.get(key) ?? 0;
    if (night.booked_units + night.overbooked_units !== expected) {
      problems.push(
        `${key}: booked ${night.booked_units} + overbooked ${night.overbooked_units}, reservations ${expected}`,
      );
    }
    if (night.held_units !== (heldUnits.get(key) ?? 0)) {
      problems.push(`${key}: held ${night.held_units}, active holds ${heldUnits.get(key) ?? 0}`);
    }
    if (
      night.booked_units + night.held_units >
      night.total_units - night.out_of_order_units + night.overbooking_limit
    ) {
      problems.push(`${key}: invariant 2 broken`);
    }
  }
  return problems;
}

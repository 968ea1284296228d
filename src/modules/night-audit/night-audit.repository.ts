import { sql } from 'kysely';
import type { Db, Tx } from '../../db/database.ts';
import type { ReservationRow } from '../reservations/reservation.repository.ts';

export interface AuditedProperty {
  id: string;
  code: string;
  status: 'active' | 'inactive';
  timezone: string;
  business_date: string;
}

const PROPERTY_COLUMNS = ['id', 'code', 'status', 'timezone', 'business_date'] as const;

/** Every property (or one) with what decides whether its day is over; no locks: a hint for the run. */
export function listProperties(db: Db, propertyId?: string): Promise<AuditedProperty[]> {
  let query = db.selectFrom('property').select(PROPERTY_COLUMNS).orderBy('code').orderBy('id');
  if (propertyId) query = query.where('id', '=', propertyId);
  return query.execute();
}

/**
 * One night audit per property at a time: a second run (another worker, the CLI, the API) skips
 * the property instead of queueing behind the first. An advisory lock, not SKIP LOCKED on the
 * property row: bookings hold that row in share mode, and SKIP LOCKED would skip it for them too.
 */
export async function tryAuditLock(tx: Tx, propertyId: string): Promise<boolean> {
  const result = await sql<{ locked: boolean }>`
    SELECT pg_try_advisory_xact_lock(hashtextextended(${`night_audit:${propertyId}`}, 0)) AS locked`.execute(
    tx,
  );
  return result.rows[0]?.locked === true;
}

/**
 * The property row, locked against sales (their share locks) while the business date rolls and
 * the no-shows are marked: a booking of the closing day commits before this or is refused after.
 */
export function lockProperty(tx: Tx, propertyId: string): Promise<AuditedProperty | undefined> {
  return tx
    .selectFrom('property')
    .select(PROPERTY_COLUMNS)
    .where('id', '=', propertyId)
    .forNoKeyUpdate()
    .executeTakeFirst();
}

export async function setBusinessDate(tx: Tx, propertyId: string, businessDate: string): Promise<void> {
  await tx
    .updateTable('property')
    .set({ business_date: businessDate, updated_at: new Date() })
    .where('id', '=', propertyId)
    .execute();
}

/**
 * Direct reservations still expected whose arrival day is over, locked in id order (after the
 * property row, as every writer that also takes the property does). Imported ones belong to their PMS.
 */
export function lockNoShows(tx: Tx, propertyId: string, before: string): Promise<ReservationRow[]> {
  return tx
    .selectFrom('reservation')
    .selectAll()
    .where('property_id', '=', propertyId)
    .where('source', '=', 'direct')
    .where('status', 'in', ['tentative', 'confirmed'])
    .where('check_in', '<', before)
    .orderBy('id')
    .forUpdate()
    .execute();
}

/** Room types of the property with fewer loaded nights in [start, end) than the range has. */
export async function roomTypesShortOfHorizon(
  tx: Tx,
  propertyId: string,
  start: string,
  end: string,
): Promise<string[]> {
  const result = await sql<{ id: string }>`
    SELECT rt.id FROM room_type rt
    WHERE rt.property_id = ${propertyId}
      AND (SELECT count(*) FROM inventory_calendar c
           WHERE c.room_type_id = rt.id AND c.date >= ${start}::date AND c.date < ${end}::date)
        < (${end}::date - ${start}::date)
    ORDER BY rt.id`.execute(tx);
  return result.rows.map((row) => row.id);
}

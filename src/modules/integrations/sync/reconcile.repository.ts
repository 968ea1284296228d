import { sql } from 'kysely';
import type { Db, Tx } from '../../../db/database.ts';
import type { ReservationStatus } from '../../../db/schema.ts';

export interface WindowBooking {
  id: string;
  external_id: string;
  confirmation_code: string;
  status: ReservationStatus;
  check_in: string;
  check_out: string;
  total_amount: string;
  currency: string;
}

/**
 * The hotel's imported bookings still to arrive in [from, to), tentative or confirmed, locked:
 * what a full listing must return. Checked-in, departed and ended bookings are not reconciled.
 */
export async function bookingsArriving(
  tx: Tx,
  propertyId: string,
  source: string,
  from: string,
  to: string,
): Promise<WindowBooking[]> {
  const result = await sql<WindowBooking>`
    SELECT id, external_id, confirmation_code, status, check_in, check_out, total_amount, trim(currency) AS currency
    FROM reservation
    WHERE property_id = ${propertyId} AND source = ${source} AND status IN ('tentative', 'confirmed')
      AND check_in >= ${from}::date AND check_in < ${to}::date
    ORDER BY check_in, id
    FOR UPDATE`.execute(tx);
  return result.rows;
}

/** The room types each booking's reservation_room rows hold, by reservation. */
export async function heldRoomTypes(tx: Tx, reservationIds: string[]): Promise<Map<string, string[]>> {
  const held = new Map<string, string[]>();
  if (reservationIds.length === 0) return held;
  const rows = await tx
    .selectFrom('reservation_room')
    .select(['reservation_id', 'room_type_id'])
    .where('reservation_id', 'in', reservationIds)
    .execute();
  for (const row of rows)
    held.set(row.reservation_id, [...(held.get(row.reservation_id) ?? []), row.room_type_id]);
  return held;
}

/**
 * Cancels bookings the PMS no longer returns. Their stored PMS version and content are forgotten, so
 * the booking comes back whole if the PMS lists it again, even unchanged.
 */
export async function cancelVanished(tx: Tx, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .updateTable('reservation')
    .set((eb) => ({
      status: 'cancelled',
      cancelled_at: new Date(),
      updated_at: new Date(),
      version: eb('version', '+', 1),
      source_updated_at: null,
    }))
    .where('id', 'in', ids)
    .execute();
  await tx
    .updateTable('pms_booking')
    .set({ content_hash: 'vanished' })
    .where('reservation_id', 'in', ids)
    .execute();
}

export async function recordVanished(
  tx: Tx,
  rows: Array<{
    sync_run_id: string;
    property_id: string;
    reservation_id: string;
    external_id: string;
    check_in: string;
    check_out: string;
    status_before: string;
    action: 'reported' | 'cancelled';
  }>,
): Promise<void> {
  if (rows.length === 0) return;
  await tx.insertInto('pms_vanished_booking').values(rows).execute();
}

export async function saveReconciliation(tx: Tx, runId: string, report: object): Promise<void> {
  await tx
    .updateTable('sync_run')
    .set({ reconciliation: JSON.stringify(report) })
    .where('id', '=', runId)
    .execute();
}

export interface VanishedRow {
  id: string;
  sync_run_id: string;
  property_id: string;
  reservation_id: string;
  external_id: string;
  check_in: string;
  check_out: string;
  status_before: string;
  action: 'reported' | 'cancelled';
  created_at: Date;
  sort_key: string;
}

export function listVanished(
  db: Db,
  filter: {
    propertyIds: string[] | null;
    propertyId?: string;
    syncRunId?: string;
    after?: { sortKey: string; id: string };
    limit: number;
  },
): Promise<VanishedRow[]> {
  let query = db
    .selectFrom('pms_vanished_booking')
    .selectAll()
    .select(sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`.as('sort_key'));
  if (filter.propertyIds !== null) {
    if (filter.propertyIds.length === 0) return Promise.resolve([]);
    query = query.where('property_id', 'in', filter.propertyIds);
  }
  if (filter.propertyId) query = query.where('property_id', '=', filter.propertyId);
  if (filter.syncRunId) query = query.where('sync_run_id', '=', filter.syncRunId);
  if (filter.after) {
    const { sortKey, id } = filter.after;
    query = query.where(
      sql<boolean>`(created_at, id) > (${sortKey}::timestamp AT TIME ZONE 'UTC', ${id}::uuid)`,
    );
  }
  return query
    .orderBy('created_at')
    .orderBy('id')
    .limit(filter.limit + 1)
    .execute() as Promise<VanishedRow[]>;
}

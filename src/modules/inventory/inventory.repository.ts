import { sql } from 'kysely';
import { type Db, PREPARED, type Tx } from '../../db/database.ts';
import { pgArray } from '../../db/pg-array.ts';
import type { HoldStatus, InventoryNight } from '../../db/schema.ts';
import type { CloudEvent } from '../events/outbox.ts';
import { nightsOf } from './inventory.dates.ts';
import type { LedgerEntry } from './inventory.nights.ts';

/** A run of consecutive nights of one room type: start inclusive, end exclusive. */
export interface NightRange {
  roomTypeId: string;
  start: string;
  end: string;
}

export interface RoomTypeRef {
  id: string;
  property_id: string;
  total_units: number;
  max_occupancy: number;
  currency: string;
  timezone: string;
  /** The property's sales state (docs/inventory.md, "Business date and night audit"). */
  code: string;
  status: 'active' | 'inactive';
  business_date: string;
  default_rate_plan_id: string | null;
}

export function findRoomTypes(db: Db | Tx, ids: string[]): Promise<RoomTypeRef[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('room_type as rt')
    .innerJoin('property as p', 'p.id', 'rt.property_id')
    .select([
      'rt.id',
      'rt.property_id',
      'rt.total_units',
      'rt.max_occupancy',
      'p.currency',
      'p.timezone',
      'p.code',
      'p.status',
      'p.business_date',
      'p.default_rate_plan_id',
    ])
    .where('rt.id', 'in', ids)
    .execute();
}

export async function propertyExists(db: Db | Tx, propertyId: string): Promise<boolean> {
  const row = await db.selectFrom('property').select('id').where('id', '=', propertyId).executeTakeFirst();
  return row !== undefined;
}

export function findPropertyRoomTypeIds(db: Db | Tx, propertyId: string): Promise<string[]> {
  return db
    .selectFrom('room_type')
    .select('id')
    .where('property_id', '=', propertyId)
    .orderBy('id')
    .execute()
    .then((rows) => rows.map((r) => r.id));
}

export function listPropertiesWithRoomTypes(db: Db) {
  return db
    .selectFrom('property as p')
    .select(['p.id', 'p.code', 'p.timezone'])
    .select((eb) =>
      eb
        .selectFrom('room_type as rt')
        .select(sql<string[]>`coalesce(array_agg(rt.id ORDER BY rt.id), '{}')`.as('ids'))
        .whereRef('rt.property_id', '=', 'p.id')
        .as('room_type_ids'),
    )
    .orderBy('p.code')
    .execute();
}

function rangeArrays(ranges: NightRange[]) {
  return {
    ids: ranges.map((r) => r.roomTypeId),
    starts: ranges.map((r) => r.start),
    ends: ranges.map((r) => r.end),
  };
}

/**
 * Creates the missing calendar rows of some night ranges from each room type's total_units,
 * with a ledger row for each, and returns how many it created per room type. Existing rows are left alone,
 * so it is idempotent; rows are inserted in key order so two concurrent loads cannot deadlock.
 */
export async function createMissingNights(
  tx: Tx,
  propertyId: string,
  ranges: NightRange[],
  actorId: string | null,
): Promise<Array<{ room_type_id: string; created: number }>> {
  if (ranges.length === 0) return [];
  const { ids, starts, ends } = rangeArrays(ranges);
  const result = await sql<{ room_type_id: string; created: number }>`
    WITH wanted AS (
      SELECT rt.property_id, rt.id AS room_type_id, d::date AS date, rt.total_units
      FROM unnest(${ids}::uuid[], ${starts}::date[], ${ends}::date[]) AS r(room_type_id, start_date, end_date)
      JOIN room_type rt ON rt.id = r.room_type_id AND rt.property_id = ${propertyId}
      CROSS JOIN LATERAL generate_series(r.start_date::timestamp, r.end_date::timestamp - interval '1 day', interval '1 day') AS d
      ORDER BY rt.id, d
    ),
    created AS (
      INSERT INTO inventory_calendar (property_id, room_type_id, date, total_units)
      SELECT property_id, room_type_id, date, total_units FROM wanted
      ON CONFLICT (room_type_id, date) DO NOTHING
      RETURNING property_id, room_type_id, date, total_units
    ),
    ledger AS (
      INSERT INTO inventory_ledger (property_id, room_type_id, date, field, delta, reason, actor_id)
      SELECT property_id, room_type_id, date, 'total_units', total_units, 'preload', ${actorId}::uuid
      FROM created WHERE total_units <> 0
    )
    SELECT room_type_id, count(*)::int AS created FROM created GROUP BY room_type_id ORDER BY room_type_id
  `.execute(tx);
  return result.rows;
}

/** A locked calendar row with its physical address, valid while this transaction holds the lock. */
export type LockedNightRow = InventoryNight & { ctid: string };

/**
 * The locking core (invariant 1): one statement locks every night a write touches. ORDER BY runs
 * below the row locking, so rows are locked in (room_type_id, date) order and two writers can
 * never deadlock on the calendar. The ranges drive the join, so each is one primary-key range
 * scan whatever the size of the table. NOWAIT fails at once (55P03) instead of queueing.
 */
export async function lockNights(
  tx: Tx,
  propertyId: string,
  ranges: NightRange[],
  nowait: boolean,
): Promise<LockedNightRow[]> {
  if (ranges.length === 0) return [];
  const { ids, starts, ends } = rangeArrays(ranges);
  const result = await sql<LockedNightRow>`${PREPARED}
    SELECT c.*, c.ctid::text AS ctid
    FROM unnest(${ids}::uuid[], ${starts}::date[], ${ends}::date[]) AS r(room_type_id, start_date, end_date)
    JOIN inventory_calendar c
      ON c.room_type_id = r.room_type_id AND c.date >= r.start_date AND c.date < r.end_date
    WHERE c.property_id = ${propertyId}
    ORDER BY c.room_type_id, c.date
    FOR UPDATE OF c ${sql.raw(nowait ? 'NOWAIT' : '')}
  `.execute(tx);
  return result.rows;
}

/** Bounds every lock wait of the transaction, so a stuck writer cannot queue requests forever. */
export async function setLockTimeout(tx: Tx, milliseconds: number): Promise<void> {
  await sql.raw(`SET LOCAL lock_timeout = ${Math.trunc(milliseconds)}`).execute(tx);
}

/**
 * Writes back the locked nights, their ledger rows and the outbox events in one statement, so the
 * rows stay locked for as few round trips as possible. Setting absolute counts is safe: this
 * transaction holds the rows' locks. Rows are found by the address the lock returned (a TID scan
 * per night, whatever the table size), checked against their key.
 */
export async function writeNightChanges(
  tx: Tx,
  nights: LockedNightRow[],
  ledger: LedgerEntry[],
  events: CloudEvent[],
): Promise<void> {
  if (nights.length === 0 && ledger.length === 0 && events.length === 0) return;
  const result = await sql<{ updated: number }>`${PREPARED}
    WITH night_update AS (
      UPDATE inventory_calendar AS c SET
        total_units = v.total_units,
        booked_units = v.booked_units,
        held_units = v.held_units,
        out_of_order_units = v.out_of_order_units,
        overbooking_limit = v.overbooking_limit,
        overbooked_units = v.overbooked_units,
        stop_sell = v.stop_sell,
        updated_at = now()
      FROM unnest(
        ${pgArray(nights.map((n) => n.ctid))}::tid[],
        ${pgArray(nights.map((n) => n.room_type_id))}::uuid[], ${pgArray(nights.map((n) => n.date))}::date[],
        ${pgArray(nights.map((n) => n.total_units))}::int[], ${pgArray(nights.map((n) => n.booked_units))}::int[],
        ${pgArray(nights.map((n) => n.held_units))}::int[], ${pgArray(nights.map((n) => n.out_of_order_units))}::int[],
        ${pgArray(nights.map((n) => n.overbooking_limit))}::int[], ${pgArray(nights.map((n) => n.overbooked_units))}::int[],
        ${pgArray(nights.map((n) => n.stop_sell))}::boolean[]
      ) AS v(tid, room_type_id, date, total_units, booked_units, held_units, out_of_order_units,
             overbooking_limit, overbooked_units, stop_sell)
      WHERE c.ctid = v.tid AND c.room_type_id = v.room_type_id AND c.date = v.date
      RETURNING 1
    ),
    ledger_insert AS (
      INSERT INTO inventory_ledger
        (property_id, room_type_id, date, field, delta, reason, reservation_id, hold_id, sync_run_id, actor_id)
      SELECT * FROM unnest(
        ${pgArray(ledger.map((e) => e.propertyId))}::uuid[], ${pgArray(ledger.map((e) => e.roomTypeId))}::uuid[],
        ${pgArray(ledger.map((e) => e.date))}::date[], ${pgArray(ledger.map((e) => e.field))}::text[],
        ${pgArray(ledger.map((e) => e.delta))}::int[], ${pgArray(ledger.map((e) => e.reason))}::text[],
        ${pgArray(ledger.map((e) => e.reservationId ?? null))}::uuid[], ${pgArray(ledger.map((e) => e.holdId ?? null))}::uuid[],
        ${pgArray(ledger.map((e) => e.syncRunId ?? null))}::uuid[], ${pgArray(ledger.map((e) => e.actorId))}::uuid[]
      )
    ),
    outbox_insert AS (
      -- One JSON document for all the envelopes: pg would otherwise escape each one into an array literal.
      INSERT INTO outbox_event (id, property_id, type, envelope)
      SELECT (e.envelope->>'id')::uuid, (e.envelope->>'subject')::uuid, e.envelope->>'type', e.envelope
      FROM jsonb_array_elements(${JSON.stringify(events)}::jsonb) WITH ORDINALITY AS e(envelope, n)
      ORDER BY e.n
    )
    SELECT count(*)::int AS updated FROM night_update
  `.execute(tx);
  // The rows are locked by this transaction, so their addresses cannot have moved; a mismatch
  // would mean a bug, and the transaction must not commit half a change.
  if (result.rows[0]?.updated !== nights.length) {
    throw new Error(`Inventory write matched ${result.rows[0]?.updated} of ${nights.length} locked nights.`);
  }
}

/** Several outbox events in one round trip, in order (the relay publishes by sequence). */
export async function insertEvents(tx: Tx, events: CloudEvent[]): Promise<void> {
  if (events.length === 0) return;
  await writeNightChanges(tx, [], [], events);
}

export interface CalendarFilter {
  propertyId: string;
  roomTypeId?: string;
  start: string;
  end: string;
}

export function readCalendar(db: Db, filter: CalendarFilter): Promise<InventoryNight[]> {
  let query = db
    .selectFrom('inventory_calendar')
    .selectAll()
    .where('property_id', '=', filter.propertyId)
    .where('date', '>=', filter.start)
    .where('date', '<', filter.end);
  if (filter.roomTypeId) query = query.where('room_type_id', '=', filter.roomTypeId);
  return query.orderBy('room_type_id').orderBy('date').execute();
}

export interface StayNight {
  property_id: string;
  date: string;
  loaded: boolean;
  total_units: number;
  booked_units: number;
  held_units: number;
  out_of_order_units: number;
  overbooking_limit: number;
  overbooked_units: number;
  stop_sell: boolean;
}

/** What selling a room type depends on besides its nights: its property's state and its occupancy. */
export interface StaySeller {
  property_id: string;
  code: string;
  status: 'active' | 'inactive';
  business_date: string;
  max_occupancy: number;
}

/**
 * Every night of a stay for one room type, loaded or not, with its property's sales state, in
 * one round trip (no locks: a read); undefined when the room type does not exist. The nights not
 * loaded are filled in here, so the statement stays a plain range scan (it runs on every
 * availability check).
 */
export async function readStayNights(
  db: Db,
  roomTypeId: string,
  checkIn: string,
  checkOut: string,
): Promise<{ seller: StaySeller; nights: StayNight[] } | undefined> {
  // One row whose nights are one JSON array: pg would parse 30 data rows field by field, which
  // cost the API more CPU than the rest of the check; JSON.parse takes the whole array at once.
  const result = await sql<StaySeller & { nights: NightTuple[] }>`${PREPARED}
    SELECT rt.property_id, p.code, p.status, p.business_date, rt.max_occupancy,
      coalesce(json_agg(json_build_array(c.date, c.total_units, c.booked_units, c.held_units,
          c.out_of_order_units, c.overbooking_limit, c.overbooked_units, c.stop_sell) ORDER BY c.date)
        FILTER (WHERE c.date IS NOT NULL), '[]') AS nights
    FROM room_type rt
    JOIN property p ON p.id = rt.property_id
    LEFT JOIN inventory_calendar c
      ON c.room_type_id = rt.id AND c.date >= ${checkIn}::date AND c.date < ${checkOut}::date
    WHERE rt.id = ${roomTypeId}
    GROUP BY rt.property_id, p.code, p.status, p.business_date, rt.max_occupancy`.execute(db);
  const row = result.rows[0];
  if (!row) return undefined;
  const { nights: _nights, ...seller } = row;
  const loaded = new Map(row.nights.map((night) => [night[0], night]));
  const nights = nightsOf(checkIn, checkOut).map((date) => {
    const night = loaded.get(date);
    return {
      property_id: row.property_id,
      date,
      loaded: night !== undefined,
      total_units: night?.[1] ?? 0,
      booked_units: night?.[2] ?? 0,
      held_units: night?.[3] ?? 0,
      out_of_order_units: night?.[4] ?? 0,
      overbooking_limit: night?.[5] ?? 0,
      overbooked_units: night?.[6] ?? 0,
      stop_sell: night?.[7] ?? false,
    };
  });
  return { seller, nights };
}

/** A loaded night as readStayNights receives it: date, the six counts, stop-sell. */
type NightTuple = [string, number, number, number, number, number, number, boolean];

export interface HoldRow {
  id: string;
  property_id: string;
  room_type_id: string;
  check_in: string;
  check_out: string;
  units: number;
  status: HoldStatus;
  reference: string | null;
  expires_at: Date;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export async function insertHold(
  tx: Tx,
  hold: Omit<HoldRow, 'status' | 'created_at' | 'updated_at'>,
): Promise<HoldRow> {
  return tx.insertInto('inventory_hold').values(hold).returningAll().executeTakeFirstOrThrow();
}

export function findHold(db: Db | Tx, id: string): Promise<HoldRow | undefined> {
  return db.selectFrom('inventory_hold').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Locks holds in id order (before any calendar row: holds, then nights, in every writer). */
export function lockHolds(tx: Tx, ids: string[]): Promise<HoldRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return tx
    .selectFrom('inventory_hold')
    .selectAll()
    .where('id', 'in', ids)
    .orderBy('id')
    .forUpdate()
    .execute();
}

export async function setHoldStatus(tx: Tx, ids: string[], status: HoldStatus): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .updateTable('inventory_hold')
    .set({ status, updated_at: new Date() })
    .where('id', 'in', ids)
    .execute();
}

/** Properties that have active holds past their expiry (no locks: a hint for the sweeper). */
export function propertiesWithExpiredHolds(db: Db, asOf: Date): Promise<string[]> {
  return db
    .selectFrom('inventory_hold')
    .select('property_id')
    .distinct()
    .where('status', '=', 'active')
    .where('expires_at', '<=', asOf)
    .execute()
    .then((rows) => rows.map((r) => r.property_id));
}

/**
 * Claims a property's expired holds. SKIP LOCKED lets several workers sweep side by side, and
 * steps over a hold that a confirmation or a release is handling right now.
 */
export function claimExpiredHolds(tx: Tx, propertyId: string, asOf: Date, limit: number): Promise<HoldRow[]> {
  return tx
    .selectFrom('inventory_hold')
    .selectAll()
    .where('property_id', '=', propertyId)
    .where('status', '=', 'active')
    .where('expires_at', '<=', asOf)
    .orderBy('id')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

export function sumLedger(db: Db, propertyId: string) {
  return db
    .selectFrom('inventory_ledger')
    .select(['room_type_id', 'date', 'field', (eb) => eb.fn.sum<number>('delta').as('total')])
    .where('property_id', '=', propertyId)
    .groupBy(['room_type_id', 'date', 'field'])
    .execute();
}

/** Rooms out of order on each of some nights of a room type (nights without any are left out). */
export async function outOfOrderRoomsPerNight(
  tx: Tx,
  roomTypeId: string,
  dates: string[],
): Promise<Array<{ date: string; rooms: number }>> {
  const result = await sql<{ date: string; rooms: number }>`
    SELECT d.date::text AS date, count(*)::int AS rooms
    FROM unnest(${dates}::date[]) AS d(date)
    JOIN room_out_of_order b ON b.room_type_id = ${roomTypeId} AND b.start_date <= d.date AND b.end_date > d.date
    GROUP BY d.date ORDER BY d.date`.execute(tx);
  return result.rows;
}

import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import { ValidationError } from '../../app/errors.ts';
import type { Db, Tx } from '../../db/database.ts';
import type { RatePlanTable } from '../../db/schema.ts';
import { MAX_DERIVATION_DEPTH, type StoredNight } from './rates.pricing.ts';

export type RatePlanRow = Selectable<RatePlanTable>;

export function findPlan(db: Db | Tx, id: string): Promise<RatePlanRow | undefined> {
  return db.selectFrom('rate_plan').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Re-reads a plan under a row lock: 'update' before changing it; 'share' while writing its nights,
 * so the plan cannot turn derived (or back) between the check and the write.
 */
export function lockPlan(tx: Tx, id: string, mode: 'update' | 'share'): Promise<RatePlanRow | undefined> {
  const query = tx.selectFrom('rate_plan').selectAll().where('id', '=', id);
  return (mode === 'update' ? query.forUpdate() : query.forShare()).executeTakeFirst();
}

/**
 * Serialises changes to one property's plan hierarchy (parents, currencies, codes), so two
 * concurrent edits can never build a cycle or an over-deep chain between them.
 */
export async function lockPlanTree(tx: Tx, propertyId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`rate_plan_tree:${propertyId}`}, 0))`.execute(tx);
}

export function findPlanByCode(db: Db | Tx, propertyId: string, code: string) {
  return db
    .selectFrom('rate_plan')
    .select('id')
    .where('property_id', '=', propertyId)
    .where('code', '=', code)
    .executeTakeFirst();
}

export interface PlanFilter {
  /** Plans of these properties only (null: every property). */
  propertyIds: string[] | null;
  isActive?: boolean;
  after?: { createdAt: string; id: string };
  limit: number;
}

export function listPlans(db: Db, filter: PlanFilter): Promise<RatePlanRow[]> {
  let query = db.selectFrom('rate_plan').selectAll();
  if (filter.propertyIds !== null) {
    if (filter.propertyIds.length === 0) return Promise.resolve([]);
    query = query.where('property_id', 'in', filter.propertyIds);
  }
  if (filter.isActive !== undefined) query = query.where('is_active', '=', filter.isActive);
  // Keyed at millisecond precision, the precision of the cursor (a JavaScript Date), so a page
  // never repeats a row whose microseconds the cursor lost.
  const createdMs = sql`date_trunc('milliseconds', created_at)`;
  if (filter.after) {
    const { createdAt, id } = filter.after;
    query = query.where(sql<boolean>`(${createdMs}, id) > (${createdAt}::timestamptz, ${id}::uuid)`);
  }
  return query
    .orderBy(createdMs)
    .orderBy('id')
    .limit(filter.limit + 1)
    .execute();
}

export function listPropertyPlans(db: Db | Tx, propertyId: string): Promise<RatePlanRow[]> {
  return db
    .selectFrom('rate_plan')
    .selectAll()
    .where('property_id', '=', propertyId)
    .orderBy('code')
    .execute();
}

export function insertPlan(tx: Tx, plan: Insertable<RatePlanTable>): Promise<RatePlanRow> {
  return tx.insertInto('rate_plan').values(plan).returningAll().executeTakeFirstOrThrow();
}

export function updatePlan(tx: Tx, id: string, changes: Updateable<RatePlanTable>): Promise<RatePlanRow> {
  return tx
    .updateTable('rate_plan')
    .set({ ...changes, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deletePlan(tx: Tx, id: string): Promise<void> {
  await tx.deleteFrom('rate_plan').where('id', '=', id).execute();
}

export interface ChainLink {
  id: string;
  property_id: string;
  parent_rate_plan_id: string | null;
  offset_type: 'percent' | 'amount' | null;
  offset_value: string | null;
  currency: string;
  is_active: boolean;
  depth: number;
  cancellation_policy: Record<string, unknown> | null;
  base_occupancy: number | null;
  extra_adult_amount: string | null;
  extra_child_amount: string | null;
}

/** The plan and its ancestors, nearest first (depth 0 is the plan itself). */
export async function planAncestry(db: Db | Tx, id: string): Promise<ChainLink[]> {
  // The depth bound ends the walk even if a cycle were ever written around the service.
  const result = await sql<ChainLink>`
    WITH RECURSIVE chain AS (
      SELECT id, property_id, parent_rate_plan_id, offset_type, offset_value, currency, is_active, 0 AS depth,
        cancellation_policy, base_occupancy, extra_adult_amount::text, extra_child_amount::text
      FROM rate_plan WHERE id = ${id}
      UNION ALL
      SELECT p.id, p.property_id, p.parent_rate_plan_id, p.offset_type, p.offset_value, p.currency,
        p.is_active, c.depth + 1, p.cancellation_policy, p.base_occupancy, p.extra_adult_amount::text,
        p.extra_child_amount::text
      FROM rate_plan p JOIN chain c ON p.id = c.parent_rate_plan_id
      WHERE c.depth <= ${MAX_DERIVATION_DEPTH + 1}
    )
    SELECT * FROM chain ORDER BY depth`.execute(db);
  return result.rows;
}

/** Every plan that derives from this one, directly or through others, with its distance. */
export async function planDescendants(db: Db | Tx, id: string): Promise<{ id: string; level: number }[]> {
  const result = await sql<{ id: string; level: number }>`
    WITH RECURSIVE tree AS (
      SELECT id, 1 AS level FROM rate_plan WHERE parent_rate_plan_id = ${id}
      UNION ALL
      SELECT p.id, t.level + 1 FROM rate_plan p JOIN tree t ON p.parent_rate_plan_id = t.id
      WHERE t.level <= ${MAX_DERIVATION_DEPTH + 1}
    )
    SELECT id, level FROM tree ORDER BY level, id`.execute(db);
  return result.rows;
}

export async function countPlanUsage(db: Db | Tx, id: string) {
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('rate_plan')
        .select(eb.fn.countAll<string>().as('n'))
        .where('parent_rate_plan_id', '=', id)
        .as('derived_plans'),
      eb
        .selectFrom('reservation_room')
        .select(sql<string>`count(DISTINCT reservation_id)`.as('n'))
        .where('rate_plan_id', '=', id)
        .as('reservations'),
      eb
        .selectFrom('property')
        .select(eb.fn.countAll<string>().as('n'))
        .where('default_rate_plan_id', '=', id)
        .as('default_of'),
    ])
    .executeTakeFirstOrThrow();
  return {
    derivedPlans: Number(row.derived_plans),
    reservations: Number(row.reservations),
    defaultOf: Number(row.default_of),
  };
}

export async function countStoredAmounts(db: Db | Tx, ratePlanId: string): Promise<number> {
  const row = await db
    .selectFrom('daily_rate')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('rate_plan_id', '=', ratePlanId)
    .where('amount', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findPropertyCurrency(db: Db | Tx, propertyId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('property')
    .select('currency')
    .where('id', '=', propertyId)
    .executeTakeFirst();
  return row?.currency;
}

export function listRoomTypes(db: Db | Tx, propertyId: string, ids?: string[]) {
  let query = db.selectFrom('room_type').select(['id', 'code', 'name']).where('property_id', '=', propertyId);
  if (ids) query = query.where('id', 'in', ids);
  return query.orderBy('code').orderBy('id').execute();
}

interface StoredNightRow {
  rate_plan_id: string;
  room_type_id: string;
  date: string;
  amount: string | null;
  min_stay: number | null;
  max_stay: number | null;
  closed_to_arrival: boolean;
  closed_to_departure: boolean;
  stop_sell: boolean;
}

function toStoredNight(row: StoredNightRow): StoredNight {
  return {
    ratePlanId: row.rate_plan_id,
    roomTypeId: row.room_type_id,
    date: row.date,
    amount: row.amount,
    minStay: row.min_stay,
    maxStay: row.max_stay,
    closedToArrival: row.closed_to_arrival,
    closedToDeparture: row.closed_to_departure,
    stopSell: row.stop_sell,
  };
}

/** Stored rows of the given plans × room types over [start, last], both inclusive. */
export async function loadStoredNights(
  db: Db | Tx,
  query: { ratePlanIds: string[]; roomTypeIds: string[]; start: string; last: string },
): Promise<StoredNight[]> {
  if (query.ratePlanIds.length === 0 || query.roomTypeIds.length === 0) return [];
  const rows = await db
    .selectFrom('daily_rate')
    .select([
      'rate_plan_id',
      'room_type_id',
      'date',
      'amount',
      'min_stay',
      'max_stay',
      'closed_to_arrival',
      'closed_to_departure',
      'stop_sell',
    ])
    .where('rate_plan_id', 'in', query.ratePlanIds)
    .where('room_type_id', 'in', query.roomTypeIds)
    .where('date', '>=', query.start)
    .where('date', '<=', query.last)
    .execute();
  return rows.map(toStoredNight);
}

export interface StayPricingRows {
  roomTypeExists: boolean;
  /** The room type's max_occupancy (null when it is not the property's). */
  maxOccupancy: number | null;
  /** The plan and its ancestors, nearest first; empty when the plan is not in the property. */
  chain: ChainLink[];
  nights: StoredNight[];
}

/**
 * Everything a quote needs in one round trip: the plan's chain of parents, whether the room type
 * belongs to the property, and each chain plan's stored rows for the room type over [start, last].
 */
export async function loadStayPricing(
  db: Db | Tx,
  query: { propertyId: string; ratePlanId: string; roomTypeId: string; start: string; last: string },
): Promise<StayPricingRows> {
  const { propertyId, ratePlanId, roomTypeId, start, last } = query;
  // Amounts travel as text inside the JSON so no binary float ever holds money.
  const result = await sql<
    ChainLink & { room_type_exists: boolean; max_occupancy: number | null; nights: StoredNightRow[] }
  >`
    WITH RECURSIVE chain AS (
      SELECT id, property_id, parent_rate_plan_id, offset_type, offset_value, currency, is_active, 0 AS depth,
        cancellation_policy, base_occupancy, extra_adult_amount::text, extra_child_amount::text
      FROM rate_plan WHERE id = ${ratePlanId} AND property_id = ${propertyId}
      UNION ALL
      SELECT p.id, p.property_id, p.parent_rate_plan_id, p.offset_type, p.offset_value, p.currency,
        p.is_active, c.depth + 1, p.cancellation_policy, p.base_occupancy, p.extra_adult_amount::text,
        p.extra_child_amount::text
      FROM rate_plan p JOIN chain c ON p.id = c.parent_rate_plan_id
      WHERE c.depth <= ${MAX_DERIVATION_DEPTH + 1}
    )
    SELECT c.*,
      EXISTS (SELECT 1 FROM room_type rt WHERE rt.id = ${roomTypeId} AND rt.property_id = ${propertyId})
        AS room_type_exists,
      (SELECT rt.max_occupancy FROM room_type rt WHERE rt.id = ${roomTypeId} AND rt.property_id = ${propertyId})
        AS max_occupancy,
      coalesce((
        SELECT json_agg(json_build_object(
          'rate_plan_id', d.rate_plan_id, 'room_type_id', d.room_type_id, 'date', d.date,
          'amount', d.amount::text, 'min_stay', d.min_stay, 'max_stay', d.max_stay,
          'closed_to_arrival', d.closed_to_arrival, 'closed_to_departure', d.closed_to_departure,
          'stop_sell', d.stop_sell))
        FROM daily_rate d
        WHERE d.rate_plan_id = c.id AND d.room_type_id = ${roomTypeId}
          AND d.date BETWEEN ${start}::date AND ${last}::date
      ), '[]'::json) AS nights
    FROM chain c ORDER BY c.depth`.execute(db);
  const roomTypeExists = result.rows[0]?.room_type_exists ?? false;
  return {
    roomTypeExists,
    maxOccupancy: result.rows[0]?.max_occupancy ?? null,
    chain: result.rows.map(
      ({ room_type_exists: _exists, max_occupancy: _max, nights: _nights, ...link }) => link,
    ),
    nights: result.rows.flatMap((row) => row.nights.map(toStoredNight)),
  };
}

export const DAILY_FIELDS = [
  'amount',
  'min_stay',
  'max_stay',
  'closed_to_arrival',
  'closed_to_departure',
  'stop_sell',
] as const;
export type DailyField = (typeof DAILY_FIELDS)[number];

export interface DailyCell {
  roomTypeId: string;
  date: string;
  amount: string | null;
  minStay: number | null;
  maxStay: number | null;
  closedToArrival: boolean;
  closedToDeparture: boolean;
  stopSell: boolean;
}

/**
 * One multi-row upsert for a whole bulk change: new nights are inserted with every value of
 * their cell; existing nights change only the `fields` the request set, and only when a value
 * actually differs. Returns the number of nights inserted or changed.
 */
export async function upsertDailyRates(
  tx: Tx,
  write: { propertyId: string; ratePlanId: string; fields: DailyField[]; cells: DailyCell[] },
): Promise<number> {
  const { propertyId, ratePlanId, fields, cells } = write;
  if (cells.length === 0 || fields.length === 0) return 0;
  const column = (cell: DailyCell, field: DailyField) =>
    ({
      amount: cell.amount,
      min_stay: cell.minStay,
      max_stay: cell.maxStay,
      closed_to_arrival: cell.closedToArrival,
      closed_to_departure: cell.closedToDeparture,
      stop_sell: cell.stopSell,
    })[field];
  const arrays = Object.fromEntries(DAILY_FIELDS.map((f) => [f, cells.map((cell) => column(cell, f))]));
  const current = sql.join(fields.map((f) => sql.ref(`daily_rate.${f}`)));
  const proposed = sql.join(fields.map((f) => sql.ref(`excluded.${f}`)));
  try {
    // Cells arrive sorted by (room type, night) so concurrent writers lock rows in the same order.
    const result = await sql<{ changed: number }>`
      WITH written AS (
        INSERT INTO daily_rate (property_id, rate_plan_id, room_type_id, date, amount, min_stay, max_stay,
          closed_to_arrival, closed_to_departure, stop_sell)
        SELECT ${propertyId}::uuid, ${ratePlanId}::uuid, c.room_type_id, c.date, c.amount, c.min_stay,
          c.max_stay, c.closed_to_arrival, c.closed_to_departure, c.stop_sell
        FROM unnest(
          ${cells.map((c) => c.roomTypeId)}::uuid[], ${cells.map((c) => c.date)}::date[],
          ${arrays.amount}::numeric[], ${arrays.min_stay}::integer[], ${arrays.max_stay}::integer[],
          ${arrays.closed_to_arrival}::boolean[], ${arrays.closed_to_departure}::boolean[],
          ${arrays.stop_sell}::boolean[]
        ) AS c(room_type_id, date, amount, min_stay, max_stay, closed_to_arrival, closed_to_departure,
          stop_sell)
        ORDER BY c.room_type_id, c.date
        ON CONFLICT (rate_plan_id, room_type_id, date) DO UPDATE
          SET ${sql.join(fields.map((f) => sql`${sql.ref(f)} = ${sql.ref(`excluded.${f}`)}`))}, updated_at = now()
          WHERE (${current}) IS DISTINCT FROM (${proposed})
        RETURNING 1
      )
      SELECT count(*)::int AS changed FROM written`.execute(tx);
    return result.rows[0]?.changed ?? 0;
  } catch (error) {
    if ((error as { constraint?: string }).constraint === 'daily_rate_stay_bounds') {
      throw new ValidationError('The change would leave a night whose min_stay is above its max_stay.', [
        { pointer: '/body', message: 'min_stay must not exceed max_stay on any night' },
      ]);
    }
    throw error;
  }
}

/** Removes a plan's own rows on the given nights (a derived plan then follows its parent again). */
export async function deleteDailyRates(
  tx: Tx,
  query: { ratePlanId: string; roomTypeIds: string[]; dates: string[] },
): Promise<number> {
  if (query.roomTypeIds.length === 0 || query.dates.length === 0) return 0;
  const result = await tx
    .deleteFrom('daily_rate')
    .where('rate_plan_id', '=', query.ratePlanId)
    .where('room_type_id', '=', sql<string>`ANY(${query.roomTypeIds}::uuid[])`)
    .where('date', '=', sql<string>`ANY(${query.dates}::date[])`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

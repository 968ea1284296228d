import { type Selectable, sql } from 'kysely';
import { type Db, PREPARED, type Tx } from '../../db/database.ts';
import type {
  GuestTable,
  ReservationRoomTable,
  ReservationStatus,
  ReservationTable,
} from '../../db/schema.ts';

export type ReservationRow = Selectable<ReservationTable>;
export type GuestRow = Selectable<GuestTable>;
export type ReservationRoomRow = Selectable<ReservationRoomTable>;

/** Statuses whose reservations hold their nights (DESIGN.md §5). */
export const HOLDING_STATUSES: ReservationStatus[] = ['tentative', 'confirmed', 'checked_in', 'checked_out'];

export interface NewGuest {
  id: string;
  property_id: string;
  first_name: string | null;
  last_name: string | null;
  full_name: string | null;
  email: string | null;
  phone: string | null;
}

export interface NewReservation {
  id: string;
  property_id: string;
  confirmation_code: string;
  status: ReservationStatus;
  check_in: string;
  check_out: string;
  guest_id: string;
  total_amount: string;
  currency: string;
  notes: string | null;
  hold_id: string | null;
  created_by: string;
  created_at: Date;
}

export interface NewRoom {
  id: string;
  reservation_id: string;
  property_id: string;
  room_type_id: string;
  rate_plan_id: string | null;
  room_id: string | null;
  adults: number;
  children: number;
  nightly_prices: Array<{ date: string; amount: string }>;
  amount: string;
  complimentary: boolean;
  /** The policy the room is booked under, with the plan it came from (null: none). */
  cancellation_policy: Record<string, unknown> | null;
}

export interface NewAudit {
  property_id: string;
  actor_id: string | null;
  actor_role: string;
  action: string;
  entity_type: string;
  entity_id: string;
  diff: Record<string, unknown>;
  request_id: string | null;
}

export interface IdempotencyRef {
  userId: string;
  key: string;
}

export interface StoredResponse extends IdempotencyRef {
  status: number;
  body: unknown;
}

/**
 * Writes accepted bookings in one statement (guests, reservations, rooms, audit rows, remembered
 * responses, and forgets the keys of refused ones). Data-modifying CTEs share one statement, and
 * the foreign keys between them are checked at its end, so parents and children go in together:
 * a batch of bookings costs one round trip while its nights are locked.
 */
export async function insertBookings(
  tx: Tx,
  input: {
    guests: NewGuest[];
    reservations: NewReservation[];
    rooms: NewRoom[];
    audits: NewAudit[];
    responses: StoredResponse[];
    forgottenKeys: IdempotencyRef[];
  },
): Promise<void> {
  const { guests, reservations, rooms, audits, responses, forgottenKeys } = input;
  // Each table's rows travel as one JSON document: one native JSON.stringify, where arrays of
  // strings and JSON would be escaped element by element into array literals.
  await sql`${PREPARED}
    WITH guest_insert AS (
      INSERT INTO guest (id, property_id, first_name, last_name, full_name, email, phone)
      SELECT id, property_id, first_name, last_name, full_name, email, phone
      FROM jsonb_to_recordset(${JSON.stringify(guests)}::jsonb) AS g(id uuid, property_id uuid,
        first_name text, last_name text, full_name text, email text, phone text)
    ),
    reservation_insert AS (
      INSERT INTO reservation (id, property_id, confirmation_code, status, check_in, check_out, guest_id,
        total_amount, currency, notes, hold_id, created_by, created_at, updated_at)
      SELECT id, property_id, confirmation_code, status, check_in, check_out, guest_id, total_amount,
        currency, notes, hold_id, created_by, created_at, created_at
      FROM jsonb_to_recordset(${JSON.stringify(reservations)}::jsonb) AS r(id uuid, property_id uuid,
        confirmation_code text, status text, check_in date, check_out date, guest_id uuid,
        total_amount numeric, currency text, notes text, hold_id uuid, created_by uuid, created_at timestamptz)
    ),
    room_insert AS (
      INSERT INTO reservation_room (id, reservation_id, property_id, room_type_id, rate_plan_id, room_id,
        adults, children, nightly_prices, amount, complimentary, cancellation_policy)
      SELECT id, reservation_id, property_id, room_type_id, rate_plan_id, room_id, adults, children,
        nightly_prices, amount, complimentary, cancellation_policy
      FROM jsonb_to_recordset(${JSON.stringify(rooms)}::jsonb) AS r(id uuid, reservation_id uuid,
        property_id uuid, room_type_id uuid, rate_plan_id uuid, room_id uuid, adults int, children int,
        nightly_prices jsonb, amount numeric, complimentary boolean, cancellation_policy jsonb)
    ),
    audit_insert AS (
      INSERT INTO audit_log (property_id, actor_id, actor_role, action, entity_type, entity_id, diff, request_id)
      SELECT property_id, actor_id, actor_role, action, entity_type, entity_id, diff, request_id
      FROM jsonb_to_recordset(${JSON.stringify(audits)}::jsonb) AS a(property_id uuid,
        actor_id uuid, actor_role text, action text, entity_type text, entity_id text, diff jsonb,
        request_id text)
    ),
    response_update AS (
      UPDATE idempotency_key AS k SET response_status = v.status, response_body = v.body
      FROM jsonb_to_recordset(${JSON.stringify(responses)}::jsonb) AS v("userId" uuid, key text, status int,
        body jsonb)
      WHERE k.user_id = v."userId" AND k.key = v.key
    )
    DELETE FROM idempotency_key AS k
    USING jsonb_to_recordset(${JSON.stringify(forgottenKeys)}::jsonb) AS v("userId" uuid, key text)
    WHERE k.user_id = v."userId" AND k.key = v.key
  `.execute(tx);
}

/**
 * Claims idempotency keys for this transaction (in key order, so two batches cannot deadlock on
 * them). A key still being used by another transaction makes this wait for it; a live key that
 * exists is not claimed; an expired one is taken over. Returns the claimed keys.
 */
export async function claimIdempotencyKeys(
  tx: Tx,
  keys: Array<IdempotencyRef & { hash: string; expiresAt: Date }>,
): Promise<IdempotencyRef[]> {
  if (keys.length === 0) return [];
  const result = await sql<{ user_id: string; key: string }>`
    INSERT INTO idempotency_key (user_id, key, request_hash, expires_at)
    SELECT * FROM unnest(
      ${keys.map((k) => k.userId)}::uuid[], ${keys.map((k) => k.key)}::text[],
      ${keys.map((k) => k.hash)}::text[], ${keys.map((k) => k.expiresAt.toISOString())}::timestamptz[]
    ) ORDER BY 1, 2
    ON CONFLICT (user_id, key) DO UPDATE SET
      request_hash = excluded.request_hash, response_status = NULL, response_body = NULL,
      created_at = now(), expires_at = excluded.expires_at
      WHERE idempotency_key.expires_at <= now()
    RETURNING user_id, key
  `.execute(tx);
  return result.rows.map((row) => ({ userId: row.user_id, key: row.key }));
}

export function findIdempotencyKeys(db: Db | Tx, refs: IdempotencyRef[]) {
  if (refs.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('idempotency_key')
    .select(['user_id', 'key', 'request_hash', 'response_status', 'response_body', 'expires_at'])
    .where(
      sql<boolean>`(user_id, key) IN (SELECT * FROM unnest(${refs.map((r) => r.userId)}::uuid[],
        ${refs.map((r) => r.key)}::text[]))`,
    )
    .where('expires_at', '>', new Date())
    .execute();
}

export async function purgeExpiredIdempotencyKeys(db: Db, asOf: Date): Promise<number> {
  const result = await db.deleteFrom('idempotency_key').where('expires_at', '<=', asOf).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export function findReservation(db: Db | Tx, id: string): Promise<ReservationRow | undefined> {
  return db.selectFrom('reservation').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findReservationByCode(db: Db, code: string): Promise<ReservationRow | undefined> {
  return db.selectFrom('reservation').selectAll().where('confirmation_code', '=', code).executeTakeFirst();
}

/** Locks one reservation (before any calendar row, as every writer does). */
export function lockReservation(tx: Tx, id: string): Promise<ReservationRow | undefined> {
  return tx.selectFrom('reservation').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export function findGuests(db: Db | Tx, ids: string[]): Promise<GuestRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('guest').selectAll().where('id', 'in', ids).execute();
}

export function findRooms(db: Db | Tx, reservationIds: string[]): Promise<ReservationRoomRow[]> {
  if (reservationIds.length === 0) return Promise.resolve([]);
  return (
    db
      .selectFrom('reservation_room')
      .selectAll()
      .where('reservation_id', 'in', reservationIds)
      // Room ids are UUIDv7 (time-ordered), so the rooms come back in the order they were booked.
      .orderBy('reservation_id')
      .orderBy('created_at')
      .orderBy('id')
      .execute()
  );
}

export async function updateReservation(
  tx: Tx,
  id: string,
  changes: Partial<{
    status: ReservationStatus;
    check_in: string;
    check_out: string;
    total_amount: string;
    currency: string;
    cancelled_at: Date;
    fee_amount: string;
    fee_currency: string;
    fee_policy: string;
  }>,
): Promise<ReservationRow> {
  return tx
    .updateTable('reservation')
    .set({ ...changes, version: sql<number>`version + 1`, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteRooms(tx: Tx, reservationId: string): Promise<void> {
  await tx.deleteFrom('reservation_room').where('reservation_id', '=', reservationId).execute();
}

export async function insertRooms(tx: Tx, rooms: NewRoom[]): Promise<void> {
  if (rooms.length === 0) return;
  await tx
    .insertInto('reservation_room')
    .values(
      rooms.map((room) => ({
        ...room,
        nightly_prices: JSON.stringify(room.nightly_prices),
        cancellation_policy:
          room.cancellation_policy === null ? null : JSON.stringify(room.cancellation_policy),
      })),
    )
    .execute();
}

export async function repriceRoom(
  tx: Tx,
  roomId: string,
  prices: {
    nightly_prices: Array<{ date: string; amount: string }>;
    amount: string;
    rate_plan_id: string | null;
    cancellation_policy: Record<string, unknown> | null;
  },
): Promise<void> {
  await tx
    .updateTable('reservation_room')
    .set({
      nightly_prices: JSON.stringify(prices.nightly_prices),
      amount: prices.amount,
      rate_plan_id: prices.rate_plan_id,
      cancellation_policy:
        prices.cancellation_policy === null ? null : JSON.stringify(prices.cancellation_policy),
    })
    .where('id', '=', roomId)
    .execute();
}

export async function setRoomAssignment(tx: Tx, reservationRoomId: string, roomId: string | null) {
  await tx
    .updateTable('reservation_room')
    .set({ room_id: roomId })
    .where('id', '=', reservationRoomId)
    .execute();
}

export interface ReservationFilter {
  propertyIds: string[] | null;
  propertyId?: string;
  statuses?: ReservationStatus[];
  arrivalFrom?: string;
  arrivalTo?: string;
  departureFrom?: string;
  departureTo?: string;
  guest?: string;
  source?: string;
  after?: { createdAt: string; id: string };
  limit: number;
}

/** Newest first, keyset-paginated on (created_at, id). */
export function listReservations(
  db: Db,
  filter: ReservationFilter,
): Promise<Array<ReservationRow & { cursor_ts: string }>> {
  // The cursor keeps created_at to the microsecond; a JavaScript Date would round it to milliseconds.
  let query = db
    .selectFrom('reservation as r')
    .selectAll('r')
    .select(
      sql<string>`to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_ts'),
    );
  if (filter.propertyIds !== null) {
    const ids = filter.propertyIds.length > 0 ? filter.propertyIds : ['00000000-0000-0000-0000-000000000000'];
    query = query.where('r.property_id', 'in', ids);
  }
  if (filter.propertyId) query = query.where('r.property_id', '=', filter.propertyId);
  if (filter.statuses?.length) query = query.where('r.status', 'in', filter.statuses);
  if (filter.arrivalFrom) query = query.where('r.check_in', '>=', filter.arrivalFrom);
  if (filter.arrivalTo) query = query.where('r.check_in', '<=', filter.arrivalTo);
  if (filter.departureFrom) query = query.where('r.check_out', '>=', filter.departureFrom);
  if (filter.departureTo) query = query.where('r.check_out', '<=', filter.departureTo);
  if (filter.source) query = query.where('r.source', '=', filter.source);
  if (filter.guest) {
    const pattern = `%${filter.guest.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([
        eb('r.confirmation_code', 'ilike', pattern),
        eb.exists(
          eb
            .selectFrom('guest as g')
            .select('g.id')
            .whereRef('g.id', '=', 'r.guest_id')
            .where((g) =>
              g.or([
                g('g.full_name', 'ilike', pattern),
                g('g.last_name', 'ilike', pattern),
                g('g.first_name', 'ilike', pattern),
                g('g.email', 'ilike', pattern),
                g('g.phone', 'ilike', pattern),
              ]),
            ),
        ),
      ]),
    );
  }
  if (filter.after) {
    const { createdAt, id } = filter.after;
    query = query.where(sql<boolean>`(r.created_at, r.id) < (${createdAt}::timestamptz, ${id}::uuid)`);
  }
  return query
    .orderBy('r.created_at', 'desc')
    .orderBy('r.id', 'desc')
    .limit(filter.limit + 1)
    .execute();
}

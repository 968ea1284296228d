import { sql } from 'kysely';
import type { Db } from '../../src/db/database.ts';
import { addDays, todayIn } from '../../src/modules/inventory/inventory.dates.ts';
import { call, type TestContext } from '../helpers/context.ts';
import { createRoom, unique } from '../helpers/factories.ts';
import { bookingWorld, ratePlanWithAmount } from './world.ts';

/**
 * A hotel whose nights around its business date are loaded and priced, with physical rooms: the
 * stage of the room and stay tests. `day(n)` is the business date plus n days, so stays can
 * arrive today (check-in opens on the arrival day).
 */
export async function roomsWorld(
  t: TestContext,
  options: { units?: number; rooms?: number; amount?: string } = {},
) {
  const start = addDays(todayIn('UTC'), -2);
  const end = addDays(start, 120);
  const world = await bookingWorld(t, { units: options.units ?? 10, start, end });
  const plan = await ratePlanWithAmount(t, world, { amount: options.amount ?? '100.00', start, end });
  const { business_date: businessDate } = await t.db
    .selectFrom('property')
    .select('business_date')
    .where('id', '=', world.property.id)
    .executeTakeFirstOrThrow();
  const rooms = [];
  for (let n = 1; n <= (options.rooms ?? 3); n++) {
    rooms.push(await createRoom(t.db, world.property.id, world.roomType.id, { number: `${100 + n}` }));
  }
  const day = (offset: number) => addDays(businessDate, offset);
  return { ...world, plan, rooms, day, businessDate };
}

export type RoomsWorld = Awaited<ReturnType<typeof roomsWorld>>;

/** A direct reservation of one room (on the world's rate plan) from day(from) to day(to). */
export async function book(
  t: TestContext,
  w: RoomsWorld,
  from: number,
  to: number,
  overrides: Record<string, unknown> = {},
): Promise<any> {
  const res = await call(t.app, 'POST', '/api/reservations/create/', {
    token: w.staff.token,
    body: {
      property_id: w.property.id,
      check_in: w.day(from),
      check_out: w.day(to),
      guest: { full_name: unique('Guest ') },
      rooms: [{ room_type_id: w.roomType.id, rate_plan_id: w.plan.id }],
      ...overrides,
    },
  });
  if (res.status !== 201) throw new Error(`booking failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** POST as the world's staff user. */
export function post(t: TestContext, w: RoomsWorld, url: string, body?: unknown, token = w.staff.token) {
  return call(t.app, 'POST', url, { token, body });
}

/**
 * Room-nights held by more than one stay (should be none), counted from the database: every night
 * of every holding stay with a room assigned.
 */
export async function doubleHeldRoomNights(db: Db, propertyId: string): Promise<string[]> {
  const result = await sql<{ room_id: string; date: string; stays: number }>`
    SELECT rr.room_id, d::date::text AS date, count(*)::int AS stays
    FROM reservation r JOIN reservation_room rr ON rr.reservation_id = r.id
    CROSS JOIN LATERAL generate_series(r.check_in::timestamp, r.check_out::timestamp - interval '1 day', interval '1 day') d
    WHERE r.property_id = ${propertyId} AND rr.room_id IS NOT NULL
      AND r.status IN ('tentative', 'confirmed', 'checked_in')
    GROUP BY 1, 2 HAVING count(*) > 1`.execute(db);
  return result.rows.map((row) => `${row.room_id} ${row.date}: ${row.stays} stays`);
}

/** Events of a type written for a property since `afterSeq` (the outbox, in order). */
export async function eventsSince(db: Db, propertyId: string, type: string, afterSeq = '0') {
  const rows = await db
    .selectFrom('outbox_event')
    .select(['seq', 'envelope'])
    .where('property_id', '=', propertyId)
    .where('type', '=', type)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .execute();
  return rows.map((row) => row.envelope as { data: any });
}

export async function lastSeq(db: Db): Promise<string> {
  const row = await db
    .selectFrom('outbox_event')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return String(row?.seq ?? '0');
}

/** Audit actions recorded for an entity, oldest first. */
export async function auditActions(db: Db, entityId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('audit_log')
    .select('action')
    .where('entity_id', '=', entityId)
    .orderBy('id')
    .execute();
  return rows.map((row) => row.action);
}

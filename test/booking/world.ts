import { addDays } from '../../src/app/dates.ts';
import type { Db } from '../../src/db/database.ts';
import type { StayUnits } from '../../src/modules/inventory/inventory.contract.ts';
import type { TestContext } from '../helpers/context.ts';
import { call } from '../helpers/context.ts';
import {
  createDefaultRatePlan,
  createProperty,
  createRoomType,
  unique,
  userWithToken,
} from '../helpers/factories.ts';

/**
 * A hotel with one room type whose nights are loaded, an admin and a staff user: the booking tests'
 * stage. Its default rate plan prices the range at `rate` (100.00), so rooms booked without a
 * rate_plan_id are priced; `defaultPlan: false` leaves the hotel without one.
 */
export async function bookingWorld(
  t: TestContext,
  options: {
    units?: number;
    start?: string;
    end?: string;
    currency?: string;
    rate?: string;
    defaultPlan?: boolean;
  } = {},
) {
  const property = await createProperty(t.db, { currency: options.currency ?? 'EUR' });
  const roomType = await createRoomType(t.db, property.id, { totalUnits: options.units ?? 10 });
  const admin = await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [property.id] });
  const staff = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [property.id] });
  const start = options.start ?? '2031-03-01';
  const end = options.end ?? '2031-03-31';
  const preload = await call(t.app, 'POST', '/api/inventory/preload/', {
    token: admin.token,
    body: { property_id: property.id, start_date: start, end_date: end },
  });
  if (preload.status !== 200)
    throw new Error(`preload failed: ${preload.status} ${JSON.stringify(preload.body)}`);
  const defaultPlan =
    options.defaultPlan === false
      ? null
      : // Priced a year beyond the loaded nights, so a night outside them is refused for inventory.
        await createDefaultRatePlan(t.db, property.id, {
          start,
          end: addDays(end, 365),
          amount: options.rate ?? '100.00',
        });
  return { property, roomType, admin, staff, defaultPlan };
}

export type BookingWorld = Awaited<ReturnType<typeof bookingWorld>>;

export function reservationBody(
  world: { property: { id: string }; roomType: { id: string } },
  overrides: Record<string, unknown> = {},
) {
  return {
    property_id: world.property.id,
    check_in: '2031-03-10',
    check_out: '2031-03-12',
    guest: { full_name: unique('Guest ') },
    rooms: [{ room_type_id: world.roomType.id }],
    ...overrides,
  };
}

/** A rate plan with one amount on every night of a range (through the rates API). */
export async function ratePlanWithAmount(
  t: TestContext,
  world: BookingWorld,
  options: {
    amount: string;
    start?: string;
    end?: string;
    code?: string;
    restrictions?: Record<string, unknown>;
  },
) {
  const plan = await call(t.app, 'POST', '/api/rates/plans/', {
    token: world.admin.token,
    body: { property_id: world.property.id, code: options.code ?? unique('BAR'), name: 'Best available' },
  });
  if (plan.status !== 201) throw new Error(`rate plan failed: ${plan.status} ${JSON.stringify(plan.body)}`);
  const daily = await call(t.app, 'PUT', '/api/rates/daily/', {
    token: world.admin.token,
    body: {
      rate_plan_id: plan.body.id,
      room_type_id: world.roomType.id,
      start_date: options.start ?? '2031-03-01',
      end_date: options.end ?? '2031-03-31',
      amount: options.amount,
      ...options.restrictions,
    },
  });
  if (daily.status !== 200)
    throw new Error(`daily rates failed: ${daily.status} ${JSON.stringify(daily.body)}`);
  return plan.body as { id: string; currency: string };
}

export async function calendarNight(
  t: TestContext,
  world: BookingWorld,
  date: string,
  roomTypeId = world.roomType.id,
) {
  const res = await call(
    t.app,
    'GET',
    `/api/inventory/calendar/?property_id=${world.property.id}&start=${date}&end=${date}&room_type_id=${roomTypeId}`,
    { token: world.admin.token },
  );
  if (res.status !== 200) throw new Error(`calendar failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.results[0];
}

/**
 * An imported reservation's rows (one reservation_room per unit), as the PMS sync's upsert writes
 * them, so the invariants can count its units; its nights are moved by applyImportedChanges.
 */
export function insertImportedReservation(
  db: Db,
  propertyId: string,
  stay: StayUnits,
  externalId: string,
): Promise<string> {
  return db.transaction().execute(async (tx) => {
    const reservation = await tx
      .insertInto('reservation')
      .values({
        property_id: propertyId,
        confirmation_code: `EXT-${externalId}`,
        status: 'confirmed',
        check_in: stay.checkIn,
        check_out: stay.checkOut,
        source: 'pms:test',
        external_id: externalId,
        total_amount: '0',
        currency: 'EUR',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx
      .insertInto('reservation_room')
      .values(
        Array.from({ length: stay.units }, () => ({
          reservation_id: reservation.id,
          property_id: propertyId,
          room_type_id: stay.roomTypeId,
          nightly_prices: '[]',
          amount: '0',
        })),
      )
      .execute();
    return reservation.id;
  });
}

/** Prices a room type added after the world was made on the world's default plan (its whole range). */
export async function priceOnDefaultPlan(
  t: TestContext,
  world: BookingWorld,
  roomTypeId: string,
  amount = '100.00',
  range: { start?: string; end?: string } = {},
) {
  const res = await call(t.app, 'PUT', '/api/rates/daily/', {
    token: world.admin.token,
    body: {
      rate_plan_id: world.defaultPlan!.id,
      room_type_id: roomTypeId,
      start_date: range.start ?? '2031-03-01',
      end_date: range.end ?? '2031-12-31',
      amount,
    },
  });
  if (res.status !== 200) throw new Error(`daily rates failed: ${res.status} ${JSON.stringify(res.body)}`);
}

/**
 * Moves a property's business date as the night audit would (no-shows are not marked here): for
 * tests of the day rules of check-in (from the arrival day) and no-show (after it).
 */
export async function setBusinessDate(db: Db, propertyId: string, date: string): Promise<void> {
  await db.updateTable('property').set({ business_date: date }).where('id', '=', propertyId).execute();
}

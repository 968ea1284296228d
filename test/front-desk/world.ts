import { addDays } from '../../src/app/dates.ts';
import { localDate } from '../../src/modules/properties/business-date.ts';
import { call, type TestContext } from '../helpers/context.ts';
import { createProperty, createRoomType, unique, userWithToken } from '../helpers/factories.ts';

/**
 * A hotel in a real time zone whose calendar and best available rate start at its real local
 * today (its business date), for the front-desk rules that depend on "today": an admin, a staff
 * user, one room type, BAR at `rate` a night with a cancellation policy, set as the default plan.
 */
export async function hotelToday(
  t: TestContext,
  options: {
    timezone?: string;
    units?: number;
    maxOccupancy?: number;
    rate?: string;
    days?: number;
    policy?: Record<string, unknown> | null;
  } = {},
) {
  const timezone = options.timezone ?? 'UTC';
  const property = await createProperty(t.db, { timezone });
  const roomType = await createRoomType(t.db, property.id, {
    totalUnits: options.units ?? 10,
    maxOccupancy: options.maxOccupancy ?? 2,
  });
  const admin = await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [property.id] });
  const staff = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [property.id] });
  const today = property.business_date;
  if (today !== localDate(timezone)) throw new Error(`business date ${today} is not the local today`);
  const day = (offset: number) => addDays(today, offset);
  const last = day(options.days ?? 30);
  const as = async (method: 'POST' | 'PUT' | 'PATCH', url: string, body: unknown) => {
    const res = await call(t.app, method, url, { token: admin.token, body });
    if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  await as('POST', '/api/inventory/preload/', {
    property_id: property.id,
    start_date: day(-3),
    end_date: last,
  });
  const bar = await as('POST', '/api/rates/plans/', {
    property_id: property.id,
    code: unique('BAR'),
    name: 'Best available rate',
    cancellation_policy:
      options.policy === undefined ? { free_until_days: 2, penalty: 'first_night' } : options.policy,
  });
  await as('PUT', '/api/rates/daily/', {
    rate_plan_id: bar.id,
    room_type_id: roomType.id,
    start_date: day(-3),
    end_date: last,
    amount: options.rate ?? '100.00',
  });
  await as('PATCH', `/api/properties/${property.id}/`, { default_rate_plan_id: bar.id });
  return { property, roomType, admin, staff, bar, timezone, today, day, as };
}

export type HotelToday = Awaited<ReturnType<typeof hotelToday>>;

export function stayBody(
  hotel: HotelToday,
  checkIn: string,
  checkOut: string,
  overrides: Record<string, unknown> = {},
) {
  return {
    property_id: hotel.property.id,
    check_in: checkIn,
    check_out: checkOut,
    guest: { full_name: unique('Guest ') },
    rooms: [{ room_type_id: hotel.roomType.id }],
    ...overrides,
  };
}

/** Counts of what a refused request must not have written. */
export async function writes(t: TestContext, propertyId: string) {
  const count = async (table: 'reservation' | 'outbox_event' | 'inventory_ledger' | 'inventory_hold') =>
    Number(
      (
        await t.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('property_id', '=', propertyId)
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    reservations: await count('reservation'),
    events: await count('outbox_event'),
    ledger: await count('inventory_ledger'),
    holds: await count('inventory_hold'),
  };
}

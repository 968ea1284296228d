import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../../src/db/database.ts';
import type { Property, Room, RoomType, UserRole } from '../../src/db/schema.ts';
import * as users from '../../src/modules/auth/auth.repository.ts';
import { hashPassword } from '../../src/modules/auth/password.ts';
import * as properties from '../../src/modules/properties/property.repository.ts';
import * as rates from '../../src/modules/rates/rates.repository.ts';

let sequence = 0;
export const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${(sequence++).toString(36)}`;

const PASSWORD = 'correct-horse-battery';
let cachedHash: Promise<string> | undefined;

/** Inserts a user through the real repository; returns it with its password. */
export async function createUser(
  db: Db,
  options: { role?: UserRole; propertyIds?: string[]; email?: string; isActive?: boolean } = {},
) {
  cachedHash ??= hashPassword(PASSWORD);
  const email = options.email ?? `${unique('user')}@example.test`;
  const id = await db.transaction().execute(async (tx) => {
    const userId = await users.insertUser(tx, {
      email,
      password_hash: await cachedHash!,
      role: options.role ?? 'STAFF',
      full_name: null,
      is_active: options.isActive ?? true,
    });
    await users.setUserProperties(tx, userId, options.propertyIds ?? []);
    return userId;
  });
  return { id, email, password: PASSWORD };
}

/** Logs in through the API and returns the access token. */
export async function login(app: FastifyInstance, email: string, password = PASSWORD): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/auth/token/',
    payload: { email, password },
  });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  return (JSON.parse(response.body) as { access: string }).access;
}

/** Creates a user and logs in: the usual first line of an API test. */
export async function userWithToken(
  app: FastifyInstance,
  db: Db,
  options: { role?: UserRole; propertyIds?: string[] } = {},
) {
  const user = await createUser(db, options);
  return { ...user, token: await login(app, user.email) };
}

/** Inserts a property (hotel) through the real repository; fields default to a unique code, UTC, EUR. */
export function createProperty(
  db: Db,
  overrides: Partial<properties.PropertyInsert> = {},
): Promise<Property> {
  return db.transaction().execute((tx) =>
    properties.insertProperty(tx, {
      code: unique('P'),
      name: 'Test Hotel',
      timezone: 'UTC',
      currency: 'EUR',
      ...overrides,
    }),
  );
}

/** Inserts a room type of a property (10 units unless `total_units` / `totalUnits` says otherwise). */
export function createRoomType(
  db: Db,
  propertyId: string,
  overrides: Partial<Omit<properties.RoomTypeInsert, 'property_id'>> & {
    totalUnits?: number;
    maxOccupancy?: number;
  } = {},
): Promise<RoomType> {
  const { totalUnits, maxOccupancy, ...fields } = overrides;
  return db.transaction().execute((tx) =>
    properties.insertRoomType(tx, {
      code: unique('RT'),
      name: 'Test Room Type',
      total_units: totalUnits ?? 10,
      ...(maxOccupancy !== undefined && { max_occupancy: maxOccupancy }),
      ...fields,
      property_id: propertyId,
    }),
  );
}

/** Inserts a room of a property and room type. */
export function createRoom(
  db: Db,
  propertyId: string,
  roomTypeId: string,
  overrides: Partial<Omit<properties.RoomInsert, 'property_id' | 'room_type_id'>> = {},
): Promise<Room> {
  return db.transaction().execute((tx) =>
    properties.insertRoom(tx, {
      number: unique('R'),
      ...overrides,
      property_id: propertyId,
      room_type_id: roomTypeId,
    }),
  );
}

/**
 * A rate plan with one amount on every night of [start, end] (both inclusive) for every room type
 * the property has now, made the property's default plan: what prices rooms booked without a
 * rate_plan_id (a property without one refuses them with RATE_PLAN_REQUIRED).
 */
export async function createDefaultRatePlan(
  db: Db,
  propertyId: string,
  options: { amount?: string; start: string; end: string; code?: string },
): Promise<{ id: string }> {
  return db.transaction().execute(async (tx) => {
    const currency = await rates.findPropertyCurrency(tx, propertyId);
    const plan = await rates.insertPlan(tx, {
      property_id: propertyId,
      code: options.code ?? unique('RACK'),
      name: 'Rack rate',
      currency: currency ?? 'EUR',
    });
    await sql`
      INSERT INTO daily_rate (property_id, rate_plan_id, room_type_id, date, amount)
      SELECT ${propertyId}::uuid, ${plan.id}::uuid, rt.id, d::date, ${options.amount ?? '100.00'}::numeric
      FROM room_type rt
      CROSS JOIN generate_series(${options.start}::date, ${options.end}::date, interval '1 day') AS d
      WHERE rt.property_id = ${propertyId}`.execute(tx);
    await properties.updateProperty(tx, propertyId, { default_rate_plan_id: plan.id });
    return { id: plan.id };
  });
}

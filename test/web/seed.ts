import type { FastifyInstance } from 'fastify';
import { call } from '../helpers/context.ts';

/** Today (UTC, like the hotels and the browser of these tests) plus `offset` days, as YYYY-MM-DD. */
export function isoDay(offset = 0): string {
  return new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
}

async function ok<T = any>(promise: ReturnType<typeof call>, expected: number[] = [200, 201]): Promise<T> {
  const response = await promise;
  if (!expected.includes(response.status)) {
    throw new Error(`seed request failed: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response.body as T;
}

export interface SeededHotel {
  propertyId: string;
  roomTypes: { DBL: string; STE: string };
  ratePlanId: string;
}

/** A hotel with two room types, a few rooms, 60 loaded nights and a rate plan, all through the API. */
export async function seedHotel(
  app: FastifyInstance,
  token: string,
  hotel: { code: string; name: string },
): Promise<SeededHotel> {
  const property = await ok(
    call(app, 'POST', '/api/properties/', {
      token,
      body: { code: hotel.code, name: hotel.name, timezone: 'UTC', currency: 'EUR' },
    }),
  );
  const base = `/api/properties/${property.id}`;
  const double = await ok(
    call(app, 'POST', `${base}/room-types/`, {
      token,
      body: { code: 'DBL', name: 'Double room', total_units: 10, max_occupancy: 2 },
    }),
  );
  const suite = await ok(
    call(app, 'POST', `${base}/room-types/`, {
      token,
      body: { code: 'STE', name: 'Suite', total_units: 3, max_occupancy: 4 },
    }),
  );
  for (const [number, roomType] of [
    ['101', double.id],
    ['102', double.id],
    ['301', suite.id],
  ]) {
    await ok(call(app, 'POST', `${base}/rooms/`, { token, body: { room_type_id: roomType, number } }));
  }
  await ok(
    call(app, 'POST', '/api/inventory/preload/', {
      token,
      body: { property_id: property.id, start_date: isoDay(-7), end_date: isoDay(60) },
    }),
  );
  const plan = await ok(
    call(app, 'POST', '/api/rates/plans/', {
      token,
      body: {
        property_id: property.id,
        code: 'BAR',
        name: 'Best available rate',
        currency: 'EUR',
        cancellation_policy: { free_until_days: 2, penalty: 'first_night' },
      },
    }),
  );
  for (const [roomTypeId, amount] of [
    [double.id, '120.00'],
    [suite.id, '250.00'],
  ]) {
    await ok(
      call(app, 'PUT', '/api/rates/daily/', {
        token,
        body: {
          rate_plan_id: plan.id,
          room_type_id: roomTypeId,
          start_date: isoDay(-7),
          end_date: isoDay(60),
          amount,
        },
      }),
    );
  }
  // Rooms booked without a rate plan are priced on BAR.
  await ok(call(app, 'PATCH', `${base}/`, { token, body: { default_rate_plan_id: plan.id } }));
  return { propertyId: property.id, roomTypes: { DBL: double.id, STE: suite.id }, ratePlanId: plan.id };
}

export async function bookThroughApi(
  app: FastifyInstance,
  token: string,
  stay: {
    propertyId: string;
    roomTypeId: string;
    ratePlanId?: string;
    checkIn: string;
    checkOut: string;
    lastName: string;
  },
) {
  return ok(
    call(app, 'POST', '/api/reservations/create/', {
      token,
      headers: { 'idempotency-key': crypto.randomUUID() },
      body: {
        property_id: stay.propertyId,
        check_in: stay.checkIn,
        check_out: stay.checkOut,
        guest: { first_name: 'Test', last_name: stay.lastName },
        rooms: [{ room_type_id: stay.roomTypeId, rate_plan_id: stay.ratePlanId }],
      },
    }),
    [201],
  );
}

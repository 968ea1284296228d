import { DateTime } from 'luxon';
import type { DemoClient } from './demo.client.ts';

/** The demo hotel group: each hotel is connected to the simulator in a different PMS dialect. */
export const DEMO_HOTELS = [
  {
    code: 'BER',
    name: 'Spree Hotel Berlin',
    timezone: 'Europe/Berlin',
    currency: 'EUR',
    city: 'Berlin',
    country: 'DE',
    dialect: 'acme' as const,
  },
  {
    code: 'LIS',
    name: 'Tejo Riverside Lisbon',
    timezone: 'Europe/Lisbon',
    currency: 'EUR',
    city: 'Lisbon',
    country: 'PT',
    dialect: 'flatline' as const,
  },
  {
    code: 'VIE',
    name: 'Ringstrasse Grand Vienna',
    timezone: 'Europe/Vienna',
    currency: 'EUR',
    city: 'Vienna',
    country: 'AT',
    dialect: 'quickstay' as const,
  },
];

/** The simulator sells these room type codes, so imported bookings land on real room types. */
const ROOM_TYPES = [
  {
    code: 'STD',
    name: 'Standard room',
    total_units: 18,
    max_occupancy: 2,
    weekday: '89.00',
    weekend: '109.00',
    floor: 1,
  },
  {
    code: 'DBL',
    name: 'Double room',
    total_units: 12,
    max_occupancy: 2,
    weekday: '129.00',
    weekend: '159.00',
    floor: 2,
  },
  {
    code: 'STE',
    name: 'Suite',
    total_units: 4,
    max_occupancy: 4,
    weekday: '249.00',
    weekend: '299.00',
    floor: 3,
  },
];

export interface SeededRoomType {
  id: string;
  code: string;
}

export interface SeededHotel {
  id: string;
  code: string;
  name: string;
  timezone: string;
  dialect: (typeof DEMO_HOTELS)[number]['dialect'];
  roomTypes: SeededRoomType[];
  ratePlanIds: string[];
}

interface Page<T> {
  results: T[];
  next_cursor: string | null;
}

/** Creates (or finds, on a second run) the demo hotels with a year of inventory and rates. */
export async function seedDemo(
  client: DemoClient,
  log: (line: string) => void,
  days = 365,
): Promise<SeededHotel[]> {
  const hotels: SeededHotel[] = [];
  for (const hotel of DEMO_HOTELS) {
    const found = await client.must<Page<{ id: string; code: string }>>(
      'GET',
      `/api/properties/?search=${hotel.code}`,
    );
    let property = found.results.find((p) => p.code === hotel.code);
    if (!property) {
      property = await client.must('POST', '/api/properties/', {
        code: hotel.code,
        name: hotel.name,
        timezone: hotel.timezone,
        currency: hotel.currency,
        address: { city: hotel.city, country: hotel.country },
      });
      log(`  created ${hotel.name}`);
    }
    const propertyId = property!.id;
    const base = `/api/properties/${propertyId}`;
    const existingTypes = await client.must<Page<{ id: string; code: string }>>(
      'GET',
      `${base}/room-types/?limit=100`,
    );
    const roomTypes: SeededRoomType[] = [];
    for (const spec of ROOM_TYPES) {
      let roomType = existingTypes.results.find((t) => t.code === spec.code);
      if (!roomType) {
        roomType = await client.must('POST', `${base}/room-types/`, {
          code: spec.code,
          name: spec.name,
          total_units: spec.total_units,
          max_occupancy: spec.max_occupancy,
        });
        for (let n = 1; n <= spec.total_units; n++) {
          await client.must('POST', `${base}/rooms/`, {
            room_type_id: roomType!.id,
            number: `${spec.floor}${String(n).padStart(2, '0')}`,
            floor: String(spec.floor),
          });
        }
      }
      roomTypes.push({ id: roomType!.id, code: spec.code });
    }

    const today = DateTime.now().setZone(hotel.timezone).toISODate()!;
    const last = DateTime.fromISO(today)
      .plus({ days: days - 1 })
      .toISODate()!;
    await client.must('POST', '/api/inventory/preload/', {
      property_id: propertyId,
      start_date: today,
      end_date: last,
    });

    const plans = await client.must<Page<{ id: string; code: string }>>(
      'GET',
      `/api/rates/plans/?property_id=${propertyId}`,
    );
    let bar = plans.results.find((p) => p.code === 'BAR');
    if (!bar) {
      bar = await client.must('POST', '/api/rates/plans/', {
        property_id: propertyId,
        code: 'BAR',
        name: 'Best available rate',
        currency: hotel.currency,
        cancellation_policy: { free_until_days: 2, penalty: 'first_night' },
      });
    }
    let nrf = plans.results.find((p) => p.code === 'NRF');
    if (!nrf) {
      nrf = await client.must('POST', '/api/rates/plans/', {
        property_id: propertyId,
        code: 'NRF',
        name: 'Non-refundable (10 % off)',
        currency: hotel.currency,
        parent_rate_plan_id: bar!.id,
        offset_type: 'percent',
        offset_value: '-10',
        cancellation_policy: { free_until_days: null, penalty: 'full_stay' },
      });
    }
    // Rooms booked without a rate plan (the admin's default choice) are priced on the best available rate.
    await client.must('PATCH', `${base}/`, { default_rate_plan_id: bar!.id });
    for (const spec of ROOM_TYPES) {
      const roomTypeId = roomTypes.find((t) => t.code === spec.code)!.id;
      const range = { rate_plan_id: bar!.id, room_type_id: roomTypeId, start_date: today, end_date: last };
      await client.must('PUT', '/api/rates/daily/', {
        ...range,
        days_of_week: ['mon', 'tue', 'wed', 'thu', 'sun'],
        amount: spec.weekday,
      });
      await client.must('PUT', '/api/rates/daily/', {
        ...range,
        days_of_week: ['fri', 'sat'],
        amount: spec.weekend,
        min_stay: 2,
      });
    }
    log(`  ${hotel.code}: ${ROOM_TYPES.length} room types, ${days} nights of inventory and rates`);
    hotels.push({ ...hotel, id: propertyId, roomTypes, ratePlanIds: [bar!.id, nrf!.id] });
  }
  return hotels;
}

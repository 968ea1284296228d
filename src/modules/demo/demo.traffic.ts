import { DateTime } from 'luxon';
import type { DemoClient } from './demo.client.ts';
import type { SeededHotel } from './demo.seed.ts';

const FIRST = [
  'Ada',
  'Grace',
  'Alan',
  'Edsger',
  'Barbara',
  'Donald',
  'Frances',
  'Ken',
  'Margaret',
  'Linus',
  'Hedy',
  'Tim',
];
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Allen',
  'Thompson',
  'Hamilton',
  'Torvalds',
  'Lamarr',
  'Berners-Lee',
];

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;

export interface TrafficStats {
  booked: number;
  refused: number;
  cancelled: number;
  held: number;
}

/**
 * A trickle of direct bookings, holds and cancellations through the API, so the dashboard moves.
 * Refusals (a sold-out night, a minimum stay) are part of a real day and are only counted.
 */
export function startTraffic(
  client: DemoClient,
  hotels: SeededHotel[],
  options: { perMinute: number; log: (line: string) => void },
): { stop: () => Promise<void>; stats: TrafficStats } {
  const stats: TrafficStats = { booked: 0, refused: 0, cancelled: 0, held: 0 };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  async function book(hotel: SeededHotel) {
    const today = DateTime.now().setZone(hotel.timezone);
    const checkIn = today.plus({ days: Math.floor(Math.random() * 30) });
    const nights = 1 + Math.floor(Math.random() * 4);
    const roomType = pick(hotel.roomTypes);
    const guest = { first_name: pick(FIRST), last_name: pick(LAST) };
    const response = await client.request<{ confirmation_code?: string; code?: string }>(
      'POST',
      '/api/reservations/create/',
      {
        property_id: hotel.id,
        check_in: checkIn.toISODate(),
        check_out: checkIn.plus({ days: nights }).toISODate(),
        guest: { ...guest, email: `${guest.first_name}.${guest.last_name}@example.com`.toLowerCase() },
        rooms: [{ room_type_id: roomType.id, rate_plan_id: pick(hotel.ratePlanIds), adults: 2 }],
      },
      { 'idempotency-key': crypto.randomUUID() },
    );
    if (response.status === 201) {
      stats.booked++;
      options.log(
        `${hotel.code}: booked ${roomType.code} ${checkIn.toISODate()} +${nights} for ${guest.first_name} ${guest.last_name} (${response.body.confirmation_code})`,
      );
    } else {
      stats.refused++;
      options.log(
        `${hotel.code}: ${roomType.code} ${checkIn.toISODate()} +${nights} refused (${response.body.code})`,
      );
    }
  }

  async function cancel(hotel: SeededHotel) {
    const list = await client.request<{ results: Array<{ id: string; confirmation_code: string }> }>(
      'GET',
      `/api/reservations/?property_id=${hotel.id}&status=confirmed&source=direct&limit=25`,
    );
    const victim = list.status === 200 && list.body.results.length > 0 ? pick(list.body.results) : undefined;
    if (!victim) return book(hotel);
    const response = await client.request('POST', `/api/reservations/${victim.id}/cancel/`);
    if (response.status === 200) {
      stats.cancelled++;
      options.log(`${hotel.code}: cancelled ${victim.confirmation_code}`);
    }
  }

  async function hold(hotel: SeededHotel) {
    const checkIn = DateTime.now()
      .setZone(hotel.timezone)
      .plus({ days: Math.floor(Math.random() * 14) });
    const roomType = pick(hotel.roomTypes);
    const response = await client.request('POST', '/api/inventory/holds/', {
      room_type_id: roomType.id,
      check_in: checkIn.toISODate(),
      check_out: checkIn.plus({ days: 2 }).toISODate(),
      units: 1,
      ttl_minutes: 3,
      reference: 'demo cart',
    });
    if (response.status === 201) {
      stats.held++;
      options.log(`${hotel.code}: a cart holds ${roomType.code} ${checkIn.toISODate()} +2 for 3 minutes`);
    }
  }

  function tick() {
    inFlight = step();
  }

  async function step() {
    if (stopped) return;
    const hotel = pick(hotels);
    const roll = Math.random();
    try {
      if (roll < 0.65) await book(hotel);
      else if (roll < 0.9) await cancel(hotel);
      else await hold(hotel);
    } catch (error) {
      options.log(`traffic: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (stopped) return;
    // Poisson-like spacing around the asked rate, so activity looks organic.
    const meanMs = 60_000 / options.perMinute;
    timer = setTimeout(tick, Math.max(200, -Math.log(1 - Math.random()) * meanMs));
  }

  timer = setTimeout(tick, 500);
  return {
    stats,
    /** Stops, once the request in flight (if any) has been answered and counted. */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}

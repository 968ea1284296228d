import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestContext, LOOPBACK_EGRESS, type TestContext } from '../../../test/helpers/context.ts';
import { createUser } from '../../../test/helpers/factories.ts';
import { startSimulator } from '../integrations/simulator/server.ts';
import { createDemoClient, type DemoClient } from './demo.client.ts';
import { connectHotels } from './demo.pms.ts';
import { type SeededHotel, seedDemo } from './demo.seed.ts';
import { startTraffic } from './demo.traffic.ts';

interface Page<T> {
  results: T[];
  next_cursor: string | null;
}

describe('pms demo', () => {
  let t: TestContext;
  let client: DemoClient;
  let hotels: SeededHotel[];
  const quiet = () => {};

  beforeAll(async () => {
    // The simulated PMS listens on 127.0.0.1, which `pms demo` opts into as this test does.
    t = await createTestContext({ env: LOOPBACK_EGRESS });
    const admin = await createUser(t.db, { role: 'SUPER_ADMIN' });
    client = createDemoClient(t.app, { email: admin.email, password: admin.password });
    hotels = await seedDemo(client, quiet, 30);
  });
  afterAll(async () => t?.close());

  it('seeds three hotels with room types, rooms, inventory and rates, and reuses them on a second run', async () => {
    expect(hotels.map((h) => h.code)).toEqual(['BER', 'LIS', 'VIE']);
    const again = await seedDemo(client, quiet, 30);
    expect(again.map((h) => h.id)).toEqual(hotels.map((h) => h.id));
    const properties = await client.must<Page<unknown>>('GET', '/api/properties/');
    expect(properties.results).toHaveLength(3);

    for (const hotel of hotels) {
      expect(hotel.roomTypes.map((r) => r.code)).toEqual(['STD', 'DBL', 'STE']);
      const rooms = await client.must<Page<unknown>>('GET', `/api/properties/${hotel.id}/rooms/?limit=100`);
      expect(rooms.results).toHaveLength(18 + 12 + 4);
      const start = new Date().toISOString().slice(0, 10);
      const end = new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10);
      const calendar = await client.must<{ results: unknown[] }>(
        'GET',
        `/api/inventory/calendar/?property_id=${hotel.id}&start=${start}&end=${end}`,
      );
      expect(calendar.results.length).toBeGreaterThanOrEqual(3 * 20);
      const grid = await client.must<{
        rate_plans: Array<{ code: string }>;
        results: Array<{ nights: Array<{ amount: string | null }> }>;
      }>('GET', `/api/rates/grid/?property_id=${hotel.id}&start=${start}&end=${end}`);
      expect(grid.rate_plans.map((p) => p.code).sort()).toEqual(['BAR', 'NRF']);
      expect(grid.results.every((row) => row.nights.every((n) => n.amount !== null))).toBe(true);
    }
  });

  it('connects each hotel to the simulated PMS in its own dialect and imports its bookings', async () => {
    const simulator = await startSimulator({ host: '127.0.0.1', port: 0, bookings: 20, seed: 'demo-test' });
    try {
      await connectHotels(client, hotels, simulator, quiet);
      for (const hotel of hotels) {
        const connection = await client.must<{ pms_type: string; version: string }>(
          'GET',
          `/api/integrations/pms/connections/${hotel.id}/`,
        );
        expect(connection.pms_type).toBe(
          { acme: 'acme', flatline: 'flatline', quickstay: 'quickstay' }[hotel.dialect],
        );
        await vi.waitFor(
          async () => {
            const runs = await client.must<Page<{ status: string; fetched: number }>>(
              'GET',
              `/api/integrations/pms/sync-runs/?property_id=${hotel.id}`,
            );
            expect(['succeeded', 'partial']).toContain(runs.results[0]?.status);
            expect(runs.results[0]?.fetched).toBe(20);
          },
          { timeout: 30_000, interval: 200 },
        );
      }
    } finally {
      await simulator.close();
    }
  });

  it('keeps bookings and cancellations flowing through the API, each counted once', async () => {
    const lines: string[] = [];
    const traffic = startTraffic(client, hotels, { perMinute: 600, log: (line) => lines.push(line) });
    try {
      await vi.waitFor(() => expect(traffic.stats.booked).toBeGreaterThanOrEqual(6), {
        timeout: 30_000,
        interval: 100,
      });
    } finally {
      await traffic.stop();
    }
    let direct = 0;
    let cancelled = 0;
    for (const hotel of hotels) {
      const list = await client.must<Page<{ status: string }>>(
        'GET',
        `/api/reservations/?property_id=${hotel.id}&source=direct&limit=500`,
      );
      direct += list.results.length;
      cancelled += list.results.filter((r) => r.status === 'cancelled').length;
    }
    expect(direct).toBe(traffic.stats.booked);
    expect(cancelled).toBe(traffic.stats.cancelled);
    expect(lines.filter((l) => l.includes(': booked ')).length).toBe(traffic.stats.booked);
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startPmsSyncWorker } from '../../src/modules/integrations/integrations.worker.ts';
import { type Simulator, startSimulator } from '../../src/modules/integrations/simulator/server.ts';
import { createTestContext, LOOPBACK_EGRESS, type TestContext, workerDeps } from '../helpers/context.ts';
import { expectedCalendar, importedCalendar, pmsHotel } from './pms.helpers.ts';

let t: TestContext;
let sim: Simulator;
beforeAll(async () => {
  t = await createTestContext({ env: LOOPBACK_EGRESS });
  sim = await startSimulator({ baseDate: '2031-03-01', seed: 'pms-worker-test' });
});
afterAll(async () => {
  await sim?.close();
  await t?.close();
});

describe('the scheduled sync worker (pg-boss)', () => {
  it('syncs every due connection in parallel, a broken hotel failing alone, then reschedules them', async () => {
    const hotels = [
      await pmsHotel(t, sim, 'acme', { bookings: 90 }),
      await pmsHotel(t, sim, 'flatline', { bookings: 90 }),
      await pmsHotel(t, sim, 'quickstay', { bookings: 90, secret: 'wrong-key' }),
    ];
    const silent = {
      info() {},
      warn() {},
      error() {},
      debug() {},
      trace() {},
      fatal() {},
      child: () => silent,
    };
    const deps = { ...workerDeps(t), logger: silent as never };
    const stop = await startPmsSyncWorker(deps);
    try {
      const finished = await vi.waitFor(
        async () => {
          const runs = await t.db
            .selectFrom('sync_run')
            .select(['property_id', 'status', 'trigger', 'created'])
            .where('status', 'not in', ['queued', 'running'])
            .execute();
          expect(runs).toHaveLength(3);
          return runs;
        },
        { timeout: 45_000, interval: 250 },
      );
      const byProperty = new Map(finished.map((r) => [r.property_id, r]));
      expect(byProperty.get(hotels[0]!.property.id)).toMatchObject({
        status: 'succeeded',
        trigger: 'schedule',
        created: 90,
      });
      expect(byProperty.get(hotels[1]!.property.id)).toMatchObject({
        status: 'succeeded',
        trigger: 'schedule',
        created: 90,
      });
      expect(byProperty.get(hotels[2]!.property.id)).toMatchObject({ status: 'failed', trigger: 'schedule' });
      expect(await importedCalendar(t.db, hotels[0]!)).toEqual(
        expectedCalendar(sim.bookings(hotels[0]!.hotel)),
      );
      const next = await t.db.selectFrom('pms_connection').select(['next_run_at', 'last_run_at']).execute();
      for (const connection of next) {
        expect(connection.next_run_at.getTime() - connection.last_run_at!.getTime()).toBe(300_000);
      }
    } finally {
      await stop();
      await deps.jobs.stop();
    }
  });
});

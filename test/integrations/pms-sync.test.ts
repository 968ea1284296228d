import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSecretsKey } from '../../src/app/secrets.ts';
import { DIALECTS, type Simulator, startSimulator } from '../../src/modules/integrations/simulator/server.ts';
import { createSyncService } from '../../src/modules/integrations/sync/sync.service.ts';
import { applyImportedChanges } from '../../src/modules/inventory/inventory.service.ts';
import { call, createTestContext, LOOPBACK_EGRESS, type TestContext } from '../helpers/context.ts';
import { expectedCalendar, importedCalendar, ledgerSnapshot, pmsHotel, syncNow } from './pms.helpers.ts';

let t: TestContext;
let sim: Simulator;
beforeAll(async () => {
  t = await createTestContext({ env: LOOPBACK_EGRESS });
  sim = await startSimulator({ baseDate: '2031-03-01', seed: 'pms-sync-test' });
});
afterAll(async () => {
  await sim?.close();
  await t?.close();
});

describe('a full sync from the simulator over HTTP', () => {
  for (const dialect of DIALECTS) {
    it(`imports every good booking of a ${dialect} hotel, quarantines the bad ones, and fills the calendar`, async () => {
      const h = await pmsHotel(t, sim, dialect, { bookings: 240, badRatio: 0.05 });
      const expectedBad = sim.bookings(h.hotel).filter((b) => b.bad).length;
      expect(expectedBad).toBeGreaterThan(0);
      const run = await syncNow(t, h);
      expect(run).toMatchObject({
        status: 'partial',
        fetched: 240,
        created: 240 - expectedBad,
        updated: 0,
        unchanged: 0,
        quarantined: expectedBad,
        error: null,
      });
      expect(run.cursor_after).not.toBeNull();
      expect(await importedCalendar(t.db, h)).toEqual(expectedCalendar(sim.bookings(h.hotel)));

      const errors = await call(
        t.app,
        'GET',
        `/api/integrations/pms/errors/?sync_run_id=${run.id}&limit=500`,
        {
          token: h.token,
        },
      );
      expect(errors.body.results).toHaveLength(expectedBad);
      const kinds = new Map([
        ['raw_schema', 'PMSDataValidationError'],
        ['mapping', 'PMSMappingError'],
        ['field_rules', 'PMSDataValidationError'],
        ['business_rules', 'PMSBusinessRuleError'],
      ]);
      for (const error of errors.body.results) {
        expect(kinds.get(error.stage)).toBe(error.error_type);
        expect(error.raw).toBeTypeOf('object');
      }
    });
  }
});

describe('incremental syncs', () => {
  it('an idle re-sync fetches nothing and writes nothing', async () => {
    const h = await pmsHotel(t, sim, 'acme', { bookings: 120 });
    const first = await syncNow(t, h);
    expect(first.status).toBe('succeeded');
    const before = await ledgerSnapshot(t.db, h.property.id);
    sim.resetStats();
    const second = await syncNow(t, h);
    expect(second).toMatchObject({ status: 'succeeded', fetched: 0, created: 0, updated: 0, unchanged: 0 });
    expect(second.cursor_after).toBe(first.cursor_after);
    expect(await ledgerSnapshot(t.db, h.property.id)).toEqual(before);
  });

  for (const dialect of DIALECTS) {
    it(`changes at a ${dialect} PMS update exactly those bookings and the calendar`, async () => {
      const h = await pmsHotel(t, sim, dialect, { bookings: 150 });
      await syncNow(t, h);
      const before = await ledgerSnapshot(t.db, h.property.id);
      const changed = new Set(sim.mutate(h.hotel, 7));
      const run = await syncNow(t, h);
      expect(run).toMatchObject({ status: 'succeeded', fetched: 7, created: 0, updated: 7, unchanged: 0 });
      const after = await ledgerSnapshot(t.db, h.property.id);
      const rows = await t.db
        .selectFrom('reservation')
        .select(['id', 'external_id', 'version'])
        .where('property_id', '=', h.property.id)
        .execute();
      const changedIds = new Set(
        rows.filter((r) => changed.has(Number(String(r.external_id).replace(/\D/g, '')))).map((r) => r.id),
      );
      expect(changedIds.size).toBe(7);
      for (const [i, row] of after.reservations.entries()) {
        const old = before.reservations[i]!;
        expect(row.id).toBe(old.id);
        if (changedIds.has(row.id)) expect(row.version).toBe(old.version + 1);
        else expect(row).toEqual(old);
      }
      expect(await importedCalendar(t.db, h)).toEqual(expectedCalendar(sim.bookings(h.hotel)));
    });
  }
});

describe('faults at the PMS', () => {
  it('retries 429s (honouring Retry-After) and 5xx answers, then completes', async () => {
    const h = await pmsHotel(t, sim, 'quickstay', { bookings: 60 });
    sim.resetStats();
    sim.injectFaults(
      { hotel: h.hotel, status: 429, retryAfter: '0' },
      { hotel: h.hotel, status: 503 },
      { hotel: h.hotel, status: 500 },
      { hotel: h.hotel, status: 502, times: 1 },
    );
    const run = await syncNow(t, h);
    expect(run).toMatchObject({ status: 'succeeded', fetched: 60, created: 60 });
    const stats = sim.stats();
    expect(stats.byStatus).toMatchObject({ 429: 1, 503: 1, 500: 1, 502: 1 });
    expect(stats.byStatus[200]).toBe(1);
  });

  it('fails the run when the retries run out, and keeps the cursor', async () => {
    const h = await pmsHotel(t, sim, 'acme', { bookings: 30 });
    const first = await syncNow(t, h);
    sim.mutate(h.hotel, 3);
    sim.injectFaults({ hotel: h.hotel, status: 503, times: 5 });
    const run = await syncNow(t, h);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/HTTP 503 \(after 5 attempts\)/);
    expect(run.cursor_after).toBe(first.cursor_after);
    const again = await syncNow(t, h);
    expect(again).toMatchObject({ status: 'succeeded', fetched: 3, updated: 3 });
  });

  it('wrong credentials fail the run, change nothing and keep the cursor', async () => {
    const h = await pmsHotel(t, sim, 'flatline', { bookings: 40 });
    const first = await syncNow(t, h);
    const before = await ledgerSnapshot(t.db, h.property.id);
    const put = await call(t.app, 'PUT', `/api/integrations/pms/connections/${h.property.id}/`, {
      token: h.token,
      body: {
        pms_type: 'flatline',
        version: '1.0',
        base_url: sim.url,
        hotel_external_id: h.hotel,
        secrets: { api_key: 'not-the-right-key' },
      },
    });
    expect(put.status).toBe(200);
    expect(put.body.cursor).toBe(first.cursor_after);
    sim.mutate(h.hotel, 4);
    const run = await syncNow(t, h);
    expect(run).toMatchObject({ status: 'failed', fetched: 0, created: 0, updated: 0 });
    expect(run.error).toMatch(/HTTP 401 \(check the connection's credentials\)/);
    expect(run.cursor_before).toBe(first.cursor_after);
    expect(run.cursor_after).toBe(first.cursor_after);
    const connection = await call(t.app, 'GET', `/api/integrations/pms/connections/${h.property.id}/`, {
      token: h.token,
    });
    expect(connection.body).toMatchObject({
      cursor: first.cursor_after,
      last_run: { id: run.id, status: 'failed' },
    });
    expect(await ledgerSnapshot(t.db, h.property.id)).toEqual(before);
  });

  it('a fetch that fails half-way keeps the cursor, so the next run fetches everything again', async () => {
    const h = await pmsHotel(t, sim, 'acme', { bookings: 1200 });
    // Page 1 (500 bookings) is answered, then page 2 is refused without retry.
    sim.injectFaults({ hotel: h.hotel, hangMs: 0 }, { hotel: h.hotel, status: 403 });
    const failed = await syncNow(t, h);
    expect(failed.status).toBe('failed');
    expect(failed.cursor_after).toBeNull();
    const connection = await t.db
      .selectFrom('pms_connection')
      .select('cursor')
      .where('property_id', '=', h.property.id)
      .executeTakeFirstOrThrow();
    expect(connection.cursor).toBeNull();
    const retried = await syncNow(t, h);
    expect(retried).toMatchObject({ status: 'succeeded', fetched: 1200 });
    expect(retried.created + retried.unchanged).toBe(1200);
    expect(await importedCalendar(t.db, h)).toEqual(expectedCalendar(sim.bookings(h.hotel)));
  });

  it('two hotels sync in parallel, and a broken one leaves the other untouched', async () => {
    const good = await pmsHotel(t, sim, 'acme3', { bookings: 300 });
    const broken = await pmsHotel(t, sim, 'quickstay', { bookings: 300, secret: 'wrong-key' });
    const [a, b] = await Promise.all([syncNow(t, good), syncNow(t, broken)]);
    expect(a).toMatchObject({ status: 'succeeded', fetched: 300, created: 300 });
    expect(b).toMatchObject({ status: 'failed', fetched: 0, created: 0 });
    expect(await importedCalendar(t.db, good)).toEqual(expectedCalendar(sim.bookings(good.hotel)));
    expect((await ledgerSnapshot(t.db, broken.property.id)).reservations).toEqual([]);
  });

  it('runs many hotels through the scheduler path with bounded concurrency', async () => {
    const hotels = await Promise.all(
      ['acme', 'flatline', 'quickstay', 'acme3', 'acme'].map((d, i) =>
        pmsHotel(t, sim, d as never, { bookings: 80, ...(i === 2 ? { secret: 'bad-secret' } : {}) }),
      ),
    );
    const service = createSyncService({
      db: t.db,
      secretsKey: resolveSecretsKey(t.config),
      applyImportedChanges,
      allowedNetworks: t.config.pmsAllowedNetworks,
      concurrency: 2,
    });
    const queued = await service.queueDue(1000);
    const mine = (
      await t.db.selectFrom('sync_run').select(['id', 'property_id']).where('id', 'in', queued).execute()
    ).filter((r) => hotels.some((h) => h.property.id === r.property_id));
    expect(mine).toHaveLength(5);
    const results = await service.executeMany(mine.map((r) => r.id));
    const byProperty = new Map(mine.map((r, i) => [r.property_id, results[i]!]));
    for (const [i, h] of hotels.entries()) {
      expect(byProperty.get(h.property.id)!.status).toBe(i === 2 ? 'failed' : 'succeeded');
    }
  });
});

describe('a run failed as abandoned while its process was only stalled', () => {
  it('writes no further batch, keeps its failure, and leaves the cursor and the last batches alone', async () => {
    const h = await pmsHotel(t, sim, 'acme', { bookings: 1_100 });
    const service = createSyncService({
      db: t.db,
      secretsKey: resolveSecretsKey(t.config),
      applyImportedChanges,
      allowedNetworks: t.config.pmsAllowedNetworks,
      batchSize: 500,
    });
    let runId = '';
    // Pages of 500, one batch each (the third, of 100, with the run's outcome). After the first
    // commits, the run falls silent as far as the database can tell and is failed as abandoned, as
    // a sweep would do; the second batch must not be written.
    const [result] = await service.syncProperties([h.property.id], async (progress) => {
      runId = progress.run;
      if (progress.fetched !== 500) return;
      await sql`UPDATE sync_run SET heartbeat_at = now() - interval '1 hour' WHERE id = ${runId}`.execute(
        t.db,
      );
      expect(await service.failAbandoned()).toContain(runId);
    });
    expect(result).toMatchObject({ id: runId, status: 'failed' });
    expect(result!.error).toMatch(/abandoned/);

    const snapshot = await ledgerSnapshot(t.db, h.property.id);
    expect(snapshot.reservations).toHaveLength(500);
    const connection = await t.db
      .selectFrom('pms_connection')
      .select(['cursor', 'last_run_id', 'last_run_status'])
      .where('property_id', '=', h.property.id)
      .executeTakeFirstOrThrow();
    expect(connection).toEqual({ cursor: null, last_run_id: runId, last_run_status: 'failed' });
    // Ended once, as a failed run: one completion event with the abandonment, one audit row.
    const completions = await t.db
      .selectFrom('outbox_event')
      .select(sql<{ status: string; error: string }>`envelope->'data'->'sync_run'`.as('run'))
      .where('type', '=', 'pms.integration.sync.completed')
      .where(sql<string>`envelope->'data'->'sync_run'->>'id'`, '=', runId)
      .execute();
    expect(completions.map((c) => c.run.status)).toEqual(['failed']);
    expect(completions[0]!.run.error).toMatch(/abandoned/);

    // The next run fetches everything again: the first batch's bookings count as unchanged.
    const next = await syncNow(t, h);
    expect(next).toMatchObject({ status: 'succeeded', fetched: 1_100, created: 600, unchanged: 500 });
  });
});

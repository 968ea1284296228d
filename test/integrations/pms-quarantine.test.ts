import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/modules/integrations/simulator/server.ts';
import { call, createTestContext, LOOPBACK_EGRESS, type TestContext } from '../helpers/context.ts';
import { createProperty, createRoomType, unique, userWithToken } from '../helpers/factories.ts';
import { expectedCalendar, importedCalendar, pmsHotel, syncNow } from './pms.helpers.ts';

let t: TestContext;
let sim: Simulator;
let token: string;
const acme = () =>
  JSON.parse(readFileSync(new URL('../../pms-configs/acme-2.1.json', import.meta.url), 'utf8'));

beforeAll(async () => {
  t = await createTestContext({ env: LOOPBACK_EGRESS });
  sim = await startSimulator({ baseDate: '2031-03-01', seed: 'pms-quarantine-test' });
  token = (await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' })).token;
});
afterAll(async () => {
  await sim?.close();
  await t?.close();
});

async function connect(pmsType: string, version: string, hotel: string, roomTypes = ['STD', 'DBL', 'STE']) {
  const property = await createProperty(t.db);
  const types: Record<string, any> = {};
  for (const code of roomTypes)
    types[code] = await createRoomType(t.db, property.id, { code, totalUnits: 500 });
  const res = await call(t.app, 'PUT', `/api/integrations/pms/connections/${property.id}/`, {
    token,
    body: {
      pms_type: pmsType,
      version,
      base_url: sim.url,
      hotel_external_id: hotel,
      secrets: { api_token: sim.credentials.acme },
    },
  });
  expect(res.status).toBe(201);
  return { property, roomTypes: types, hotel, dialect: 'acme' as const, token };
}

describe('quarantine and replay', () => {
  it('replays quarantined records through a fixed config', async () => {
    const type = unique('acmefix').toLowerCase();
    const broken = acme();
    broken.pms_type = type;
    delete broken.status_mappings.OPTION;
    delete broken.status_mappings.NOSHOW;
    expect(
      (await call(t.app, 'POST', '/api/integrations/pms/configs/', { token, body: broken })).status,
    ).toBe(201);
    const hotel = unique('H');
    sim.defineHotel(hotel, { bookings: 200 });
    const h = await connect(type, '2.1', hotel);
    const missing = sim.bookings(hotel).filter((b) => b.status === 'tentative' || b.status === 'no_show');
    expect(missing.length).toBeGreaterThan(0);

    const run = await syncNow(t, h);
    expect(run).toMatchObject({
      status: 'partial',
      fetched: 200,
      created: 200 - missing.length,
      quarantined: missing.length,
    });
    const errors = await call(t.app, 'GET', `/api/integrations/pms/errors/?sync_run_id=${run.id}&limit=500`, {
      token,
    });
    expect(errors.body.results.map((e: any) => e.external_id).sort()).toEqual(
      missing.map((b) => String(b.ref)).sort(),
    );
    for (const error of errors.body.results) {
      expect(error).toMatchObject({
        stage: 'mapping',
        error_type: 'PMSMappingError',
        field: 'status',
        replay_status: 'pending',
      });
      expect(error.message).toMatch(/^status: status "(OPTION|NOSHOW)" is not in status_mappings$/);
    }

    const fixed = acme();
    fixed.pms_type = type;
    expect((await call(t.app, 'POST', '/api/integrations/pms/configs/', { token, body: fixed })).status).toBe(
      200,
    );
    const replay = await call(t.app, 'POST', '/api/integrations/pms/errors/replay/', {
      token,
      body: { property_id: h.property.id, sync_run_id: run.id, wait: true },
    });
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({
      trigger: 'replay',
      status: 'succeeded',
      fetched: missing.length,
      created: missing.length,
      quarantined: 0,
      cursor_after: run.cursor_after,
    });
    const after = await call(t.app, 'GET', `/api/integrations/pms/errors/?sync_run_id=${run.id}&limit=500`, {
      token,
    });
    expect(
      after.body.results.every(
        (e: any) => e.replay_status === 'ingested' && e.replay_run_id === replay.body.id,
      ),
    ).toBe(true);
    expect(await importedCalendar(t.db, h)).toEqual(expectedCalendar(sim.bookings(hotel)));

    const nothing = await call(t.app, 'POST', '/api/integrations/pms/errors/replay/', {
      token,
      body: { property_id: h.property.id },
    });
    expect(nothing.status).toBe(400);
  });

  it('quarantines again what a replay still cannot map', async () => {
    // A fixed name: the simulator's bookings follow from its seed and the hotel, so this hotel's bad
    // records are the same in every run (a random name once drew none of the 10 % asked for).
    const hotel = 'REPLAY-AGAIN';
    sim.defineHotel(hotel, { bookings: 80, badRatio: 0.1 });
    const bad = sim.bookings(hotel).filter((b) => b.bad !== null);
    expect(bad.length).toBeGreaterThan(0);
    const h = await connect('acme', '2.1', hotel);
    const run = await syncNow(t, h);
    // The whole run in the message: a failed run would say why.
    expect(run, JSON.stringify(run)).toMatchObject({ status: 'partial', quarantined: bad.length });
    const replay = await call(t.app, 'POST', '/api/integrations/pms/errors/replay/', {
      token,
      body: { property_id: h.property.id, wait: true },
    });
    expect(replay.body).toMatchObject({
      status: 'partial',
      fetched: run.quarantined,
      created: 0,
      quarantined: run.quarantined,
    });
    const old = await call(t.app, 'GET', `/api/integrations/pms/errors/?sync_run_id=${run.id}&limit=500`, {
      token,
    });
    expect(old.body.results.every((e: any) => e.replay_status === 'failed')).toBe(true);
    const again = await call(
      t.app,
      'GET',
      `/api/integrations/pms/errors/?sync_run_id=${replay.body.id}&limit=500`,
      {
        token,
      },
    );
    expect(again.body.results.map((e: any) => e.external_id).sort()).toEqual(
      old.body.results.map((e: any) => e.external_id).sort(),
    );
  });

  it('quarantines bookings of unknown room types when the config requires known ones, else records them without inventory', async () => {
    const hotel = unique('H');
    sim.defineHotel(hotel, { bookings: 120 });
    const suites = sim.bookings(hotel).filter((b) => b.roomType === 'STE');
    expect(suites.length).toBeGreaterThan(0);
    const lenient = await connect('acme', '2.1', hotel, ['STD', 'DBL']);
    const run = await syncNow(t, lenient);
    expect(run).toMatchObject({ status: 'succeeded', created: 120 });
    expect(run.warnings).toEqual({ unknown_room_type_codes: { STE: suites.length } });
    const expected = expectedCalendar(sim.bookings(hotel).filter((b) => b.roomType !== 'STE'));
    expect(await importedCalendar(t.db, lenient)).toEqual(expected);

    const type = unique('acmestrict').toLowerCase();
    const strict = acme();
    strict.pms_type = type;
    strict.validation_rules.business_rules.push({ rule: 'room_type_known' });
    await call(t.app, 'POST', '/api/integrations/pms/configs/', { token, body: strict });
    const h = await connect(type, '2.1', hotel, ['STD', 'DBL']);
    const strictRun = await syncNow(t, h);
    expect(strictRun).toMatchObject({
      status: 'partial',
      created: 120 - suites.length,
      quarantined: suites.length,
    });
    const errors = await call(
      t.app,
      'GET',
      `/api/integrations/pms/errors/?sync_run_id=${strictRun.id}&limit=500`,
      { token },
    );
    expect(new Set(errors.body.results.map((e: any) => `${e.stage}|${e.error_type}|${e.field}`))).toEqual(
      new Set(['business_rules|PMSBusinessRuleError|room_type_code']),
    );
  });

  it('records an excess over capacity as overbooked and never drops an imported booking', async () => {
    const h = await pmsHotel(t, sim, 'acme', { bookings: 150, units: 1 });
    const run = await syncNow(t, h);
    expect(run).toMatchObject({ status: 'succeeded', created: 150 });
    const overbooked = await t.db
      .selectFrom('inventory_calendar')
      .select(({ fn }) => fn.sum<number>('overbooked_units').as('n'))
      .where('property_id', '=', h.property.id)
      .executeTakeFirstOrThrow();
    expect(Number(overbooked.n)).toBeGreaterThan(0);
    expect(await importedCalendar(t.db, h)).toEqual(expectedCalendar(sim.bookings(h.hotel)));
  });
});

describe('schema drift', () => {
  it('reports fields that appear or vanish in the raw records', async () => {
    const type = unique('acmedrift').toLowerCase();
    await call(t.app, 'POST', '/api/integrations/pms/configs/', {
      token,
      body: { ...acme(), pms_type: type },
    });
    const hotel = unique('H');
    sim.defineHotel(hotel, { bookings: 30 });
    const h = await connect(type, '2.1', hotel);
    const first = await syncNow(t, h);
    expect(first.schema_drift).toBeNull();

    sim.mutate(hotel, 2);
    const same = await syncNow(t, h);
    expect(same.schema_drift).toEqual({ new_fields: [], vanished_fields: [] });

    const record = {
      id: 100001,
      state: 'BOOKED',
      arrival: '2031-05-01',
      departure: '2031-05-04',
      guest: { first: 'Ada', last: 'Lovelace', contact: { email: 'ada@example.com', phone: null } },
      room: { category: 'dbl', no: 201 },
      pax: { adults: 2, children: 0 },
      price: { total: '300.00', currency: 'EUR' },
      loyalty: { tier: 'gold' },
      updated: '2031-12-31T00:00:00.000Z',
    };
    sim.injectFaults({ hotel, body: JSON.stringify({ data: [record], meta: { page: 1 } }) });
    const drifted = await syncNow(t, h);
    expect(drifted).toMatchObject({ status: 'succeeded', fetched: 1, updated: 1 });
    expect(drifted.schema_drift).toEqual({
      new_fields: ['loyalty', 'loyalty.tier'],
      vanished_fields: ['comment'],
    });
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryProblems } from '../../../test/booking/invariants.ts';
import { calendarNight, insertImportedReservation, setBusinessDate } from '../../../test/booking/world.ts';
import { call, createTestContext, type TestContext, workerDeps } from '../../../test/helpers/context.ts';
import { createProperty, createRoomType, unique, userWithToken } from '../../../test/helpers/factories.ts';
import { addDays } from '../../app/dates.ts';
import { applyImportedChanges } from '../inventory/inventory.service.ts';
import { localDate } from '../properties/business-date.ts';
import { auditProperty, runNightAudit } from './night-audit.service.ts';
import { startNightAuditWorker } from './night-audit.worker.ts';

/**
 * The night audit against real PostgreSQL: it rolls each hotel's business date at the hotel's own
 * midnight (Kiritimati, UTC+14, long before Los Angeles, whose midnight moves with daylight saving),
 * marks the arrival day's no-shows with their fee and releases their nights, keeps the calendar
 * horizon, does all of it once however many run at the same moment, and never lets a booking of
 * the closing day slip past it. The clock is an argument (`at`), so every edge is exact.
 */

const POOL = 24;
const LOCK = { policy: 'wait' as const, timeoutMs: 5000 };
const HORIZON = 30;
let t: TestContext;
beforeAll(async () => {
  t = await createTestContext({ poolSize: POOL });
});
afterAll(() => t.close());

/** A hotel trading on 2031-03-08 with March 2031 loaded, BAR (first night on late cancel or no-show) as default. */
async function hotel(timezone: string, units = 10) {
  const property = await createProperty(t.db, { timezone });
  await setBusinessDate(t.db, property.id, '2031-03-08');
  const roomType = await createRoomType(t.db, property.id, { totalUnits: units });
  const admin = await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [property.id] });
  const as = async (method: 'POST' | 'PUT' | 'PATCH', url: string, body?: unknown) => {
    const res = await call(t.app, method, url, { token: admin.token, body });
    if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  await as('POST', '/api/inventory/preload/', {
    property_id: property.id,
    start_date: '2031-03-01',
    end_date: '2031-03-31',
  });
  const bar = await as('POST', '/api/rates/plans/', {
    property_id: property.id,
    code: unique('BAR'),
    name: 'Best available rate',
    cancellation_policy: { free_until_days: 2, penalty: 'first_night' },
  });
  await as('PUT', '/api/rates/daily/', {
    rate_plan_id: bar.id,
    room_type_id: roomType.id,
    start_date: '2031-03-01',
    end_date: '2031-04-30',
    amount: '100.00',
  });
  await as('PATCH', `/api/properties/${property.id}/`, { default_rate_plan_id: bar.id });
  const book = async (checkIn: string, checkOut: string, extra: Record<string, unknown> = {}) =>
    as('POST', '/api/reservations/create/', {
      property_id: property.id,
      check_in: checkIn,
      check_out: checkOut,
      guest: { full_name: unique('Guest ') },
      rooms: [{ room_type_id: roomType.id }],
      ...extra,
    });
  const world = { property, roomType, admin: { ...admin, token: admin.token }, as, book };
  return world;
}

const audit = (propertyId: string, at: string, options: { checkHorizon?: boolean } = {}) =>
  auditProperty(t.db, LOCK, propertyId, { at: new Date(at), horizonDays: HORIZON, ...options });

const businessDate = async (propertyId: string) =>
  (
    await t.db
      .selectFrom('property')
      .select('business_date')
      .where('id', '=', propertyId)
      .executeTakeFirstOrThrow()
  ).business_date;

async function statusOf(id: string) {
  return (
    await t.db.selectFrom('reservation').select('status').where('id', '=', id).executeTakeFirstOrThrow()
  ).status;
}

async function countRows(propertyId: string) {
  const events = await t.db
    .selectFrom('outbox_event')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('property_id', '=', propertyId)
    .executeTakeFirstOrThrow();
  const audits = await t.db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('property_id', '=', propertyId)
    .executeTakeFirstOrThrow();
  return { events: Number(events.n), audits: Number(audits.n) };
}

describe('the night audit of one hotel', () => {
  it("rolls at the hotel's midnight, marks the day's no-shows with their fee, releases their nights, loads the horizon", async () => {
    const w = await hotel('America/Los_Angeles');
    const confirmed = await w.book('2031-03-08', '2031-03-10');
    const tentative = await w.book('2031-03-08', '2031-03-09', { status: 'tentative' });
    const arrived = await w.book('2031-03-08', '2031-03-10');
    await w.as('POST', `/api/reservations/${arrived.id}/check-in/`);
    const tomorrow = await w.book('2031-03-09', '2031-03-10');
    const cancelled = await w.book('2031-03-08', '2031-03-09');
    await w.as('POST', `/api/reservations/${cancelled.id}/cancel/`);
    const stay = { roomTypeId: w.roomType.id, checkIn: '2031-03-08', checkOut: '2031-03-09', units: 1 };
    const imported = await insertImportedReservation(t.db, w.property.id, stay, unique('X'));
    await t.db.transaction().execute((tx) =>
      applyImportedChanges(tx, {
        propertyId: w.property.id,
        changes: [{ reservationId: imported, release: [], take: [stay] }],
        reason: 'pms.import',
        actorId: null,
      }),
    );
    expect(await calendarNight(t, w as never, '2031-03-08')).toMatchObject({ booked_units: 4 });

    // 23:59 on the 8th in Los Angeles (UTC−8): the day is not over.
    const before = await audit(w.property.id, '2031-03-09T07:59:59Z');
    expect(before).toMatchObject({
      rolled: false,
      business_date: '2031-03-08',
      no_shows: [],
      nights_created: 0,
    });
    const counted = await countRows(w.property.id);

    const result = await audit(w.property.id, '2031-03-09T08:00:30Z');
    expect(result).toMatchObject({
      outcome: 'audited',
      business_date_before: '2031-03-08',
      business_date: '2031-03-09',
      rolled: true,
    });
    expect(result.no_shows.map((n) => [n.reservation_id, n.fee_amount, n.fee_currency]).sort()).toEqual(
      [
        [confirmed.id, '100.00', 'EUR'],
        [tentative.id, '100.00', 'EUR'],
      ].sort(),
    );
    expect(await businessDate(w.property.id)).toBe('2031-03-09');
    expect(await statusOf(confirmed.id)).toBe('no_show');
    expect(await statusOf(tentative.id)).toBe('no_show');
    expect(await statusOf(arrived.id)).toBe('checked_in');
    expect(await statusOf(tomorrow.id)).toBe('confirmed');
    expect(await statusOf(cancelled.id)).toBe('cancelled');
    expect(await statusOf(imported)).toBe('confirmed');
    const stored = await call(t.app, 'GET', `/api/reservations/${confirmed.id}/`, { token: w.admin.token });
    expect(stored.body.fee).toMatchObject({
      kind: 'no_show',
      amount: '100.00',
      rooms: [{ penalty: 'first_night' }],
    });
    // The no-shows' nights are free again; the guest in house, tomorrow's arrival and the import keep theirs.
    expect(await calendarNight(t, w as never, '2031-03-08')).toMatchObject({ booked_units: 2 });
    expect(await calendarNight(t, w as never, '2031-03-09')).toMatchObject({ booked_units: 2 });
    expect(await inventoryProblems(t.db, w.property.id)).toEqual([]);

    const events = await t.db
      .selectFrom('outbox_event')
      .select('envelope')
      .where('property_id', '=', w.property.id)
      .where('type', '=', 'pms.reservation.modified')
      .execute();
    const noShows = events.map((e) => (e.envelope as any).data).filter((d) => d.change === 'no_show');
    expect(noShows).toHaveLength(2);
    expect(noShows[0]).toMatchObject({
      cause: 'night_audit',
      previous_status: expect.any(String),
      fee: { kind: 'no_show' },
    });
    const audits = await t.db
      .selectFrom('audit_log')
      .select(['action', 'actor_role', 'entity_id', 'diff'])
      .where('property_id', '=', w.property.id)
      .where('action', 'in', ['reservation.no_show', 'property.night_audit'])
      .execute();
    expect(audits.filter((a) => a.action === 'reservation.no_show').map((a) => a.actor_role)).toEqual([
      'SYSTEM',
      'SYSTEM',
    ]);
    expect(audits.find((a) => a.action === 'property.night_audit')!.diff).toEqual({
      business_date: ['2031-03-08', '2031-03-09'],
      no_shows: 2,
      nights_created: 7,
    });
    // The horizon: 30 nights from the new business date, up to 2031-04-07 (April's 7 nights were new).
    const last = await t.db
      .selectFrom('inventory_calendar')
      .select((eb) => eb.fn.max('date').as('last'))
      .where('room_type_id', '=', w.roomType.id)
      .executeTakeFirstOrThrow();
    expect(last.last).toBe('2031-04-07');
    expect(counted.events).toBeLessThan((await countRows(w.property.id)).events);

    // Again at the same moment: nothing left to do, nothing written.
    const after = await countRows(w.property.id);
    const again = await audit(w.property.id, '2031-03-09T08:00:30Z', { checkHorizon: true });
    expect(again).toMatchObject({
      rolled: false,
      business_date: '2031-03-09',
      no_shows: [],
      nights_created: 0,
    });
    expect(await countRows(w.property.id)).toEqual(after);
  });

  it("follows each hotel's own midnight: Kiritimati's first, Los Angeles' across its daylight-saving change", async () => {
    const kiritimati = await hotel('Pacific/Kiritimati');
    const losAngeles = await hotel('America/Los_Angeles');
    const steps: Array<[string, string, string]> = [
      // [instant (UTC), Kiritimati's business date after it, Los Angeles' business date after it]
      ['2031-03-08T09:59:59Z', '2031-03-08', '2031-03-08'],
      ['2031-03-08T10:00:00Z', '2031-03-09', '2031-03-08'], // midnight in Kiritimati (UTC+14)
      ['2031-03-09T07:59:59Z', '2031-03-09', '2031-03-08'],
      ['2031-03-09T08:00:00Z', '2031-03-09', '2031-03-09'], // midnight in Los Angeles, still PST (UTC−8)
      // Los Angeles moves to PDT (UTC−7) at 02:00 on the 9th: its next midnight is an hour earlier in UTC.
      ['2031-03-10T06:59:59Z', '2031-03-10', '2031-03-09'],
      ['2031-03-10T07:00:00Z', '2031-03-10', '2031-03-10'],
      // Days without an audit: the date jumps to the hotel's today in one go.
      ['2031-03-13T10:00:00Z', '2031-03-14', '2031-03-13'],
    ];
    for (const [at, expectedK, expectedLA] of steps) {
      await audit(kiritimati.property.id, at);
      await audit(losAngeles.property.id, at);
      expect(
        [await businessDate(kiritimati.property.id), await businessDate(losAngeles.property.id)],
        at,
      ).toEqual([expectedK, expectedLA]);
    }
    // The date never moves back, even for an earlier clock (or a time zone moved west).
    expect((await audit(kiritimati.property.id, '2031-03-01T00:00:00Z')).business_date).toBe('2031-03-14');
  });

  it('does its work once when several audits of the hotel run at the same moment', async () => {
    const w = await hotel('UTC', 40);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await w.book('2031-03-08', '2031-03-11')).id);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => audit(w.property.id, '2031-03-09T00:00:01Z', { checkHorizon: true })),
    );
    const rolled = results.filter((r) => r.rolled);
    expect(rolled).toHaveLength(1);
    expect(
      results.every((r) => r.rolled || r.outcome === 'busy' || r.business_date_before === '2031-03-09'),
    ).toBe(true);
    expect(results.flatMap((r) => r.no_shows.map((n) => n.reservation_id)).sort()).toEqual([...ids].sort());
    for (const id of ids) expect(await statusOf(id)).toBe('no_show');
    const noShowAudits = await t.db
      .selectFrom('audit_log')
      .select('entity_id')
      .where('action', '=', 'reservation.no_show')
      .where('property_id', '=', w.property.id)
      .execute();
    expect(noShowAudits.map((a) => a.entity_id).sort()).toEqual([...ids].sort());
    const rolls = await t.db
      .selectFrom('audit_log')
      .select('id')
      .where('action', '=', 'property.night_audit')
      .where('property_id', '=', w.property.id)
      .execute();
    expect(rolls).toHaveLength(1);
    for (const date of ['2031-03-08', '2031-03-09', '2031-03-10']) {
      expect(await calendarNight(t, w as never, date)).toMatchObject({ booked_units: 0 });
    }
    expect(await inventoryProblems(t.db, w.property.id)).toEqual([]);
  });

  it('lets no booking of the closing day slip past it: it is booked before and marked, or refused after', async () => {
    const w = await hotel('America/Los_Angeles', 1000);
    const CLIENTS = 12;
    const MAX_TRIES = 40;
    let stop = false;
    const results: Array<{ status: number; body: any }> = [];
    let startAudit: () => void;
    const ready = new Promise<void>((resolve) => {
      startAudit = resolve;
    });
    // Front desks booking the closing day's arrivals back to back: the audit starts once bookings
    // have landed while others are in flight, and the desks go on until it is over.
    const desk = async (n: number) => {
      for (let i = 0; i < MAX_TRIES && !stop; i++) {
        const res = await call(t.app, 'POST', '/api/reservations/create/', {
          token: w.admin.token,
          body: {
            property_id: w.property.id,
            check_in: '2031-03-08',
            check_out: (n + i) % 2 ? '2031-03-09' : '2031-03-10',
            guest: { full_name: `Racer ${n}.${i}` },
            rooms: [{ room_type_id: w.roomType.id }],
          },
        });
        results.push(res);
        if (results.filter((r) => r.status === 201).length >= 2 * CLIENTS) startAudit!();
      }
    };
    const desks = Array.from({ length: CLIENTS }, (_, n) => desk(n));
    await ready;
    const rolled = await audit(w.property.id, '2031-03-09T08:00:30Z');
    stop = true;
    await Promise.all(desks);
    expect(rolled.rolled).toBe(true);
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.map((r) => r.body.code)).toEqual(refused.map(() => 'ARRIVAL_IN_PAST'));
    expect(created.length).toBeGreaterThanOrEqual(2 * CLIENTS);
    // After it, the closed day is not sold any more.
    const late = await call(t.app, 'POST', '/api/reservations/create/', {
      token: w.admin.token,
      body: {
        property_id: w.property.id,
        check_in: '2031-03-08',
        check_out: '2031-03-09',
        guest: { full_name: 'Too late' },
        rooms: [{ room_type_id: w.roomType.id }],
      },
    });
    expect(late.body.code).toBe('ARRIVAL_IN_PAST');
    const left = await t.db
      .selectFrom('reservation')
      .select(['id', 'status'])
      .where('property_id', '=', w.property.id)
      .where('check_in', '=', '2031-03-08')
      .execute();
    // No reservation of the closed day is still expected: the audit marked every booking that landed.
    expect(left.filter((r) => r.status !== 'no_show')).toEqual([]);
    expect(left).toHaveLength(created.length);
    expect(rolled.no_shows).toHaveLength(created.length);
    expect(await calendarNight(t, w as never, '2031-03-08')).toMatchObject({ booked_units: 0 });
    expect(await calendarNight(t, w as never, '2031-03-09')).toMatchObject({ booked_units: 0 });
    expect(await inventoryProblems(t.db, w.property.id)).toEqual([]);
  });
});

describe('running the night audit', () => {
  it('on demand through the API, for the property administrators, one at a time', async () => {
    const property = await createProperty(t.db, { timezone: 'Pacific/Kiritimati' });
    const roomType = await createRoomType(t.db, property.id, { totalUnits: 4 });
    const admin = await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [property.id] });
    const staff = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [property.id] });
    const url = `/api/properties/${property.id}/night-audit/`;
    expect((await call(t.app, 'POST', url, { token: staff.token })).status).toBe(403);
    const res = await call(t.app, 'POST', url, { token: admin.token });
    expect(res.status).toBe(200);
    const today = localDate('Pacific/Kiritimati');
    expect(res.body).toMatchObject({
      property_id: property.id,
      code: property.code,
      business_date_before: today,
      business_date: today,
      rolled: false,
      no_shows: [],
      // The room type was made outside the API, without nights: the horizon loads them.
      nights_created: t.config.inventoryHorizonDays,
    });
    const first = await t.db
      .selectFrom('inventory_calendar')
      .select((eb) => eb.fn.min('date').as('first'))
      .where('room_type_id', '=', roomType.id)
      .executeTakeFirstOrThrow();
    expect(first.first).toBe(today);
    const audits = await call(t.app, 'GET', `/api/audit/?property_id=${property.id}&entity_type=property`, {
      token: admin.token,
    });
    expect(audits.body.results[0]).toMatchObject({ action: 'property.night_audit', actor_id: admin.id });

    // While another audit of the hotel runs (here: holds its lock), a second one says so and does nothing.
    const other = new pg.Client({ connectionString: t.databaseUrl });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`night_audit:${property.id}`]);
      const busy = await call(t.app, 'POST', url, { token: admin.token });
      expect(busy.status).toBe(409);
      expect(busy.body.code).toBe('NIGHT_AUDIT_RUNNING');
    } finally {
      await other.end();
    }
  });

  it('from the CLI (`pms night-audit --property ID`), with a line per property', async () => {
    const timezone = 'America/Los_Angeles';
    const today = localDate(timezone);
    const property = await createProperty(t.db, { timezone });
    const roomType = await createRoomType(t.db, property.id, { totalUnits: 3 });
    const admin = await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [property.id] });
    // The hotel's audit did not run yesterday: a guest due yesterday never came.
    await setBusinessDate(t.db, property.id, addDays(today, -1));
    await call(t.app, 'POST', '/api/inventory/preload/', {
      token: admin.token,
      body: { property_id: property.id, start_date: addDays(today, -1), end_date: addDays(today, 3) },
    });
    await call(t.app, 'POST', '/api/reservations/create/', {
      token: admin.token,
      body: {
        property_id: property.id,
        check_in: addDays(today, -1),
        check_out: addDays(today, 1),
        guest: { full_name: 'Never came' },
        rooms: [{ room_type_id: roomType.id, complimentary: true }],
      },
    });
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pms-night-audit-'));
    try {
      const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [path.join(root, 'bin/pms.js'), 'night-audit', ...args], {
          cwd: root,
          encoding: 'utf8',
          timeout: 60_000,
          env: {
            ...process.env,
            DATABASE_URL: t.databaseUrl,
            PMS_DATA_DIR: dataDir,
            JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
            PMS_SECRETS_KEY: 'a'.repeat(64),
            LOG_LEVEL: 'warn',
            INVENTORY_HORIZON_DAYS: '10',
          },
        });
      const result = run('--property', property.id);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toContain(
        `[1/1] ${property.code}: business date ${today} (rolled from ${addDays(today, -1)}), 1 no-show(s), ` +
          `6 night(s) created`,
      );
      expect(result.stdout).toMatch(/Done: 1 property audited, 1 rolled, 1 no-show\(s\), 0 failed/);
      expect(await businessDate(property.id)).toBe(today);
      const bad = run('--property', 'not-a-uuid');
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toContain('expected a property id');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('on schedule in the worker role, which audits what is due as it starts', async () => {
    const property = await createProperty(t.db, { timezone: 'Pacific/Kiritimati' });
    const today = localDate('Pacific/Kiritimati');
    await setBusinessDate(t.db, property.id, addDays(today, -2));
    const deps = workerDeps(t, { ...t.config, inventoryHorizonDays: 5 });
    const stop = await startNightAuditWorker(deps);
    try {
      expect(await businessDate(property.id)).toBe(today);
    } finally {
      await stop();
      await deps.jobs.stop();
    }
    // runNightAudit only takes the properties whose day is over: now none of them.
    const { audited } = await runNightAudit(t.db, LOCK, { horizonDays: 5, propertyId: property.id });
    expect(audited).toEqual([]);
  });
});

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERASED_COLUMNS, NOT_GUEST_DATA, SWEPT_COLUMNS } from '../../src/modules/guests/guest.data-map.ts';
import { bookingWorld } from '../booking/world.ts';
import { call, createTestContext, LOOPBACK_EGRESS, type TestContext } from '../helpers/context.ts';
import { createProperty, createRoomType, userWithToken } from '../helpers/factories.ts';
import { type AcmeRecord, book, connectAcme, profileOfReservation, startAcmeStub } from './world.ts';

/**
 * The right to erasure, end to end: a guest with distinctive values books directly and through a
 * PMS (one of its records quarantined), its bookings change, its profile is edited and merged,
 * events and audit entries are written; then it is erased. Every text and JSON column of every
 * table of the database is searched for each value: none may remain, while reservations, amounts,
 * the calendar and the ledger are exactly as before, and a bystander's data is untouched.
 */

const GUEST = {
  first: 'Quorithea',
  last: 'Vandermolenix',
  email: 'Quorithea.Vandermolenix@erasure-test.example',
  phone: '+41 79 555 83 21',
  notes: 'Allergic to kumquats',
  pmsNotes: 'Arrives by zeppelin',
};
/** What must not remain anywhere, searched case-insensitively. */
const DISTINCTIVE = [
  GUEST.first,
  GUEST.last,
  GUEST.email,
  'quorithea.vandermolenix',
  GUEST.phone,
  '41795558321',
  'kumquats',
  'zeppelin',
];
const BYSTANDER = { full_name: 'Bystander Boris', email: 'boris.bystander@erasure-test.example' };

let t: TestContext;
let superToken: string;
let stub: Awaited<ReturnType<typeof startAcmeStub>>;

/** Every text, JSON and array column of every table, in every schema but the system's own. */
async function textColumns(): Promise<Array<{ schema: string; table: string; column: string }>> {
  const result = await sql<{ schema: string; table: string; column: string }>`
    SELECT c.table_schema AS schema, c.table_name AS table, c.column_name AS column
    FROM information_schema.columns c
    JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
    WHERE tb.table_type = 'BASE TABLE'
      AND c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.table_schema NOT LIKE 'pg_toast%'
      AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'USER-DEFINED'))
    ORDER BY 1, 2, 3`.execute(t.db);
  return result.rows;
}

/** Where each value is stored: `schema.table.column` → the values found in it. */
async function whereStored(values: string[]): Promise<Record<string, string[]>> {
  const found: Record<string, string[]> = {};
  for (const { schema, table, column } of await textColumns()) {
    const ref = sql.ref(`t.${column}`);
    const hits = await sql<{ value: string }>`
      SELECT DISTINCT v.value FROM ${sql.table(`${schema}.${table}`)} AS t
      CROSS JOIN unnest(${values}::text[]) AS v(value)
      WHERE ${ref}::text ILIKE '%' || v.value || '%'`.execute(t.db);
    if (hits.rows.length > 0) found[`${schema}.${table}.${column}`] = hits.rows.map((r) => r.value).sort();
  }
  return found;
}

/** What erasure must not change: reservations, money, the calendar, the ledger, and how many of each record. */
async function counts() {
  const result = await sql<Record<string, string>>`
    SELECT
      (SELECT string_agg(concat_ws(':', id, status, check_in, check_out, total_amount, currency, version, guest_id),
        ',' ORDER BY id) FROM reservation) AS reservations,
      (SELECT count(*) || '/' || sum(check_out - check_in) || '/' || sum(total_amount) FROM reservation) AS totals,
      (SELECT string_agg(concat_ws(':', id, room_type_id, amount, nightly_prices::text), ',' ORDER BY id)
        FROM reservation_room) AS rooms,
      (SELECT string_agg(concat_ws(':', room_type_id, date, total_units, booked_units, held_units, overbooked_units),
        ',' ORDER BY room_type_id, date) FROM inventory_calendar) AS calendar,
      (SELECT count(*) || '/' || sum(delta) FROM inventory_ledger) AS ledger,
      (SELECT count(*) FROM guest) || '/' || (SELECT count(*) FROM guest_profile) AS guests,
      (SELECT count(*) FROM ingestion_error) AS quarantined,
      (SELECT count(*) FROM outbox_event WHERE type <> 'pms.guest.erased') AS events,
      (SELECT count(*) FROM audit_log WHERE action <> 'guest_profile.erased') AS audits,
      (SELECT count(*) FROM idempotency_key) AS idempotency,
      (SELECT count(*) FROM inventory_hold) AS holds`.execute(t.db);
  return result.rows[0];
}

beforeAll(async () => {
  t = await createTestContext({ env: LOOPBACK_EGRESS });
  superToken = (await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' })).token;
  stub = await startAcmeStub();
});
afterAll(async () => {
  await stub?.close();
  await t?.close();
});

describe('erasing a guest on request', () => {
  it('leaves none of its values in any column of any table, and every count as it was', async () => {
    // Hotel A: direct bookings.
    const a = await bookingWorld(t);
    const contact = {
      first_name: GUEST.first,
      last_name: GUEST.last,
      email: GUEST.email,
      phone: GUEST.phone,
    };
    const stay = await book(
      t,
      a.staff.token,
      a,
      contact,
      { notes: GUEST.notes },
      { 'idempotency-key': 'erasure-direct-1' },
    );
    const cancelled = await book(t, a.staff.token, a, contact, {
      check_in: '2031-03-15',
      check_out: '2031-03-16',
    });
    const step = async (method: 'POST' | 'PATCH', url: string, body?: unknown) => {
      const res = await call(t.app, method, url, { token: a.admin.token, body });
      expect(res.status, `${url}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
    };
    await step('POST', `/api/reservations/${stay.id}/modify/`, { check_out: '2031-03-13' });
    await step('PATCH', `/api/reservations/${stay.id}/`, {
      notes: `${GUEST.notes}; no kumquats at breakfast`,
    });
    await step('POST', `/api/reservations/${cancelled.id}/cancel/`);
    await step('POST', '/api/inventory/holds/', {
      room_type_id: a.roomType.id,
      check_in: '2031-03-20',
      check_out: '2031-03-21',
      units: 1,
      reference: `cart of ${GUEST.email}`,
    });
    // The same guest by phone only: a second profile, merged into the first below.
    const byPhone = await book(t, a.staff.token, a, {
      full_name: `${GUEST.first} V.`,
      phone: '0041795558321',
    });
    const bystander = await book(t, a.staff.token, a, BYSTANDER, { notes: 'Bystander notes stay' });

    // Hotel B: imported from its PMS, one record quarantined (again at each sync), then changed at the PMS.
    const b = await createProperty(t.db, { name: 'Imported Hotel' });
    await createRoomType(t.db, b.id, { code: 'STD', totalUnits: 20 });
    const preload = await call(t.app, 'POST', '/api/inventory/preload/', {
      token: superToken,
      body: { property_id: b.id, start_date: '2031-03-01', end_date: '2031-03-31' },
    });
    expect(preload.status).toBe(200);
    const sync = await connectAcme(t, superToken, b.id, stub.url);
    const record = (id: number, fields: Partial<AcmeRecord>): AcmeRecord => ({
      id,
      state: 'BOOKED',
      arrival: '2031-03-05',
      departure: '2031-03-08',
      guest: {
        first: GUEST.first,
        last: GUEST.last,
        contact: { email: ` ${GUEST.email.toUpperCase()} `, phone: GUEST.phone },
      },
      room: { category: 'std' },
      price: { total: '450.00', currency: 'EUR' },
      comment: GUEST.pmsNotes,
      updated: '2030-06-01T10:00:00Z',
      ...fields,
    });
    stub.records.push(record(501, {}), record(502, { arrival: '2031-02-30', departure: '2031-03-02' }));
    expect(await sync()).toMatchObject({ created: 1, quarantined: 1 });
    stub.records[0] = record(501, { departure: '2031-03-09', updated: '2030-06-02T10:00:00Z' });
    expect(await sync()).toMatchObject({ updated: 1 });

    // The profile: edited, and its duplicate merged into it.
    const profileId = await profileOfReservation(t, stay.id);
    const duplicateId = await profileOfReservation(t, byPhone.id);
    const imported = await t.db
      .selectFrom('reservation')
      .select('id')
      .where('property_id', '=', b.id)
      .executeTakeFirstOrThrow();
    expect(await profileOfReservation(t, imported.id)).toBe(profileId);
    const edit = await call(t.app, 'PATCH', `/api/guests/${profileId}/`, {
      token: superToken,
      body: { full_name: `${GUEST.first} ${GUEST.last}-Smith` },
    });
    expect(edit.status).toBe(200);
    const merge = await call(t.app, 'POST', `/api/guests/${profileId}/merge/`, {
      token: superToken,
      body: { duplicate_id: duplicateId },
    });
    expect(merge.status, JSON.stringify(merge.body)).toBe(200);

    // Before: the values are where this system keeps them (so the search below can find them).
    const before = await whereStored(DISTINCTIVE);
    for (const place of [
      'public.guest.email',
      'public.guest_profile.full_name',
      'public.guest_profile_key.key',
      'public.reservation.notes',
      'public.outbox_event.envelope',
      'public.audit_log.diff',
      'public.idempotency_key.response_body',
      'public.ingestion_error.raw',
      'public.inventory_hold.reference',
    ]) {
      expect(Object.keys(before), place).toContain(place);
    }
    const bystanderBefore = await whereStored([BYSTANDER.full_name, BYSTANDER.email, 'Bystander notes stay']);
    const countsBefore = await counts();

    const erased = await call(t.app, 'POST', `/api/guests/${profileId}/erase/`, { token: superToken });
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);
    expect(erased.body.erased).toMatchObject({ guest_rows: 4, reservations: 2, quarantined_records: 2 });
    expect(erased.body.guest).toMatchObject({ id: profileId, erased: true, full_name: null, stay_count: 4 });

    expect(await whereStored(DISTINCTIVE)).toEqual({});
    expect(await counts()).toEqual(countsBefore);
    expect(await whereStored([BYSTANDER.full_name, BYSTANDER.email, 'Bystander notes stay'])).toEqual(
      bystanderBefore,
    );
    expect(
      (await call(t.app, 'GET', `/api/reservations/${bystander.id}/`, { token: superToken })).body,
    ).toMatchObject({
      notes: 'Bystander notes stay',
      guest: { email: BYSTANDER.email },
    });

    // Audited and announced once per hotel, with ids and counts only.
    const announced = await t.db
      .selectFrom('outbox_event')
      .select(['property_id', 'envelope'])
      .where('type', '=', 'pms.guest.erased')
      .orderBy('property_id')
      .execute();
    const reservationsAt = (propertyId: string) =>
      t.db
        .selectFrom('reservation as r')
        .innerJoin('guest as g', 'g.id', 'r.guest_id')
        .select('r.id')
        .where('g.profile_id', '=', profileId)
        .where('r.property_id', '=', propertyId)
        .orderBy('r.id')
        .execute();
    expect(announced.map((e) => [e.property_id, (e.envelope as any).data])).toEqual(
      expect.arrayContaining([
        [
          a.property.id,
          {
            guest_id: profileId,
            reservation_ids: (await reservationsAt(a.property.id)).map((r) => r.id),
            erased_at: expect.any(String),
          },
        ],
        [b.id, { guest_id: profileId, reservation_ids: [imported.id], erased_at: expect.any(String) }],
      ]),
    );
    expect(announced).toHaveLength(2);
    const audits = await t.db
      .selectFrom('audit_log')
      .select(['property_id', 'diff'])
      .where('action', '=', 'guest_profile.erased')
      .execute();
    expect(audits.map((row) => row.property_id).sort()).toEqual([a.property.id, b.id].sort());

    // The PMS still has the guest and changes the booking: the booking stays erased here. (The bad
    // record is gone from the PMS: one it sent again would be quarantined anew, as new data.)
    stub.records.splice(1);
    stub.records[0] = record(501, { departure: '2031-03-10', updated: '2030-06-03T10:00:00Z' });
    expect(await sync()).toMatchObject({ updated: 1 });
    expect(await whereStored(DISTINCTIVE)).toEqual({});
  });

  it('knows every text, JSON and array column of the schema: erased, swept, or why it holds no guest data', async () => {
    const columns = (await textColumns())
      .filter((c) => c.schema === 'public')
      .map((c) => `${c.table}.${c.column}`);
    const known = new Set([...Object.keys(ERASED_COLUMNS), ...SWEPT_COLUMNS, ...Object.keys(NOT_GUEST_DATA)]);
    expect(
      columns.filter((column) => !known.has(column)),
      'columns to place in src/modules/guests/guest.data-map.ts',
    ).toEqual([]);
    expect(
      [...known].filter((column) => !columns.includes(column)),
      'entries of guest.data-map.ts for columns that no longer exist',
    ).toEqual([]);
  });
});

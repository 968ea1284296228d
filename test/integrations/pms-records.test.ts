import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, todayIn } from '../../src/app/dates.ts';
import type { RoomType } from '../../src/db/schema.ts';
import { inventoryProblems } from '../booking/invariants.ts';
import { call, createTestContext, LOOPBACK_EGRESS, type TestContext } from '../helpers/context.ts';
import { createProperty, createRoomType, unique, userWithToken } from '../helpers/factories.ts';

/**
 * Config format v2, the records half, end to end: configs uploaded through the API, a real PMS
 * answering over HTTP on 127.0.0.1, syncs through the API into real PostgreSQL. Joins, grouped and
 * nested rooms, the hotel's value maps, hotel-local dates, and the reconciliation of bookings the
 * PMS no longer lists; the calendar is checked against the ledger and the bookings after each step.
 */

let t: TestContext;
let token: string;
let server: Server;
let baseUrl: string;
/** What the PMS answers, by path: a test sets it, the server serves it. */
const answers = new Map<string, unknown>();

beforeAll(async () => {
  t = await createTestContext({ env: LOOPBACK_EGRESS });
  token = (await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' })).token;
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://pms');
    const page = Number(url.searchParams.get('pageNumber') ?? '1');
    const body = answers.get(url.pathname);
    if (body === undefined || req.headers['x-token'] !== 'test-token') {
      res.writeHead(body === undefined ? 404 : 401).end();
      return;
    }
    // Paged listings answer their records on page 1 and an empty page after; an incremental one
    // lists what changed strictly after `since`.
    let answer = url.searchParams.has('pageNumber') && page > 1 ? { ...(body as object), data: [] } : body;
    const since = url.searchParams.get('since');
    if (since !== null) {
      const items = (answer as { items: Array<{ updated: string }> }).items;
      answer = { items: items.filter((item) => item.updated > since) };
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await t?.close();
});

async function uploadConfig(config: Record<string, unknown>) {
  const res = await call(t.app, 'POST', '/api/integrations/pms/configs/', { token, body: config });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

interface Hotel {
  propertyId: string;
  types: Record<string, RoomType>;
}

async function hotel(
  config: { pms_type: string; version: string },
  timezone: string,
  valueMaps?: Record<string, Record<string, string>>,
): Promise<Hotel> {
  const property = await createProperty(t.db, { timezone });
  const types: Record<string, RoomType> = {};
  for (const code of ['DBL', 'STE'])
    types[code] = await createRoomType(t.db, property.id, { code, totalUnits: 3 });
  const res = await call(t.app, 'PUT', `/api/integrations/pms/connections/${property.id}/`, {
    token,
    body: {
      pms_type: config.pms_type,
      version: config.version,
      base_url: baseUrl,
      hotel_external_id: unique('H'),
      secrets: { token: 'test-token' },
      ...(valueMaps ? { value_maps: valueMaps } : {}),
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { propertyId: property.id, types };
}

async function sync(h: Hotel, body: Record<string, unknown> = {}) {
  const res = await call(t.app, 'POST', '/api/integrations/pms/sync/', {
    token,
    body: { property_id: h.propertyId, wait: true, ...body },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Imported units (booked plus overbooked) by room type code and night. */
async function calendar(h: Hotel): Promise<Record<string, number>> {
  const codes = new Map(Object.entries(h.types).map(([code, rt]) => [rt.id, code]));
  const rows = await t.db
    .selectFrom('inventory_calendar')
    .select(['room_type_id', 'date', 'booked_units', 'overbooked_units'])
    .where('property_id', '=', h.propertyId)
    .orderBy('room_type_id')
    .orderBy('date')
    .execute();
  const units: Record<string, number> = {};
  for (const row of rows) {
    const total = row.booked_units + row.overbooked_units;
    if (total > 0) units[`${codes.get(row.room_type_id)} ${row.date}`] = total;
  }
  return Object.fromEntries(Object.entries(units).sort());
}

async function errors(runId: string) {
  const res = await call(t.app, 'GET', `/api/integrations/pms/errors/?sync_run_id=${runId}`, { token });
  return (res.body.results as Array<Record<string, any>>).sort((a, b) =>
    String(a.external_id).localeCompare(String(b.external_id)),
  );
}

async function bookings(h: Hotel) {
  const res = await call(
    t.app,
    'GET',
    `/api/integrations/pms/bookings/?property_id=${h.propertyId}&limit=100`,
    {
      token,
    },
  );
  return (res.body.results as Array<Record<string, any>>).sort((a, b) =>
    a.external_id.localeCompare(b.external_id),
  );
}

const MEWS = {
  pms_type: 'mewsrec',
  version: 't1',
  source: {
    request: { path: '/mews/reservations', headers: { 'x-token': '{secret.token}' } },
    records: '$.Reservations[*]',
  },
  joins: { customer: { items: '$.Customers[*]', key: '$.Id', on: '$.AccountId', required: true } },
  field_mappings: {
    external_id: { path: '$.GroupId' },
    status: { path: '$.State', transform: 'map_status' },
    check_in: { path: '$.StartUtc', transform: { name: 'local_date', timezone: 'property' } },
    check_out: { path: '$.EndUtc', transform: { name: 'local_date' } },
    'guest.first_name': { from: 'customer', path: '$.FirstName' },
    'guest.last_name': { from: 'customer', path: '$.LastName' },
    'guest.email': { from: 'customer', path: '$.Email', transform: 'lower' },
    currency: { path: '$.Amount.Currency' },
    source_updated_at: { path: '$.UpdatedUtc', transform: 'parse_datetime' },
  },
  rooms: {
    mode: 'grouped',
    field_mappings: {
      external_id: { path: '$.Id' },
      room_type_code: {
        path: '$.RequestedResourceCategoryId',
        transform: { name: 'value_map', map: 'room_types' },
      },
      rate_plan_code: {
        path: '$.RateId',
        transform: { name: 'value_map', map: 'rate_plans', default: null },
      },
      adults: { path: '$.AdultCount' },
      amount: { path: '$.Amount.GrossValue', transform: 'to_decimal' },
    },
  },
  status_mappings: {
    Confirmed: 'confirmed',
    Started: 'checked_in',
    Canceled: 'cancelled',
    Optional: 'tentative',
  },
  validation_rules: { fields: { 'rooms.adults': { type: 'integer', min: 1 } } },
};

/** A Mews reservation: one room of a group, its guest in the page's Customers list. */
const mewsRoom = (id: string, group: string, overrides: Record<string, unknown> = {}) => ({
  Id: id,
  GroupId: group,
  State: 'Confirmed',
  // 00:30 local time in Berlin on the 25th, still the 24th in UTC; departure after the DST change.
  StartUtc: '2031-10-24T22:30:00Z',
  EndUtc: '2031-10-27T09:00:00Z',
  AccountId: 'c1',
  RequestedResourceCategoryId: 'cat-dbl',
  RateId: 'rate-flex',
  AdultCount: 2,
  Amount: { Currency: 'EUR', GrossValue: 210.5 },
  UpdatedUtc: '2031-01-01T10:00:00Z',
  ...overrides,
});

describe('a grouped PMS (one record per room) with a customers side list, per-hotel value maps and UTC instants', () => {
  beforeAll(() => uploadConfig(MEWS));
  it('imports a 3-room group as one booking, then follows one room cancelled and one moved; quarantines what it cannot read until the hotel fixes its map', async () => {
    const refused = await call(
      t.app,
      'PUT',
      `/api/integrations/pms/connections/${(await createProperty(t.db)).id}/`,
      {
        token,
        body: {
          pms_type: 'mewsrec',
          version: 't1',
          base_url: baseUrl,
          hotel_external_id: 'X',
          secrets: { token: 'test-token' },
          value_maps: { room_types: {} },
        },
      },
    );
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      {
        pointer: '/body/value_maps/rate_plans',
        message:
          "is required: the PMS config's value_map at /rooms/field_mappings/rate_plan_code/transform reads it",
      },
    ]);

    const h = await hotel(MEWS, 'Europe/Berlin', {
      room_types: { 'cat-dbl': 'DBL', 'cat-ste': 'STE' },
      rate_plans: { 'rate-flex': 'FLEX' },
    });
    const reservations = [
      mewsRoom('r1', 'G1'),
      mewsRoom('r2', 'G1'),
      mewsRoom('r3', 'G1', { RequestedResourceCategoryId: 'cat-ste', AccountId: 'c2' }),
      mewsRoom('r4', 'G2', { AccountId: 'nobody' }),
      mewsRoom('r5', 'G3', { RequestedResourceCategoryId: 'cat-new' }),
      mewsRoom('r6', 'G4', { AdultCount: 0 }),
    ];
    const customers = [
      { Id: 'c1', FirstName: 'Ada', LastName: 'Lovelace', Email: 'ADA@example.com' },
      { Id: 'c2', FirstName: 'Grace', LastName: 'Hopper', Email: 'grace@example.com' },
    ];
    answers.set('/mews/reservations', { Reservations: reservations, Customers: customers });

    const first = await sync(h);
    expect(first).toMatchObject({
      status: 'partial',
      fetched: 6,
      created: 3,
      updated: 0,
      unchanged: 0,
      quarantined: 3,
    });
    const nights = { '2031-10-25': 2, '2031-10-26': 2 };
    expect(await calendar(h)).toEqual({
      'DBL 2031-10-25': 2,
      'DBL 2031-10-26': 2,
      'STE 2031-10-25': 1,
      'STE 2031-10-26': 1,
    });
    expect(Object.keys(nights)).toHaveLength(2);
    expect(await inventoryProblems(t.db, h.propertyId)).toEqual([]);
    const [g1] = await bookings(h);
    expect(g1).toMatchObject({
      external_id: 'G1',
      status: 'confirmed',
      check_in: '2031-10-25',
      check_out: '2031-10-27',
      guest: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com' },
      total_amount: '631.50',
      rate_plan_code: 'FLEX',
    });
    expect(
      g1!.rooms.map((r: any) => [r.external_id, r.room_type_code, r.adults, r.amount, r.holds_inventory]),
    ).toEqual([
      ['r1', 'DBL', 2, '210.50', true],
      ['r2', 'DBL', 2, '210.50', true],
      ['r3', 'STE', 2, '210.50', true],
    ]);
    expect(
      (await errors(first.id)).map((e) => [e.external_id, e.stage, e.error_type, e.field, e.message]),
    ).toEqual([
      [
        'G2',
        'mapping',
        'PMSMappingError',
        'joins.customer',
        'joins.customer: no item of $.Customers[*] has $.Id "nobody" (the record\'s $.AccountId; the join is required)',
      ],
      [
        'G3',
        'mapping',
        'PMSMappingError',
        'rooms[0].room_type_code',
        'rooms[0].room_type_code: value map "room_types" of this hotel\'s connection has no entry for "cat-new"; add it and replay',
      ],
      [
        'G4',
        'field_rules',
        'PMSDataValidationError',
        'rooms[0].adults',
        'rooms[0].adults: must be at least 1',
      ],
    ]);

    // At the PMS, r2 is cancelled and r3 moves to a double room.
    reservations[1] = mewsRoom('r2', 'G1', { State: 'Canceled', UpdatedUtc: '2031-01-02T10:00:00Z' });
    reservations[2] = mewsRoom('r3', 'G1', { AccountId: 'c2', UpdatedUtc: '2031-01-02T10:00:00Z' });
    const second = await sync(h);
    expect(second).toMatchObject({ fetched: 6, created: 0, updated: 2, unchanged: 1, quarantined: 3 });
    expect(await calendar(h)).toEqual({ 'DBL 2031-10-25': 2, 'DBL 2031-10-26': 2 });
    expect(await inventoryProblems(t.db, h.propertyId)).toEqual([]);
    const [after] = await bookings(h);
    expect(after).toMatchObject({ status: 'confirmed', total_amount: '421.00' });
    expect(
      after!.rooms.map((r: any) => [r.external_id, r.status, r.room_type_code, r.holds_inventory]),
    ).toEqual([
      ['r1', 'confirmed', 'DBL', true],
      ['r2', 'cancelled', 'DBL', false],
      ['r3', 'confirmed', 'DBL', true],
    ]);

    // The hotel adds the missing category to its map and replays: G3 arrives, G2 still has no guest.
    const patch = await call(
      t.app,
      'PATCH',
      `/api/integrations/pms/connections/${h.propertyId}/value-maps/`,
      {
        token,
        body: { room_types: { 'cat-new': 'STE' } },
      },
    );
    expect(patch.status).toBe(200);
    expect(patch.body.value_maps.room_types).toEqual({
      'cat-dbl': 'DBL',
      'cat-ste': 'STE',
      'cat-new': 'STE',
    });
    const replay = await call(t.app, 'POST', '/api/integrations/pms/errors/replay/', {
      token,
      body: { property_id: h.propertyId, sync_run_id: second.id, wait: true },
    });
    expect(replay.body).toMatchObject({ trigger: 'replay', fetched: 3, created: 1, quarantined: 2 });
    expect(await calendar(h)).toEqual({
      'DBL 2031-10-25': 2,
      'DBL 2031-10-26': 2,
      'STE 2031-10-25': 1,
      'STE 2031-10-26': 1,
    });
    // A replay reads no page: the join of G2 is what its page had (nothing), kept with it.
    expect((await errors(replay.body.id)).map((e) => [e.external_id, e.field])).toEqual([
      ['G2', 'joins.customer'],
      ['G4', 'rooms[0].adults'],
    ]);
    expect(await inventoryProblems(t.db, h.propertyId)).toEqual([]);
  });

  it('replays a joined record with the guest its page had', async () => {
    const h = await hotel(MEWS, 'Pacific/Kiritimati', {
      room_types: { 'cat-dbl': 'DBL' },
      rate_plans: {},
    });
    // Kiritimati is UTC+14: 11:00 UTC on the 24th is already the 25th there.
    answers.set('/mews/reservations', {
      Reservations: [
        mewsRoom('k1', 'K1', {
          StartUtc: '2031-10-24T11:00:00Z',
          EndUtc: '2031-10-25T20:00:00Z',
          RequestedResourceCategoryId: 'cat-x',
        }),
      ],
      Customers: [{ Id: 'c1', FirstName: 'Katherine', LastName: 'Johnson' }],
    });
    const run = await sync(h);
    expect(run).toMatchObject({ quarantined: 1 });
    const [quarantined] = await errors(run.id);
    expect(quarantined).toMatchObject({ field: 'rooms[0].room_type_code' });
    // The PMS forgets the customer meanwhile: the replay still has the one the page had.
    answers.set('/mews/reservations', { Reservations: [], Customers: [] });
    await call(t.app, 'PATCH', `/api/integrations/pms/connections/${h.propertyId}/value-maps/`, {
      token,
      body: { room_types: { 'cat-x': 'DBL' } },
    });
    const replay = await call(t.app, 'POST', '/api/integrations/pms/errors/replay/', {
      token,
      body: { property_id: h.propertyId, wait: true },
    });
    expect(replay.body).toMatchObject({ created: 1, quarantined: 0 });
    expect(await bookings(h)).toMatchObject([
      { external_id: 'K1', check_in: '2031-10-25', check_out: '2031-10-26', guest: { last_name: 'Johnson' } },
    ]);
    expect(await calendar(h)).toEqual({ 'DBL 2031-10-25': 1 });
  });
});

const CLOUD = {
  pms_type: 'cloudrec',
  version: 't1',
  source: {
    request: {
      path: '/cb/getReservations',
      query: { propertyID: '{hotel.external_id}' },
      headers: { 'x-token': '{secret.token}' },
    },
    records: '$.data[*]',
    pagination: { type: 'page_number', param: 'pageNumber', start: 1 },
  },
  field_mappings: {
    external_id: { path: '$.reservationID' },
    status: { path: '$.status', transform: 'map_status' },
    check_in: { path: '$.startDate', transform: 'parse_date' },
    check_out: { path: '$.endDate', transform: 'parse_date' },
    'guest.full_name': { path: '$.guestName' },
    total_amount: { path: '$.total', transform: 'to_decimal' },
    source_updated_at: {
      path: '$.dateModified',
      transform: { name: 'parse_datetime', format: 'yyyy-MM-dd HH:mm:ss', timezone: 'property' },
    },
  },
  rooms: {
    mode: 'nested',
    path: '$.rooms[*]',
    field_mappings: {
      external_id: { path: '$.subReservationID' },
      room_type_code: { path: '$.roomTypeID', transform: { name: 'value_map', map: 'room_types' } },
      adults: { path: '$.adults', transform: 'to_int' },
      children: { path: '$.children', transform: 'to_int', default: 0 },
      amount: { path: '$.roomTotal', transform: 'to_decimal' },
      check_in: { path: '$.startDate', transform: 'parse_date' },
      check_out: { path: '$.endDate', transform: 'parse_date' },
    },
  },
  status_mappings: { confirmed: 'confirmed', canceled: 'cancelled', checked_in: 'checked_in' },
  validation_rules: { business_rules: [{ rule: 'room_type_known' }] },
};

const cloudRoom = (id: string, type: string) => ({
  subReservationID: id,
  roomTypeID: type,
  adults: '2',
  children: '0',
  roomTotal: '300.00',
  startDate: '2031-06-10',
  endDate: '2031-06-13',
});

describe('a PMS with the rooms of a booking nested in it', () => {
  beforeAll(() => uploadConfig(CLOUD));
  it('holds every room of a 3-room booking, then releases the room cancelled at the PMS and moves the room whose type changed: calendar = ledger, exact counts', async () => {
    const h = await hotel(CLOUD, 'America/New_York', { room_types: { '101': 'DBL', '102': 'STE' } });
    const booking = (rooms: unknown[], modified: string) => ({
      reservationID: 'B1',
      status: 'confirmed',
      startDate: '2031-06-10',
      endDate: '2031-06-13',
      guestName: 'Ada Lovelace',
      total: '900.00',
      dateModified: modified,
      rooms,
    });
    const bad = [
      { ...booking('oops' as never, '2031-01-01 09:00:00'), reservationID: 'BAD1', rooms: 'oops' },
      { ...booking([cloudRoom('x1', '101'), 7], '2031-01-01 09:00:00'), reservationID: 'BAD2' },
      {
        ...booking([{ ...cloudRoom('x3', '101'), endDate: '2031-06-12' }], '2031-01-01 09:00:00'),
        reservationID: 'BAD3',
      },
      { ...booking([cloudRoom('x4', '999')], '2031-01-01 09:00:00'), reservationID: 'BAD4' },
    ];
    const three = [cloudRoom('s1', '101'), cloudRoom('s2', '101'), cloudRoom('s3', '102')];
    answers.set('/cb/getReservations', {
      success: true,
      data: [booking(three, '2031-01-01 09:00:00'), ...bad],
    });
    const first = await sync(h);
    expect(first).toMatchObject({ status: 'partial', pages: 1, fetched: 5, created: 1, quarantined: 4 });
    const stay = (units: Record<string, number>) =>
      Object.fromEntries(
        Object.entries(units).flatMap(([code, n]) =>
          ['2031-06-10', '2031-06-11', '2031-06-12'].map((d) => [`${code} ${d}`, n]),
        ),
      );
    expect(await calendar(h)).toEqual(stay({ DBL: 2, STE: 1 }));
    expect(await inventoryProblems(t.db, h.propertyId)).toEqual([]);
    expect((await errors(first.id)).map((e) => [e.external_id, e.stage, e.field, e.message])).toEqual([
      ['BAD1', 'mapping', 'rooms', 'rooms: $.rooms is text "oops", not a list of rooms'],
      ['BAD2', 'mapping', 'rooms[1]', 'rooms[1]: is a number, not a room object'],
      [
        'BAD3',
        'business_rules',
        'rooms[0].check_out',
        'rooms[0].check_out: room 0 stays 2031-06-10 → 2031-06-12, the booking 2031-06-10 → 2031-06-13: the rooms of one booking share its stay here',
      ],
      [
        'BAD4',
        'mapping',
        'rooms[0].room_type_code',
        'rooms[0].room_type_code: value map "room_types" of this hotel\'s connection has no entry for "999"; add it and replay',
      ],
    ]);
    const [b1] = await bookings(h);
    // The PMS's naive "2031-01-01 09:00:00" is New York time.
    expect(b1).toMatchObject({ source_updated_at: '2031-01-01T14:00:00.000Z', total_amount: '900.00' });
    const rowIds = async () =>
      (
        await t.db
          .selectFrom('pms_booking_room as p')
          .innerJoin('reservation_room as rr', 'rr.id', 'p.reservation_room_id')
          .select(['p.room_key', 'rr.id', 'rr.room_type_id'])
          .where('p.property_id', '=', h.propertyId)
          .orderBy('p.room_key')
          .execute()
      ).map((r) => [r.room_key, r.id, r.room_type_id]);
    const before = await rowIds();
    expect(before).toHaveLength(3);

    // s2 is cancelled at the PMS (it leaves the booking's rooms).
    answers.set('/cb/getReservations', {
      success: true,
      data: [booking([three[0], three[2]], '2031-01-02 09:00:00')],
    });
    const second = await sync(h);
    expect(second).toMatchObject({ status: 'succeeded', fetched: 1, updated: 1, created: 0, unchanged: 0 });
    expect(await calendar(h)).toEqual(stay({ DBL: 1, STE: 1 }));
    expect(await rowIds()).toEqual([before[0], before[2]]);
    expect(await inventoryProblems(t.db, h.propertyId)).toEqual([]);

    // s3 changes from STE to DBL: its nights move, its row stays.
    answers.set('/cb/getReservations', {
      success: true,
      data: [booking([three[0], cloudRoom('s3', '101')], '2031-01-03 09:00:00')],
    });
    expect(await sync(h)).toMatchObject({ updated: 1 });
    expect(await calendar(h)).toEqual(stay({ DBL: 2 }));
    expect(await rowIds()).toEqual([before[0], [before[2]![0], before[2]![1], h.types.DBL!.id]]);
    expect(await inventoryProblems(t.db, h.propertyId)).toEqual([]);

    // The same answer again changes nothing.
    expect(await sync(h)).toMatchObject({ fetched: 1, updated: 0, unchanged: 1 });
    const ledger = await t.db
      .selectFrom('inventory_ledger')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .where('property_id', '=', h.propertyId)
      .executeTakeFirstOrThrow();
    expect(await sync(h)).toMatchObject({ unchanged: 1 });
    expect(
      await t.db
        .selectFrom('inventory_ledger')
        .select(({ fn }) => fn.countAll<number>().as('n'))
        .where('property_id', '=', h.propertyId)
        .executeTakeFirstOrThrow(),
    ).toEqual(ledger);
  });
});

describe('reconciliation of bookings the PMS no longer lists', () => {
  const RECON = {
    pms_type: 'reconrec',
    version: 't1',
    source: {
      request: { path: '/recon/list', headers: { 'x-token': '{secret.token}' } },
      records: '$.items[*]',
    },
    field_mappings: {
      external_id: { path: '$.id' },
      status: { path: '$.status', transform: 'map_status' },
      check_in: { path: '$.arrival', transform: 'parse_date' },
      check_out: { path: '$.departure', transform: 'parse_date' },
      room_type_code: { path: '$.type' },
      'guest.full_name': { path: '$.name' },
    },
    status_mappings: { ok: 'confirmed', gone: 'cancelled' },
    reconciliation: { window_days: 30, action: 'cancel', max_share: 0.5 },
  };
  beforeAll(() => uploadConfig(RECON));

  it('cancels what a full listing no longer returns (nights released, event, audit, listed), and holds back on a listing that looks broken', async () => {
    const h = await hotel(RECON, 'Europe/Berlin');
    const today = todayIn('Europe/Berlin');
    const item = (id: string, days: number) => ({
      id,
      status: 'ok',
      arrival: addDays(today, days),
      departure: addDays(today, days + 2),
      type: 'DBL',
      name: `Guest ${id}`,
    });
    const all = [item('A', 2), item('B', 3), item('C', 4), item('D', 5), item('LATER', 40)];
    answers.set('/recon/list', { items: all });
    const first = await sync(h);
    expect(first).toMatchObject({ created: 5, full_listing: false });
    expect(first.reconciliation).toEqual({
      window: { from: today, to: addDays(today, 30) },
      action: 'cancel',
      checked: 4,
      vanished: 0,
      cancelled: 0,
      held_back: null,
    });

    answers.set('/recon/list', { items: all.filter((b) => b.id !== 'B') });
    const second = await sync(h);
    expect(second.reconciliation).toMatchObject({ checked: 4, vanished: 1, cancelled: 1, held_back: null });
    const statuses = async () =>
      Object.fromEntries(
        (
          await t.db
            .selectFrom('reservation')
            .select(['external_id', 'status'])
            .where('property_id', '=', h.propertyId)
            .execute()
        ).map((r) => [r.external_id, r.status]),
      );
    expect(await statuses()).toEqual({
      A: 'confirmed',
      B: 'cancelled',
      C: 'confirmed',
      D: 'confirmed',
      LATER: 'confirmed',
    });
    expect(await inventoryProblems(t.db, h.propertyId)).toEqual([]);
    const listed = await call(t.app, 'GET', `/api/integrations/pms/vanished/?sync_run_id=${second.id}`, {
      token,
    });
    expect(listed.body.results).toMatchObject([
      { external_id: 'B', status_before: 'confirmed', action: 'cancelled', check_in: addDays(today, 3) },
    ]);
    const events = await t.db
      .selectFrom('outbox_event')
      .select('envelope')
      .where('property_id', '=', h.propertyId)
      .where('type', '=', 'pms.reservation.cancelled')
      .execute();
    expect(events.map((e) => (e.envelope as any).data)).toMatchObject([
      {
        reason: 'vanished_at_pms',
        reservation: { external_id: 'B', status: 'cancelled' },
        sync_run_id: second.id,
      },
    ]);
    const audit = await t.db
      .selectFrom('audit_log')
      .select(['action', 'diff'])
      .where('property_id', '=', h.propertyId)
      .where('action', '=', 'pms.reservation.vanished_cancelled')
      .execute();
    expect(audit).toHaveLength(1);

    // B comes back at the PMS, unchanged: it is whole again.
    answers.set('/recon/list', { items: all });
    const third = await sync(h);
    expect(third).toMatchObject({ updated: 1, unchanged: 4 });
    expect((await statuses()).B).toBe('confirmed');

    // A listing missing three of four bookings looks like a PMS fault: reported, nothing cancelled.
    answers.set('/recon/list', { items: [all[0], all[4]] });
    const fourth = await sync(h);
    expect(fourth.reconciliation).toMatchObject({ checked: 4, vanished: 3, cancelled: 0 });
    expect(fourth.reconciliation.held_back).toMatch(
      /3 of the window's 4 bookings are missing, more than max_share 0.5/,
    );
    expect(await statuses()).toEqual({
      A: 'confirmed',
      B: 'confirmed',
      C: 'confirmed',
      D: 'confirmed',
      LATER: 'confirmed',
    });
    const reported = await call(t.app, 'GET', `/api/integrations/pms/vanished/?sync_run_id=${fourth.id}`, {
      token,
    });
    expect(reported.body.results.map((r: any) => [r.external_id, r.action]).sort()).toEqual([
      ['B', 'reported'],
      ['C', 'reported'],
      ['D', 'reported'],
    ]);
    expect(await inventoryProblems(t.db, h.propertyId)).toEqual([]);
  });
});

describe('a full listing asked for on an incremental PMS', () => {
  it('reads every booking from the initial cursor and reconciles; an incremental run does not', async () => {
    const config = {
      pms_type: 'reconinc',
      version: 't1',
      source: {
        request: {
          path: '/recon-inc/list',
          query: { since: '{cursor}' },
          headers: { 'x-token': '{secret.token}' },
        },
        records: '$.items[*]',
        incremental: { cursor_path: '$.updated', cursor_format: 'iso8601', initial: '1970-01-01T00:00:00Z' },
      },
      field_mappings: {
        external_id: { path: '$.id' },
        status: { const: 'confirmed' },
        check_in: { path: '$.arrival', transform: 'parse_date' },
        check_out: { path: '$.departure', transform: 'parse_date' },
        room_type_code: { const: 'DBL' },
        source_updated_at: { path: '$.updated', transform: 'parse_datetime' },
      },
      reconciliation: { window_days: 10, action: 'cancel', max_share: 1 },
    };
    await uploadConfig(config);
    const h = await hotel(config, 'UTC');
    const today = todayIn('UTC');
    const items = ['A', 'B'].map((id, i) => ({
      id,
      arrival: addDays(today, i + 1),
      departure: addDays(today, i + 2),
      updated: `2031-01-0${i + 1}T00:00:00.000Z`,
    }));
    answers.set('/recon-inc/list', { items });
    const first = await sync(h);
    expect(first).toMatchObject({ created: 2, cursor_after: '2031-01-02T00:00:00.000Z' });
    expect(first.reconciliation).toMatchObject({ checked: 2, vanished: 0 });
    items.splice(1, 1);
    const incremental = await sync(h);
    expect(incremental).toMatchObject({ fetched: 0, full_listing: false, reconciliation: null });
    const full = await sync(h, { full: true });
    expect(full).toMatchObject({
      fetched: 1,
      unchanged: 1,
      full_listing: true,
      cursor_after: '2031-01-02T00:00:00.000Z',
    });
    expect(full.reconciliation).toMatchObject({ checked: 2, vanished: 1, cancelled: 1 });
    expect(await calendar(h)).toEqual({ [`DBL ${addDays(today, 1)}`]: 1 });
    expect(await inventoryProblems(t.db, h.propertyId)).toEqual([]);
  });
});

describe('the value maps of a connection', () => {
  beforeAll(async () => {
    const listed = await call(t.app, 'GET', '/api/integrations/pms/configs/', { token });
    if (!listed.body.results.some((c: any) => c.pms_type === CLOUD.pms_type)) await uploadConfig(CLOUD);
  });
  it('are replaced by PUT, merged by PATCH (RFC 7396), validated whole and audited; other hotels and staff cannot touch them', async () => {
    const h = await hotel(CLOUD, 'UTC', { room_types: { '101': 'DBL' } });
    const url = `/api/integrations/pms/connections/${h.propertyId}/value-maps/`;
    const merged = await call(t.app, 'PATCH', url, {
      token,
      body: { room_types: { '102': 'STE', '101': null }, statuses: { x: 'confirmed' } },
    });
    expect(merged.status).toBe(200);
    expect(merged.body.value_maps).toEqual({ room_types: { '102': 'STE' }, statuses: { x: 'confirmed' } });
    const removed = await call(t.app, 'PATCH', url, { token, body: { statuses: null } });
    expect(removed.body.value_maps).toEqual({ room_types: { '102': 'STE' } });
    // The config reads room_types: the map may be emptied, not removed.
    const required = await call(t.app, 'PATCH', url, { token, body: { room_types: null } });
    expect(required.status).toBe(400);
    expect(required.body.errors).toEqual([
      {
        pointer: '/body/room_types',
        message:
          "is required: the PMS config's value_map at /rooms/field_mappings/room_type_code/transform reads it",
      },
    ]);
    const badName = await call(t.app, 'PATCH', url, { token, body: { 'Room Types': {} } });
    expect(badName.status).toBe(400);
    const tooLong = await call(t.app, 'PATCH', url, { token, body: { room_types: { x: 'y'.repeat(201) } } });
    expect(tooLong.status).toBe(400);
    const connection = await call(t.app, 'GET', `/api/integrations/pms/connections/${h.propertyId}/`, {
      token,
    });
    expect(connection.body.value_maps).toEqual({ room_types: { '102': 'STE' } });

    const audit = await t.db
      .selectFrom('audit_log')
      .select(['action', 'diff'])
      .where('property_id', '=', h.propertyId)
      .where('action', '=', 'pms.connection.value_maps_updated')
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.diff)).toEqual([
      {
        value_maps: {
          room_types: { '101': ['DBL', null], '102': [null, 'STE'] },
          statuses: { x: [null, 'confirmed'] },
        },
      },
      { value_maps: { statuses: { x: ['confirmed', null], '(map)': 'removed' } } },
    ]);

    // A preview for the hotel maps with its own maps; without a hotel there are none.
    const sample = {
      reservationID: 'P1',
      status: 'confirmed',
      startDate: '2031-06-10',
      endDate: '2031-06-13',
      dateModified: '2031-01-01 09:00:00',
      rooms: [cloudRoom('p1', '102')],
    };
    const preview = async (property?: string) =>
      (
        await call(t.app, 'POST', '/api/integrations/pms/configs/preview/', {
          token,
          body: { config: CLOUD, records: [sample], ...(property ? { property_id: property } : {}) },
        })
      ).body;
    const seen = await preview(h.propertyId);
    expect(seen.results[0].booking?.rooms[0].room_type_code, JSON.stringify(seen)).toBe('STE');
    const blind = await preview();
    expect(blind.results[0].error.message).toMatch(
      /value map "room_types" is not set on this hotel's connection/,
    );
    expect(blind.warnings).toContain(
      'Without a property_id, value_map reads no value maps and timezone "property" is UTC.',
    );

    // Concurrent patches each add their entry: none is lost (the connection's row lock orders them).
    const keys = Array.from({ length: 16 }, (_, i) => `k${i}`);
    const answers16 = await Promise.all(
      keys.map((key) => call(t.app, 'PATCH', url, { token, body: { room_types: { [key]: 'DBL' } } })),
    );
    expect(answers16.map((a) => a.status)).toEqual(keys.map(() => 200));
    const all = await call(t.app, 'GET', `/api/integrations/pms/connections/${h.propertyId}/`, { token });
    expect(Object.keys(all.body.value_maps.room_types).sort()).toEqual(['102', ...keys].sort());
    const audited = await t.db
      .selectFrom('audit_log')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .where('property_id', '=', h.propertyId)
      .where('action', '=', 'pms.connection.value_maps_updated')
      .executeTakeFirstOrThrow();
    expect(Number(audited.n)).toBe(2 + keys.length);

    const other = await createProperty(t.db);
    const admin = await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [other.id] });
    expect((await call(t.app, 'PATCH', url, { token: admin.token, body: { room_types: {} } })).status).toBe(
      404,
    );
    const staff = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [h.propertyId] });
    expect((await call(t.app, 'PATCH', url, { token: staff.token, body: { room_types: {} } })).status).toBe(
      403,
    );
    const none = await createProperty(t.db);
    expect(
      (
        await call(t.app, 'PATCH', `/api/integrations/pms/connections/${none.id}/value-maps/`, {
          token,
          body: {},
        })
      ).status,
    ).toBe(404);
  });
});

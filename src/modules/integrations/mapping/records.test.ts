import { describe, expect, it } from 'vitest';
import type { PmsConfigDocument } from '../config/config.types.ts';
import { PMSMappingError } from '../integrations.errors.ts';
import { compilePipeline } from '../pipeline/pipeline.ts';
import { localDate, parseDateTime } from './dates.ts';
import { compileJoins } from './joins.ts';
import { compileMapper } from './mapper.ts';
import { compileTransform, type MapEnv } from './transforms.ts';

const env = (overrides: Partial<MapEnv> = {}): MapEnv => ({
  valueMaps: { room_types: { 'cat-1': 'DBL', '7': 'STE' } },
  timezone: 'Europe/Berlin',
  ...overrides,
});

describe('value_map', () => {
  const map = compileTransform({ name: 'value_map', map: 'room_types' }, { statusMappings: {} });

  it("reads the hotel's own map, numbers as their text", () => {
    expect(map('cat-1', env())).toBe('DBL');
    expect(map(7, env())).toBe('STE');
  });

  it('names the map and the value a hotel has not mapped, and a map the connection lacks', () => {
    expect(() => map('cat-9', env())).toThrow(
      'value map "room_types" of this hotel\'s connection has no entry for "cat-9"; add it and replay',
    );
    expect(() => map('cat-1', env({ valueMaps: {} }))).toThrow(
      /value map "room_types" is not set on this hotel's connection/,
    );
    expect(() => map({ id: 1 }, env())).toThrow(/expected a scalar/);
  });

  it('uses its default for a value the map lacks, when it has one', () => {
    const lenient = compileTransform(
      { name: 'value_map', map: 'room_types', default: null },
      { statusMappings: {} },
    );
    expect(lenient('cat-9', env())).toBeNull();
    expect(lenient('cat-1', env())).toBe('DBL');
  });

  it('is per hotel: one compiled config, two connections, two answers', () => {
    expect(map('cat-1', env({ valueMaps: { room_types: { 'cat-1': 'SUITE' } } }))).toBe('SUITE');
    expect(map('cat-1', env())).toBe('DBL');
  });
});

describe('local_date: the hotel-local date of a moment', () => {
  const berlin = 'Europe/Berlin';

  it('converts an instant to the date in the zone, across the October change in Berlin', () => {
    // 2031-10-26 03:00 CEST becomes 02:00 CET.
    expect(localDate('2031-10-25T21:59:59Z', undefined, berlin)).toEqual({ ok: true, value: '2031-10-25' });
    expect(localDate('2031-10-25T22:30:00Z', undefined, berlin)).toEqual({ ok: true, value: '2031-10-26' });
    expect(localDate('2031-10-26T00:30:00Z', undefined, berlin)).toEqual({ ok: true, value: '2031-10-26' });
    expect(localDate('2031-10-26T01:30:00Z', undefined, berlin)).toEqual({ ok: true, value: '2031-10-26' });
    // After the change Berlin is UTC+1: 22:30Z is still the 26th, 23:00Z the 27th.
    expect(localDate('2031-10-26T22:30:00Z', undefined, berlin)).toEqual({ ok: true, value: '2031-10-26' });
    expect(localDate('2031-10-26T23:00:00Z', undefined, berlin)).toEqual({ ok: true, value: '2031-10-27' });
    expect(localDate('2031-10-25T23:30:00-05:00', undefined, berlin)).toEqual({
      ok: true,
      value: '2031-10-26',
    });
  });

  it('knows the day Samoa skipped and the zone fourteen hours ahead', () => {
    // Apia jumped from UTC-10 to UTC+14 at the end of 29 December 2011: the 30th never happened.
    expect(localDate('2011-12-30T09:59:59Z', undefined, 'Pacific/Apia')).toEqual({
      ok: true,
      value: '2011-12-29',
    });
    expect(localDate('2011-12-30T10:00:00Z', undefined, 'Pacific/Apia')).toEqual({
      ok: true,
      value: '2011-12-31',
    });
    // A wall time on the skipped day moves forward, as a wall time in a DST gap does.
    expect(localDate('2011-12-30T12:00:00', undefined, 'Pacific/Apia')).toEqual({
      ok: true,
      value: '2011-12-31',
    });
    expect(localDate('2031-10-24T09:59:59Z', undefined, 'Pacific/Kiritimati')).toEqual({
      ok: true,
      value: '2031-10-24',
    });
    expect(localDate('2031-10-24T10:00:00Z', undefined, 'Pacific/Kiritimati')).toEqual({
      ok: true,
      value: '2031-10-25',
    });
  });

  it('keeps the written date of a wall time, a date, and reads epochs and formats', () => {
    expect(localDate('2031-10-25T23:30:00', undefined, berlin)).toEqual({ ok: true, value: '2031-10-25' });
    expect(localDate('2031-10-25', undefined, berlin)).toEqual({ ok: true, value: '2031-10-25' });
    expect(localDate(1950000000, 'epoch_seconds', berlin)).toEqual({ ok: true, value: '2031-10-17' });
    expect(localDate('25.10.2031 23:30', 'dd.MM.yyyy HH:mm', berlin)).toEqual({
      ok: true,
      value: '2031-10-25',
    });
    expect(localDate('2031-02-30T10:00:00Z', undefined, berlin)).toMatchObject({ ok: false });
    expect(localDate('soon', undefined, berlin)).toMatchObject({ ok: false });
  });

  it('reads "property" as the hotel\'s zone, which is the default', () => {
    const fn = compileTransform({ name: 'local_date' }, { statusMappings: {} });
    expect(fn('2031-10-24T11:00:00Z', env({ timezone: 'Pacific/Kiritimati' }))).toBe('2031-10-25');
    expect(fn('2031-10-24T11:00:00Z', env({ timezone: 'America/Los_Angeles' }))).toBe('2031-10-24');
    const utc = compileTransform({ name: 'local_date', timezone: 'UTC' }, { statusMappings: {} });
    expect(utc('2031-10-24T23:30:00-05:00', env())).toBe('2031-10-25');
    expect(() => fn('nope', env())).toThrow(/local_date cannot read "nope": .* \(in Europe\/Berlin\)/);
  });
});

describe("parse_datetime of a timestamp without offset, in the hotel's zone", () => {
  const naive = compileTransform(
    { name: 'parse_datetime', format: 'yyyy-MM-dd HH:mm:ss', timezone: 'property' },
    { statusMappings: {} },
  );

  it('reads it as a wall time of the property, DST edges included', () => {
    expect(naive('2031-07-01 12:00:00', env())).toBe('2031-07-01T10:00:00.000Z');
    expect(naive('2031-12-01 12:00:00', env())).toBe('2031-12-01T11:00:00.000Z');
    expect(naive('2031-07-01 12:00:00', env({ timezone: 'America/New_York' }))).toBe(
      '2031-07-01T16:00:00.000Z',
    );
    // The hour repeated when DST ends reads as its second occurrence (standard time)…
    expect(parseDateTime('2031-10-26 02:30:00', 'yyyy-MM-dd HH:mm:ss', 'Europe/Berlin')).toEqual({
      ok: true,
      value: '2031-10-26T01:30:00.000Z',
    });
    // …and the hour skipped when it starts moves forward.
    expect(parseDateTime('2031-03-30 02:30:00', 'yyyy-MM-dd HH:mm:ss', 'Europe/Berlin')).toEqual({
      ok: true,
      value: '2031-03-30T01:30:00.000Z',
    });
  });
});

describe('joins: side lists of the page', () => {
  const joins = compileJoins({
    customer: { items: '$.Customers[*]', key: '$.Id', on: '$.CustomerId' },
    company: { items: '$.Companies[*]', key: '$.Id', on: '$.CompanyId', required: true },
  });
  const page = {
    Customers: [
      { Id: 'c1', Name: 'first' },
      { Id: 'c1', Name: 'second' },
      { Id: 42, Name: 'numeric' },
      { Name: 'no id' },
    ],
    Companies: [{ Id: 'k1', Name: 'ACME' }],
  };

  it('matches each record by key, the first item of a key winning, ids as text', () => {
    const index = joins.indexPage(page);
    expect(joins.resolve({ CustomerId: 'c1', CompanyId: 'k1' }, index)).toEqual({
      customer: { Id: 'c1', Name: 'first' },
      company: { Id: 'k1', Name: 'ACME' },
    });
    expect(joins.resolve({ CustomerId: '42', CompanyId: 'k1' }, index).customer).toEqual({
      Id: 42,
      Name: 'numeric',
    });
  });

  it('reads null for an optional join that matches nothing, and refuses a required one', () => {
    const index = joins.indexPage(page);
    expect(joins.resolve({ CustomerId: 'zz', CompanyId: 'k1' }, index).customer).toBeNull();
    expect(() => joins.resolve({ CustomerId: 'c1', CompanyId: 'k9' }, index)).toThrow(
      'joins.company: no item of $.Companies[*] has $.Id "k9" (the record\'s $.CompanyId; the join is required)',
    );
    expect(() => joins.resolve({ CustomerId: 'c1' }, index)).toThrow(
      'joins.company: the record has no $.CompanyId to join on (the join is required)',
    );
    expect(joins.resolve({ CustomerId: 'c1' }, index, undefined, true).company).toBeNull();
  });

  it('takes what a replayed record stored instead of a page', () => {
    expect(
      joins.resolve({ CustomerId: 'c1', CompanyId: 'k1' }, undefined, { company: { Id: 'k1' } }),
    ).toEqual({
      customer: null,
      company: { Id: 'k1' },
    });
    expect(() => joins.resolve({ CompanyId: 'k1' }, undefined, { company: null })).toThrow(/required/);
  });

  it('indexes a body without the side list as empty', () => {
    const index = joins.indexPage({ Reservations: [] });
    expect(joins.resolve({ CustomerId: 'c1', CompanyId: 'k1' }, index, undefined, true)).toEqual({
      customer: null,
      company: null,
    });
  });

  it('lets a mapping read the joined item, path or template, and null when nothing matched', () => {
    const mapper = compileMapper({
      field_mappings: {
        external_id: { path: '$.Id' },
        'guest.full_name': { from: 'customer', template: '{{ $.First }} {{ $.Last }}' },
        'guest.email': { from: 'customer', path: '$.Email', default: 'none@example.com' },
      },
    });
    const joined = { customer: { First: 'Ada', Last: 'Lovelace', Email: 'ada@example.com' } };
    expect(mapper.map({ Id: 'r1' }, env(), joined)).toEqual({
      external_id: 'r1',
      'guest.full_name': 'Ada Lovelace',
      'guest.email': 'ada@example.com',
    });
    expect(mapper.map({ Id: 'r1' }, env(), { customer: null })).toEqual({
      external_id: 'r1',
      'guest.full_name': '',
      'guest.email': 'none@example.com',
    });
  });
});

const base = (extra: Partial<PmsConfigDocument>): PmsConfigDocument => ({
  pms_type: 'x',
  version: '1',
  source: { request: { path: '/b' }, records: '$.data[*]' },
  field_mappings: {
    external_id: { path: '$.id' },
    status: { const: 'confirmed' },
    check_in: { path: '$.in' },
    check_out: { path: '$.out' },
  },
  ...extra,
});

describe('nested rooms', () => {
  const config = base({
    rooms: {
      mode: 'nested',
      path: '$.rooms[*]',
      max_rooms: 3,
      field_mappings: {
        external_id: { path: '$.id', transform: 'to_string' },
        room_type_code: { path: '$.type', transform: { name: 'value_map', map: 'room_types' } },
        adults: { path: '$.pax', transform: 'to_int' },
        amount: { path: '$.price', transform: 'to_decimal' },
        rate_plan_code: { from: 'record', path: '$.plan' },
      },
    },
    validation_rules: { fields: { 'rooms.adults': { min: 1 } } },
  });
  const pipeline = compilePipeline(config);
  const run = (raw: unknown) => pipeline.process(raw, { roomTypeCodes: undefined, env: env() });
  const record = (rooms: unknown) => ({ id: 'B1', in: '2031-06-01', out: '2031-06-03', plan: 'BAR', rooms });

  it('maps every room, each reading its own element (and the record with from: record)', () => {
    const outcome = run(
      record([
        { id: 1, type: 'cat-1', pax: '2', price: '100.10' },
        { id: 2, type: 7, pax: 1, price: 50 },
      ]),
    );
    expect(outcome).toMatchObject({
      ok: true,
      booking: {
        room_type_code: 'DBL',
        adults: 2,
        total_amount: '150.1',
        rate_plan_code: 'BAR',
        rooms: [
          { external_id: '1', room_type_code: 'DBL', adults: 2, amount: '100.10', rate_plan_code: 'BAR' },
          { external_id: '2', room_type_code: 'STE', adults: 1, amount: '50', rate_plan_code: 'BAR' },
        ],
      },
    });
  });

  it('reads an object where the list should be as one room, and no list as no room', () => {
    expect(run(record({ id: 1, type: 'cat-1', pax: 2 }))).toMatchObject({
      ok: true,
      booking: { rooms: [{ external_id: '1' }] },
    });
    expect(run({ id: 'B1', in: '2031-06-01', out: '2031-06-03' })).toMatchObject({
      ok: true,
      booking: { rooms: [], room_type_code: null, total_amount: null },
    });
  });

  const failure = (raw: unknown) => {
    const outcome = run(raw);
    if (outcome.ok) throw new Error('expected a failure');
    return [outcome.error.stage, outcome.error.field, outcome.error.message, outcome.externalId];
  };

  it('quarantines a malformed rooms list with the reason, never crashes', () => {
    expect(failure(record('oops'))).toEqual([
      'mapping',
      'rooms',
      'rooms: $.rooms is text "oops", not a list of rooms',
      'B1',
    ]);
    expect(failure(record([{ id: 1, type: 'cat-1', pax: 2 }, null]))).toEqual([
      'mapping',
      'rooms[1]',
      'rooms[1]: is null, not a room object',
      'B1',
    ]);
    expect(failure(record([[1]]))[2]).toBe('rooms[0]: is a list, not a room object');
    expect(failure(record(Array.from({ length: 4 }, (_, i) => ({ id: i, type: 'cat-1', pax: 1 }))))[2]).toBe(
      'rooms: 4 rooms is more than 3 (rooms.max_rooms)',
    );
    expect(
      failure(
        record([
          { id: 1, type: 'cat-1', pax: 1 },
          { id: 1, type: 'cat-1', pax: 1 },
        ]),
      ),
    ).toEqual([
      'field_rules',
      'rooms[1].external_id',
      'rooms[1].external_id: "1" repeats rooms[0].external_id',
      'B1',
    ]);
    expect(failure(record([{ id: 1, type: 'cat-1', pax: 0 }]))[1]).toBe('rooms[0].adults');
    expect(failure(record([{ id: 1, type: 'cat-1', pax: 1, price: 'ten' }]))[2]).toMatch(
      /^rooms\[0\]\.amount: to_decimal cannot read "ten"/,
    );
    expect(failure(record([{ id: 1, type: { nested: true }, pax: 1 }]))[2]).toMatch(/expected a scalar/);
  });

  it('checks room_type_known on every room', () => {
    const strict = compilePipeline({
      ...config,
      validation_rules: { business_rules: [{ rule: 'room_type_known' }] },
    });
    const outcome = strict.process(
      record([
        { id: 1, type: 'cat-1' },
        { id: 2, type: 7 },
      ]),
      {
        roomTypeCodes: new Set(['DBL']),
        env: env(),
      },
    );
    expect(outcome).toMatchObject({
      ok: false,
      error: {
        field: 'rooms[1].room_type_code',
        message: 'rooms[1].room_type_code: "STE" is not a room type code of this hotel',
      },
    });
    expect(strict.process(record([]), { roomTypeCodes: new Set(['DBL']), env: env() })).toMatchObject({
      ok: false,
      error: { field: 'rooms' },
    });
  });
});

describe('grouped rooms', () => {
  it("makes each record one room of its group, the room carrying the record's status and stay", () => {
    const pipeline = compilePipeline(
      base({
        rooms: {
          mode: 'grouped',
          field_mappings: { external_id: { path: '$.rid' }, room_type_code: { path: '$.t' } },
        },
      }),
    );
    const outcome = pipeline.process(
      { id: 'G1', rid: 'r1', t: 'DBL', in: '2031-06-01', out: '2031-06-03' },
      { roomTypeCodes: undefined },
    );
    expect(outcome).toMatchObject({
      ok: true,
      booking: {
        external_id: 'G1',
        grouped: true,
        rooms: [{ external_id: 'r1', status: 'confirmed', check_in: '2031-06-01', check_out: '2031-06-03' }],
      },
    });
    const missing = pipeline.process(
      { id: 'G1', in: '2031-06-01', out: '2031-06-03' },
      { roomTypeCodes: undefined },
    );
    expect(missing).toMatchObject({
      ok: false,
      error: { field: 'rooms[0].external_id', message: expect.stringMatching(/told apart by it/) },
    });
  });

  it('throws mapping errors that name the room field', () => {
    const mapper = compileMapper({
      field_mappings: { external_id: { path: '$.id' } },
      rooms: { mode: 'grouped', field_mappings: { adults: { path: '$.pax', transform: 'to_int' } } },
    });
    try {
      mapper.mapRooms({ id: 'G', pax: 'two' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PMSMappingError);
      expect((error as PMSMappingError).field).toBe('rooms[0].adults');
    }
  });
});

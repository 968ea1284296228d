import { describe, expect, it } from 'vitest';
import { EMPTY_ENV } from '../mapping/transforms.ts';
import { compilePipeline } from '../pipeline/pipeline.ts';
import type { PmsConfigDocument } from './config.types.ts';
import { validateConfigDocument } from './config.validate.ts';

/**
 * Every records construct of format v2, both ways: a document using it is accepted by the schema
 * and the lint AND runs (the pipeline compiles it and maps a record as documented); each misuse is
 * refused by JSON pointer. The lint refuses what the runtime cannot do and nothing it can.
 */

type Doc = Record<string, any>;
const base = (): Doc => ({
  pms_type: 'records',
  version: '1',
  source: { request: { path: '/bookings' }, records: '$.data[*]' },
  field_mappings: {
    external_id: { path: '$.id' },
    status: { const: 'confirmed' },
    check_in: { path: '$.in' },
    check_out: { path: '$.out' },
  },
});
const withChange = (change: (doc: Doc) => void): Doc => {
  const doc = base();
  change(doc);
  return doc;
};
const problems = (doc: unknown) => validateConfigDocument(doc).map((p) => `${p.pointer} ${p.message}`);
const pointers = (doc: unknown) => validateConfigDocument(doc).map((p) => p.pointer);

const env = {
  valueMaps: { room_types: { a: 'DBL' }, rate_plans: { bar: 'BAR' } },
  timezone: 'Pacific/Kiritimati',
};
const record = {
  id: 'B1',
  in: '2031-06-01',
  out: '2031-06-03',
  guestId: 'g1',
  at: '2031-05-31T11:00:00Z',
  naive: '2031-05-01 10:00:00',
  type: 'a',
  plan: 'bar',
  rooms: [{ rid: 'x', type: 'a', pax: 2 }],
};
const page = { data: [record], guests: [{ gid: 'g1', name: 'Ada' }] };

/** Accepted, and the runtime maps the record with it as the documentation says. */
function runs(doc: Doc, expected: Record<string, unknown>) {
  expect(problems(doc)).toEqual([]);
  const outcome = compilePipeline(doc as PmsConfigDocument).process(record, {
    roomTypeCodes: new Set(['DBL']),
    env,
    page,
  });
  expect(outcome).toMatchObject({ ok: true, booking: expected });
}

describe('joins', () => {
  const joined = () =>
    withChange((doc) => {
      doc.joins = { guest: { items: '$.guests[*]', key: '$.gid', on: '$.guestId', required: true } };
      doc.field_mappings['guest.full_name'] = { from: 'guest', path: '$.name' };
    });

  it('accepts a join and a mapping that reads it, and runs them', () => {
    runs(joined(), { guest: { full_name: 'Ada' } });
  });

  it('refuses unusable paths, reserved or bad names, missing parts, and a mapping reading an undeclared join', () => {
    expect(
      pointers(
        withChange((doc) => {
          doc.joins = { guest: { items: '$.guests[(1)]', key: 'gid', on: '$.guestId' } };
        }),
      ).sort(),
    ).toEqual(['/joins/guest/items', '/joins/guest/key']);
    expect(
      pointers(withChange((doc) => (doc.joins = { record: { items: '$.a[*]', key: '$.k', on: '$.o' } }))),
    ).toEqual(['/joins/record']);
    expect(
      pointers(withChange((doc) => (doc.joins = { Guest: { items: '$.a[*]', key: '$.k', on: '$.o' } }))),
    ).toEqual(['/joins/Guest']);
    expect(pointers(withChange((doc) => (doc.joins = { g: { items: '$.a[*]', key: '$.k' } })))).toEqual([
      '/joins/g/on',
    ]);
    expect(
      problems(
        withChange((doc) => {
          doc.field_mappings['guest.email'] = { from: 'guest', path: '$.email' };
        }),
      ),
    ).toEqual(['/field_mappings/guest.email/from names no join: declare joins.guest, or read record']);
    expect(
      problems(
        withChange((doc) => {
          doc.field_mappings['guest.email'] = { from: 'room', path: '$.email' };
        }),
      ),
    ).toEqual(['/field_mappings/guest.email/from room reads a room: only rooms.field_mappings may use it']);
  });
});

describe('nested rooms', () => {
  const nested = () =>
    withChange((doc) => {
      doc.rooms = {
        mode: 'nested',
        path: '$.rooms[*]',
        max_rooms: 10,
        field_mappings: {
          external_id: { path: '$.rid' },
          room_type_code: { path: '$.type', transform: { name: 'value_map', map: 'room_types' } },
          adults: { path: '$.pax' },
          rate_plan_code: {
            from: 'record',
            path: '$.plan',
            transform: { name: 'value_map', map: 'rate_plans' },
          },
        },
      };
      doc.validation_rules = {
        fields: { 'rooms.adults': { type: 'integer', min: 1 } },
        business_rules: [{ rule: 'room_type_known' }],
      };
    });

  it('accepts nested rooms with room rules and room_type_known, and runs them', () => {
    runs(nested(), {
      room_type_code: 'DBL',
      rooms: [{ external_id: 'x', room_type_code: 'DBL', adults: 2, rate_plan_code: 'BAR' }],
    });
  });

  it('refuses a missing or unusable path, room fields at the booking level, unknown room fields and unmapped room rules', () => {
    expect(pointers(withChange((doc) => (doc.rooms = { mode: 'nested', field_mappings: {} })))).toEqual([
      '/rooms/path',
    ]);
    expect(
      pointers(withChange((doc) => (doc.rooms = { mode: 'nested', path: 'rooms', field_mappings: {} }))),
    ).toEqual(['/rooms/path']);
    expect(
      problems(
        withChange((doc) => {
          doc.rooms = { mode: 'nested', path: '$.rooms[*]', field_mappings: {} };
          doc.field_mappings.room_type_code = { path: '$.type' };
          doc.field_mappings.adults = { path: '$.pax' };
        }),
      ),
    ).toEqual([
      '/field_mappings/room_type_code is read per room when rooms is declared: map it in rooms.field_mappings.room_type_code',
      '/field_mappings/adults is read per room when rooms is declared: map it in rooms.field_mappings.adults',
    ]);
    expect(
      pointers(
        withChange(
          (doc) =>
            (doc.rooms = { mode: 'nested', path: '$.r[*]', field_mappings: { colour: { path: '$.c' } } }),
        ),
      ),
    ).toEqual(['/rooms/field_mappings/colour']);
    expect(
      pointers(
        withChange(
          (doc) => (doc.rooms = { mode: 'nested', path: '$.r[*]', max_rooms: 0, field_mappings: {} }),
        ),
      ),
    ).toEqual(['/rooms/max_rooms']);
    expect(pointers(withChange((doc) => (doc.rooms = { mode: 'twisted', field_mappings: {} })))).toEqual([
      '/rooms/mode',
    ]);
    const rules = nested();
    rules.validation_rules.fields['rooms.children'] = { min: 0 };
    expect(problems(rules)).toEqual([
      '/validation_rules/fields/rooms.children names rooms.children, which rooms.field_mappings does not map',
    ]);
    const noRooms = base();
    noRooms.validation_rules = { fields: { 'rooms.adults': { min: 1 } } };
    expect(problems(noRooms)).toEqual([
      '/validation_rules/fields/rooms.adults names a room field, and the config declares no rooms',
    ]);
    const known = nested();
    delete known.rooms.field_mappings.room_type_code;
    expect(problems(known)).toEqual([
      '/validation_rules/business_rules/0 room_type_known needs room_type_code, which rooms.field_mappings does not map',
    ]);
    const template = nested();
    template.rooms.field_mappings.room_number = { template: '{{ $.a[(1)] }}' };
    expect(pointers(template)).toEqual(['/rooms/field_mappings/room_number/template']);
    const transform = nested();
    transform.rooms.field_mappings.room_number = { path: '$.n', transform: 'shout' };
    expect(pointers(transform)).toContain('/rooms/field_mappings/room_number/transform');
  });
});

describe('grouped rooms', () => {
  const grouped = () =>
    withChange((doc) => {
      doc.rooms = {
        mode: 'grouped',
        field_mappings: {
          external_id: { path: '$.id' },
          room_type_code: { path: '$.type', transform: 'upper' },
        },
      };
      doc.validation_rules = { fields: { 'rooms.status': { enum: ['confirmed'] } } };
    });

  it("accepts grouped rooms (a rule on the record's status included), and runs them", () => {
    runs(grouped(), {
      grouped: true,
      rooms: [{ external_id: 'B1', room_type_code: 'A', status: 'confirmed' }],
    });
  });

  it("refuses a group without room ids, room status or stay (the record's own), a booking total, and a path", () => {
    const noId = grouped();
    delete noId.rooms.field_mappings.external_id;
    expect(pointers(noId)).toEqual(['/rooms/field_mappings/external_id']);
    const status = grouped();
    status.rooms.field_mappings.status = { const: 'cancelled' };
    status.rooms.field_mappings.check_in = { path: '$.in' };
    expect(pointers(status)).toEqual(['/rooms/field_mappings/status', '/rooms/field_mappings/check_in']);
    const total = grouped();
    total.field_mappings.total_amount = { path: '$.total' };
    expect(pointers(total)).toEqual(['/field_mappings/total_amount']);
    const path = grouped();
    path.rooms.path = '$.rooms[*]';
    expect(pointers(path)).toEqual(['/rooms/path']);
  });
});

describe('value_map, local_date and timezone "property"', () => {
  it("accepts them, and runs them with the hotel's maps and zone", () => {
    runs(
      withChange((doc) => {
        doc.field_mappings.check_in = {
          path: '$.at',
          transform: { name: 'local_date', timezone: 'property' },
        };
        doc.field_mappings.room_type_code = {
          path: '$.type',
          transform: { name: 'value_map', map: 'room_types' },
        };
        doc.field_mappings.rate_plan_code = {
          path: '$.plan',
          transform: [{ name: 'value_map', map: 'rate_plans', default: null }, 'lower'],
        };
        doc.field_mappings.source_updated_at = {
          path: '$.naive',
          transform: { name: 'parse_datetime', format: 'yyyy-MM-dd HH:mm:ss', timezone: 'property' },
        };
      }),
      {
        // Kiritimati is UTC+14: 11:00 UTC on 31 May is already 1 June there.
        check_in: '2031-06-01',
        room_type_code: 'DBL',
        rate_plan_code: 'bar',
        source_updated_at: '2031-04-30T20:00:00.000Z',
      },
    );
    runs(
      withChange((doc) => {
        doc.field_mappings.check_in = {
          path: '$.at',
          transform: { name: 'local_date', timezone: 'America/Chicago' },
        };
      }),
      { check_in: '2031-05-31' },
    );
  });

  it('refuses a bad map name, a missing map, an unknown zone and a date format without a date', () => {
    const map = (transform: unknown) =>
      pointers(withChange((doc) => (doc.field_mappings.room_type_code = { path: '$.t', transform })));
    expect(map({ name: 'value_map', map: 'Room Types' })).toEqual([
      '/field_mappings/room_type_code/transform/map',
    ]);
    expect(map({ name: 'value_map' })).toEqual(['/field_mappings/room_type_code/transform/map']);
    expect(map({ name: 'value_map', map: 'rt', table: {} })).toEqual([
      '/field_mappings/room_type_code/transform/table',
    ]);
    const date = (transform: unknown) =>
      problems(withChange((doc) => (doc.field_mappings.check_in = { path: '$.at', transform })));
    expect(date({ name: 'local_date', timezone: 'Mars/Olympus' })).toEqual([
      '/field_mappings/check_in/transform/timezone is not an IANA time zone (e.g. Europe/Paris) or "property"',
    ]);
    expect(date({ name: 'local_date', format: 'HH:mm' })).toEqual([
      '/field_mappings/check_in/transform/format must contain a year, a month and a day',
    ]);
    expect(date({ name: 'parse_datetime', timezone: 'hotel' })).toEqual([
      '/field_mappings/check_in/transform/timezone is not an IANA time zone (e.g. Europe/Paris) or "property"',
    ]);
  });
});

describe('reconciliation', () => {
  it('accepts a window and an action, and the runtime reads the document as it is', () => {
    const doc = withChange(
      (d) => (d.reconciliation = { window_days: 30, action: 'cancel', max_share: 0.25 }),
    );
    expect(problems(doc)).toEqual([]);
    expect(
      compilePipeline(doc as PmsConfigDocument).process(record, { roomTypeCodes: undefined, env: EMPTY_ENV })
        .ok,
    ).toBe(true);
  });

  it('refuses a window out of range, an unknown action, a share above 1, and an acknowledged queue', () => {
    expect(pointers(withChange((d) => (d.reconciliation = { window_days: 0, action: 'report' })))).toEqual([
      '/reconciliation/window_days',
    ]);
    expect(pointers(withChange((d) => (d.reconciliation = { window_days: 5, action: 'delete' })))).toEqual([
      '/reconciliation/action',
    ]);
    expect(
      pointers(withChange((d) => (d.reconciliation = { window_days: 5, action: 'report', max_share: 2 }))),
    ).toEqual(['/reconciliation/max_share']);
    const queue = withChange((d) => {
      d.reconciliation = { window_days: 5, action: 'report' };
      d.source.ack = { per: 'record', values: { id: '$.id' }, request: { method: 'POST', path: '/ack' } };
    });
    expect(problems(queue)).toContain(
      '/reconciliation needs a listing of every booking, and an acknowledged queue only ever returns what changed',
    );
  });
});

describe('format version 1 documents', () => {
  it('map as they always did: no rooms, no grouped flag, rate_plan_code only when mapped', () => {
    const doc = withChange((d) => (d.field_mappings.room_type_code = { path: '$.type' }));
    expect(problems(doc)).toEqual([]);
    const outcome = compilePipeline(doc as PmsConfigDocument).process(record, { roomTypeCodes: undefined });
    expect(outcome.ok && Object.keys(outcome.booking)).toEqual([
      'external_id',
      'status',
      'check_in',
      'check_out',
      'guest',
      'room_type_code',
      'room_number',
      'adults',
      'children',
      'total_amount',
      'currency',
      'source_updated_at',
      'notes',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import type { PmsConfigDocument } from '../config/config.types.ts';
import { compilePipeline } from './pipeline.ts';
import type { BusinessContext } from './stages.ts';

const config = (overrides: Partial<PmsConfigDocument> = {}): PmsConfigDocument => ({
  pms_type: 'test',
  version: '1',
  source: { request: { path: '/b' }, records: '$.data[*]' },
  raw_schema: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } },
  field_mappings: {
    external_id: { path: '$.id', transform: 'to_string' },
    status: { path: '$.s', transform: 'map_status' },
    check_in: { path: '$.in', transform: 'parse_date' },
    check_out: { path: '$.out', transform: 'parse_date' },
    'guest.email': { path: '$.email' },
    'guest.first_name': { path: '$.first' },
    notes: { path: '$.notes' },
    adults: { path: '$.adults' },
    room_type_code: { path: '$.room' },
    total_amount: { path: '$.amount' },
    currency: { path: '$.cur' },
  },
  status_mappings: { B: 'confirmed' },
  validation_rules: {
    required: ['external_id', 'status', 'check_in', 'check_out'],
    fields: {
      'guest.email': { format: 'email' },
      adults: { type: 'integer', min: 1, max: 4 },
      total_amount: { type: 'decimal', min: 0 },
      room_type_code: { enum: ['STD', 'DBL'] },
    },
    business_rules: [
      { rule: 'check_out_after_check_in' },
      { rule: 'max_stay_nights', value: 10 },
      { rule: 'min_stay_nights', value: 2 },
      { rule: 'not_before', field: 'check_in', date: '2026-01-01' },
      { rule: 'room_type_known' },
    ],
  },
  sanitization: { trim_strings: true, empty_to_null: true, escape_html: true },
  ...overrides,
});

const good = { id: 1, s: 'B', in: '2026-03-01', out: '2026-03-04', room: 'DBL', adults: 2 };
const context: BusinessContext = { roomTypeCodes: new Set(['STD', 'DBL']) };

function outcome(raw: unknown, cfg = config(), ctx = context) {
  const result = compilePipeline(cfg).process(raw, ctx);
  if (result.ok) return { ok: true as const, booking: result.booking };
  return {
    ok: false as const,
    type: result.error.errorType,
    stage: result.error.stage,
    field: result.error.field,
    reason: result.error.reason,
    externalId: result.externalId,
  };
}

describe('the record pipeline', () => {
  it('produces a canonical booking with every field present', () => {
    expect(outcome(good)).toEqual({
      ok: true,
      booking: {
        external_id: '1',
        status: 'confirmed',
        check_in: '2026-03-01',
        check_out: '2026-03-04',
        guest: { first_name: null, last_name: null, full_name: null, email: null, phone: null },
        room_type_code: 'DBL',
        room_number: null,
        adults: 2,
        children: null,
        total_amount: null,
        currency: null,
        source_updated_at: null,
        notes: null,
      },
    });
  });

  it('stops at the first failing stage, in the documented order', () => {
    // Broken at raw schema AND mapping: the raw schema wins.
    expect(outcome({ ...good, id: 'x', s: 'nope' })).toMatchObject({
      type: 'PMSDataValidationError',
      stage: 'raw_schema',
      field: '/id',
      externalId: 'x',
    });
    // Broken at mapping AND field rules AND business rules: mapping wins.
    expect(outcome({ ...good, s: 'nope', adults: 9, out: '2026-03-02' })).toMatchObject({
      type: 'PMSMappingError',
      stage: 'mapping',
      field: 'status',
    });
    // Broken at field rules AND business rules: field rules win.
    expect(outcome({ ...good, adults: 9, out: '2026-03-02' })).toMatchObject({
      type: 'PMSDataValidationError',
      stage: 'field_rules',
      field: 'adults',
      reason: 'must be at most 4',
    });
    expect(outcome({ ...good, out: '2026-03-02' })).toMatchObject({
      type: 'PMSBusinessRuleError',
      stage: 'business_rules',
      field: 'check_out',
      reason: 'a stay of 1 nights is below min_stay_nights 2',
    });
  });

  it('reports each kind of field rule and business rule by field', () => {
    const cases: Array<[Record<string, unknown>, string, string, RegExp]> = [
      [{ email: 'nope' }, 'PMSDataValidationError', 'guest.email', /not an email address/],
      [{ adults: 2.5 }, 'PMSDataValidationError', 'adults', /not a whole number/],
      [{ amount: '-1.00' }, 'PMSDataValidationError', 'total_amount', /at least 0/],
      [{ amount: 'lots' }, 'PMSDataValidationError', 'total_amount', /not a number/],
      [{ room: 'STE' }, 'PMSDataValidationError', 'room_type_code', /not one of "STD", "DBL"/],
      [{ cur: 'eur' }, 'PMSDataValidationError', 'currency', /ISO 4217/],
      [{ s: undefined }, 'PMSDataValidationError', 'status', /is required/],
      [{ out: '2026-03-01' }, 'PMSBusinessRuleError', 'check_out', /must be after check_in/],
      [{ out: '2026-03-20' }, 'PMSBusinessRuleError', 'check_out', /exceeds max_stay_nights 10/],
      [{ in: '2025-12-30', out: '2026-01-02' }, 'PMSBusinessRuleError', 'check_in', /before 2026-01-01/],
    ];
    for (const [change, type, field, reason] of cases) {
      const result = outcome({ ...good, ...change });
      expect(result, JSON.stringify(change)).toMatchObject({ ok: false, type, field });
      expect((result as { reason: string }).reason, JSON.stringify(change)).toMatch(reason);
    }
  });

  it('checks room_type_known against the hotel, and skips it when the hotel is not known', () => {
    const cfg = config({
      validation_rules: { business_rules: [{ rule: 'room_type_known' }] },
    });
    expect(outcome({ ...good, room: 'XXL' }, cfg)).toMatchObject({
      type: 'PMSBusinessRuleError',
      field: 'room_type_code',
      reason: '"XXL" is not a room type code of this hotel',
    });
    expect(outcome({ ...good, room: 'XXL' }, cfg, { roomTypeCodes: undefined }).ok).toBe(true);
  });

  it('sanitises after mapping and before validation', () => {
    const result = outcome({ ...good, first: '  <b>Ann</b> & co ', notes: '   ', email: ' a@b.co ' });
    expect(result).toMatchObject({
      ok: true,
      booking: {
        guest: { first_name: '&lt;b&gt;Ann&lt;/b&gt; &amp; co', email: 'a@b.co' },
        notes: null,
      },
    });
    const raw = config({ sanitization: { trim_strings: false, empty_to_null: false, escape_html: false } });
    expect(outcome({ ...good, first: ' <b>Ann</b> ', notes: '' }, raw)).toMatchObject({
      ok: true,
      booking: { guest: { first_name: ' <b>Ann</b> ' }, notes: '' },
    });
  });

  it('takes numbers given for text fields as their text, and refuses objects', () => {
    expect(outcome({ ...good, first: 42 })).toMatchObject({
      ok: true,
      booking: { guest: { first_name: '42' } },
    });
    expect(outcome({ ...good, first: { a: 1 } })).toMatchObject({
      type: 'PMSMappingError',
      field: 'guest.first_name',
    });
  });

  it('requires the fields the ledger needs even when the config does not list them', () => {
    const cfg = config({ validation_rules: {} });
    expect(outcome({ ...good, in: null }, cfg)).toMatchObject({ field: 'check_in', reason: 'is required' });
  });
});

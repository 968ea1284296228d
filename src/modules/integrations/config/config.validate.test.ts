import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configChecksum, validateConfigDocument } from './config.validate.ts';

const acme = () =>
  JSON.parse(
    readFileSync(new URL('../../../../pms-configs/acme-2.1.json', import.meta.url), 'utf8'),
  ) as Record<string, any>;
const pointers = (doc: unknown) => validateConfigDocument(doc).map((p) => p.pointer);

/** The example document of PMS_CONFIG.md, verbatim. */
const CONTRACT_EXAMPLE = {
  pms_type: 'acme',
  version: '2.1',
  description: 'ACME Cloud PMS, REST API v2.1',
  source: {
    request: {
      method: 'GET',
      path: '/v2/hotels/{hotel.external_id}/bookings',
      query: { modified_since: '{cursor}', per_page: '100' },
      headers: { Authorization: 'Bearer {secret.api_token}' },
      timeout_ms: 10000,
    },
    records: '$.data[*]',
    pagination: { type: 'page_number', param: 'page', start: 1 },
    incremental: { cursor_path: '$.updated', cursor_format: 'iso8601', initial: '1970-01-01T00:00:00Z' },
    retry: { max_attempts: 5, backoff_ms: 200, on_status: [429, 500, 502, 503, 504] },
    rate_limit: { requests_per_second: 10 },
  },
  raw_schema: {
    type: 'object',
    required: ['id', 'state', 'arrival', 'departure'],
    properties: { id: { type: ['string', 'integer'] }, arrival: { type: 'string' } },
  },
  field_mappings: {
    external_id: { path: '$.id', transform: 'to_string' },
    status: { path: '$.state', transform: 'map_status' },
    check_in: { path: '$.arrival', transform: { name: 'parse_date', format: 'dd/MM/yyyy' } },
    check_out: { path: '$.departure', transform: { name: 'parse_date', format: 'dd/MM/yyyy' } },
    'guest.first_name': { path: '$.guest.first' },
    'guest.last_name': { path: '$.guest.last' },
    'guest.full_name': { template: '{{ $.guest.first }} {{ $.guest.last }}' },
    'guest.email': { path: '$.guest.contact.email', transform: ['trim', 'lower'] },
    room_type_code: { path: '$.room.category', transform: 'upper' },
    room_number: { path: '$.room.no', transform: 'to_string' },
    adults: { path: '$.pax.adults', transform: 'to_int', default: 1 },
    children: { path: '$.pax.children', transform: 'to_int', default: 0 },
    total_amount: { path: '$.price.total_cents', transform: { name: 'minor_to_decimal', digits: 2 } },
    currency: { path: '$.price.currency', default: 'EUR' },
    source_updated_at: { path: '$.updated', transform: 'parse_datetime' },
  },
  status_mappings: {
    BOOKED: 'confirmed',
    OPTION: 'tentative',
    INHOUSE: 'checked_in',
    DEPARTED: 'checked_out',
    CANCELLED: 'cancelled',
    NOSHOW: 'no_show',
  },
  validation_rules: {
    required: ['external_id', 'status', 'check_in', 'check_out'],
    fields: {
      total_amount: { type: 'decimal', min: 0 },
      'guest.email': { format: 'email' },
      currency: { pattern: '^[A-Z]{3}$' },
      adults: { type: 'integer', min: 1, max: 12 },
    },
    business_rules: [{ rule: 'check_out_after_check_in' }, { rule: 'max_stay_nights', value: 30 }],
  },
  sanitization: { trim_strings: true, empty_to_null: true, escape_html: true },
};

describe('validateConfigDocument', () => {
  it('accepts the example document of PMS_CONFIG.md as it is written', () => {
    expect(validateConfigDocument(CONTRACT_EXAMPLE)).toEqual([]);
  });

  it('accepts the shipped acme config with dd/MM/yyyy dates and amounts in cents', () => {
    const example = acme();
    example.field_mappings.check_in = {
      path: '$.arrival',
      transform: { name: 'parse_date', format: 'dd/MM/yyyy' },
    };
    example.field_mappings.total_amount = {
      path: '$.price.total_cents',
      transform: { name: 'minor_to_decimal', digits: 2 },
    };
    expect(validateConfigDocument(example)).toEqual([]);
  });

  it('lists every problem by JSON pointer', () => {
    const doc = acme();
    doc.pms_type = 'Not Valid';
    doc.surprise = true;
    delete doc.source.records;
    doc.source.pagination = { type: 'offset', param: 'offset' };
    doc.field_mappings.status.transform = 'map_stat';
    doc.field_mappings.adults = { path: '$.pax.adults', const: 2 };
    doc.field_mappings['guest.middle_name'] = { path: '$.x' };
    doc.field_mappings.total_amount.transform = { name: 'minor_to_decimal', digits: 12 };
    doc.status_mappings.WAIT = 'waitlisted';
    doc.validation_rules.fields.currency.pattern = '([';
    doc.validation_rules.fields.notes = { max_length: 10 };
    delete doc.field_mappings.notes;
    doc.validation_rules.business_rules.push({ rule: 'max_stay_nights' });
    expect(pointers(doc).sort()).toEqual(
      [
        '/pms_type',
        '/surprise',
        '/source/records',
        '/source/pagination/limit',
        '/source/pagination/limit_param',
        '/field_mappings/status/transform',
        '/field_mappings/adults',
        '/field_mappings/guest.middle_name',
        '/field_mappings/total_amount/transform/digits',
        '/status_mappings/WAIT',
        '/validation_rules/fields/currency/pattern',
        '/validation_rules/fields/notes',
        '/validation_rules/business_rules/2/value',
      ].sort(),
    );
  });

  it('finds problems inside JSONPaths, templates, placeholders, formats and raw_schema', () => {
    const doc = acme();
    doc.source.records = '$.data[';
    doc.source.request.path = '/v2/hotels/{hotel.id}/bookings';
    doc.source.request.headers.Authorization = 'Bearer {secret.api token}';
    doc.source.incremental.initial = 'yesterday';
    doc.field_mappings['guest.full_name'] = { template: '{{ $.guest.first }} {{ $.guest[last }}' };
    doc.field_mappings.check_out.transform = { name: 'parse_date', format: 'MM/yyyy' };
    doc.field_mappings.source_updated_at.transform = { name: 'parse_datetime', timezone: 'Europe/Atlantis' };
    doc.raw_schema = { type: 'record' };
    const problems = validateConfigDocument(doc);
    expect(problems.map((p) => p.pointer).sort()).toEqual(
      [
        '/source/records',
        '/source/request/path',
        '/source/request/headers/Authorization',
        '/source/incremental/initial',
        '/field_mappings/guest.full_name/template',
        '/field_mappings/check_out/transform/format',
        '/field_mappings/source_updated_at/transform/timezone',
        '/raw_schema',
      ].sort(),
    );
    expect(problems.find((p) => p.pointer === '/source/request/path')!.message).toBe(
      'unknown placeholder {hotel.id}',
    );
  });

  it('rejects a script expression wherever a JSONPath goes', () => {
    for (const mutate of [
      (d: any) => {
        d.source.records = '$..[?(@.id + 1 > 2)]';
      },
      (d: any) => {
        d.field_mappings.external_id.path = "$[?(@.constructor.constructor('return process')())]";
      },
      (d: any) => {
        d.field_mappings['guest.full_name'].template = '{{ $.guest[(@.length-1)] }}';
      },
      (d: any) => {
        d.source.incremental.cursor_path = '$.updated[?(@.x =~ /a/)]';
      },
    ]) {
      const doc = acme();
      mutate(doc);
      const problems = validateConfigDocument(doc);
      expect(problems).toHaveLength(1);
      expect(problems[0]!.message).toMatch(/not allowed/);
    }
  });

  it('requires the ledger fields, and rules to name mapped fields', () => {
    const doc = acme();
    delete doc.field_mappings.check_out;
    delete doc.field_mappings.room_type_code;
    doc.validation_rules.business_rules.push({ rule: 'room_type_known' });
    expect(validateConfigDocument(doc)).toEqual([
      {
        pointer: '/field_mappings/check_out',
        message: 'must be mapped: the reservation ledger cannot store a booking without it',
      },
      {
        pointer: '/validation_rules/required/3',
        message: 'names check_out, which field_mappings does not map',
      },
      {
        pointer: '/validation_rules/business_rules/0',
        message: 'check_out_after_check_in needs check_out, which field_mappings does not map',
      },
      {
        pointer: '/validation_rules/business_rules/1',
        message: 'max_stay_nights needs check_out, which field_mappings does not map',
      },
      {
        pointer: '/validation_rules/business_rules/2',
        message: 'room_type_known needs room_type_code, which field_mappings does not map',
      },
    ]);
  });

  it('is not fooled by things that are not objects', () => {
    for (const doc of [
      null,
      7,
      'config',
      [],
      { field_mappings: [] },
      { source: 'x', field_mappings: { status: 3 } },
    ]) {
      expect(validateConfigDocument(doc).length, JSON.stringify(doc)).toBeGreaterThan(0);
    }
  });
});

describe('configChecksum', () => {
  it('ignores key order and changes with content', () => {
    const a = acme();
    const reversed = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reversed)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reversed(x)]),
            )
          : v;
    const b = reversed(a);
    expect(Object.keys(b as object)[0]).not.toBe(Object.keys(a)[0]);
    expect(configChecksum(b as never)).toBe(configChecksum(a as never));
    a.description = 'changed';
    expect(configChecksum(a as never)).not.toBe(configChecksum(b as never));
  });
});

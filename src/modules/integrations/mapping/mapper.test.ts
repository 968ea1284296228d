import { describe, expect, it } from 'vitest';
import { PMSMappingError } from '../integrations.errors.ts';
import { compileMapper, compileTemplate } from './mapper.ts';

describe('compileTemplate', () => {
  it('fills pieces, renders missing ones empty and trims the result', () => {
    const raw = { g: { first: 'Ada', last: 'Lovelace' }, n: 3 };
    expect(compileTemplate('{{ $.g.first }} {{ $.g.last }}')(raw)).toBe('Ada Lovelace');
    expect(compileTemplate('{{$.g.missing}} {{ $.g.last }}')(raw)).toBe('Lovelace');
    expect(compileTemplate('Room {{ $.n }} (x{{$.n}})')(raw)).toBe('Room 3 (x3)');
    expect(compileTemplate('  {{ $.none }}  ')(raw)).toBe('');
  });
});

describe('compileMapper', () => {
  const mapper = compileMapper({
    field_mappings: {
      external_id: { path: '$.id', transform: 'to_string' },
      status: { path: '$.s', transform: 'map_status' },
      currency: { path: '$.cur', default: 'EUR' },
      notes: { const: 'imported' },
      adults: { path: '$.pax', transform: 'to_int', default: 1 },
      room_type_code: { path: '$.room' },
    },
    status_mappings: { A: 'confirmed' },
  });

  it('maps path, const, default, and transforms in that order', () => {
    expect(mapper.map({ id: 5, s: 'A', cur: 'GBP', pax: '2', room: 'DBL' })).toEqual({
      external_id: '5',
      status: 'confirmed',
      currency: 'GBP',
      notes: 'imported',
      adults: 2,
      room_type_code: 'DBL',
    });
    expect(mapper.map({ id: 5, s: 'A', cur: null })).toMatchObject({
      currency: 'EUR',
      adults: 1,
      room_type_code: null,
    });
  });

  it('names the field whose transform failed', () => {
    try {
      mapper.map({ id: 5, s: 'Z' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PMSMappingError);
      expect((error as PMSMappingError).field).toBe('status');
      expect((error as PMSMappingError).stage).toBe('mapping');
      expect((error as PMSMappingError).reason).toMatch(/"Z" is not in status_mappings/);
    }
  });

  it('refuses a path that points at an object', () => {
    expect(() => mapper.map({ id: 5, s: 'A', room: { code: 'DBL' } })).toThrow(
      /room_type_code: maps to an object/,
    );
  });

  it('reads the external id even when the rest of the record is bad', () => {
    expect(mapper.externalId({ id: 77, s: 'Z' })).toBe('77');
    expect(mapper.externalId({ s: 'Z' })).toBeNull();
  });
});

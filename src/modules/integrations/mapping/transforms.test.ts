import { describe, expect, it } from 'vitest';
import type { TransformSpec } from '../config/config.types.ts';
import { compileChain, compileTransform, TransformFailure, transformProblems } from './transforms.ts';

const ctx = { statusMappings: { BOOKED: 'confirmed', '8': 'cancelled' } };
const run = (spec: TransformSpec | TransformSpec[], value: unknown) => {
  const chain = compileChain(spec, ctx)!;
  return value === null ? null : chain(value);
};

describe('built-in transforms', () => {
  it('convert values', () => {
    expect(run('to_string', 42)).toBe('42');
    expect(run('to_string', true)).toBe('true');
    expect(run('to_int', ' 12 ')).toBe(12);
    expect(run('to_int', 3)).toBe(3);
    expect(run('to_decimal', '0389.50')).toBe('389.50');
    expect(run('to_decimal', 260.4)).toBe('260.4');
    expect(run('to_decimal', '+.5')).toBe('0.5');
    expect(run('to_decimal', 1e21)).toBe('1000000000000000000000');
    expect(run({ name: 'minor_to_decimal', digits: 2 }, 38900)).toBe('389.00');
    expect(run({ name: 'minor_to_decimal', digits: 2 }, '-5')).toBe('-0.05');
    expect(run({ name: 'minor_to_decimal', digits: 3 }, 1)).toBe('0.001');
    expect(run({ name: 'minor_to_decimal', digits: 0 }, 17)).toBe('17');
    expect(run('trim', '  x ')).toBe('x');
    expect(run('lower', 'ABC')).toBe('abc');
    expect(run('upper', 'abc')).toBe('ABC');
    expect(run('parse_date', '2026-03-01')).toBe('2026-03-01');
    expect(run({ name: 'parse_date', format: 'dd/MM/yyyy' }, '01/03/2026')).toBe('2026-03-01');
    expect(run({ name: 'parse_datetime', format: 'epoch_millis' }, 0)).toBe('1970-01-01T00:00:00.000Z');
    expect(run('map_status', 'BOOKED')).toBe('confirmed');
    expect(run('map_status', 8)).toBe('cancelled');
    expect(run({ name: 'lookup', table: { '1': 'STD' } }, 1)).toBe('STD');
    expect(run({ name: 'lookup', table: { '1': 'STD' }, default: 'UNK' }, 9)).toBe('UNK');
    expect(run({ name: 'split', separator: ',', index: 1 }, 'Doe, Jane')).toBe(' Jane');
    expect(run({ name: 'split', separator: ',', index: -1 }, 'a,b,c')).toBe('c');
  });

  it('apply a list in order and pass null along', () => {
    expect(run(['trim', 'lower'], '  Ada@X.COM ')).toBe('ada@x.com');
    expect(run([{ name: 'split', separator: ',', index: 1 }, 'trim'], 'NoComma')).toBeNull();
    expect(run([{ name: 'split', separator: ',', index: 1 }, 'trim'], 'Trailing,')).toBeNull();
    expect(run(['to_string', { name: 'parse_date', format: 'yyyyMMdd' }], 20260105)).toBe('2026-01-05');
  });

  it('read blank text as no value for numbers and dates', () => {
    for (const name of ['to_int', 'to_decimal', 'parse_date', 'parse_datetime'] as const) {
      expect(run(name, '  ')).toBeNull();
    }
    expect(run({ name: 'minor_to_decimal', digits: 2 }, '')).toBeNull();
    expect(run('trim', '  ')).toBe('');
  });

  it('fail with a reason on values they cannot read', () => {
    const failures: Array<[TransformSpec, unknown, RegExp]> = [
      ['to_int', '12.5', /not a whole number/],
      ['to_int', 'two', /not a whole number/],
      ['to_decimal', '12,50', /expected a decimal number/],
      ['to_decimal', Number.NaN, /not a finite number/],
      [{ name: 'minor_to_decimal', digits: 2 }, 12.5, /whole number/],
      ['lower', 12, /expected text/],
      ['to_string', { a: 1 }, /expected text, a number or a boolean/],
      ['parse_date', '2026-02-30', /day 30/],
      [{ name: 'parse_date', format: 'dd/MM/yyyy' }, '2026-02-01', /format dd\/MM\/yyyy/],
      ['parse_datetime', 'later', /parse_datetime/],
      ['map_status', 'WAITLIST', /"WAITLIST" is not in status_mappings/],
      [{ name: 'lookup', table: { '1': 'STD' } }, 7, /no entry for 7/],
      [{ name: 'split', separator: ',', index: 0 }, 7, /expected text/],
    ];
    for (const [spec, value, reason] of failures) {
      expect(() => compileTransform(spec, ctx)(value), JSON.stringify(spec)).toThrow(TransformFailure);
      expect(() => compileTransform(spec, ctx)(value), JSON.stringify(spec)).toThrow(reason);
    }
  });
});

describe('transformProblems (lint)', () => {
  it('names unknown transforms and bad arguments', () => {
    expect(transformProblems('nope', true)[0]![1]).toMatch(/unknown transform "nope"/);
    expect(transformProblems({ name: 'nope' }, true)[0]![0]).toBe('/name');
    expect(transformProblems('map_status', false)).toEqual([
      ['', 'map_status needs a non-empty status_mappings'],
    ]);
    expect(transformProblems({ name: 'minor_to_decimal', digits: 9 }, true)).toEqual([
      ['/digits', 'must be a whole number from 0 to 6'],
    ]);
    expect(transformProblems({ name: 'parse_datetime', timezone: 'Mars/Base' }, true)[0]![0]).toBe(
      '/timezone',
    );
    expect(transformProblems({ name: 'parse_date', format: 'yyyy' }, true)[0]![0]).toBe('/format');
    expect(transformProblems({ name: 'split', separator: '', index: 1.5 }, true).map((p) => p[0])).toEqual([
      '/separator',
      '/index',
    ]);
    expect(transformProblems({ name: 'parse_datetime', format: 'epoch_seconds' }, true)).toEqual([]);
  });
});

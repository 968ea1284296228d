import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { IncrementalSpec } from '../config/config.types.ts';
import { lintSource } from '../config/source.lint.ts';
import { cursorTimeFormat, parseInstant } from '../connector/instants.ts';
import { CursorTracker } from './cursor.ts';

const track = (incremental: IncrementalSpec, start: string | null, values: unknown[]) => {
  const tracker = new CursorTracker(incremental, start);
  for (const value of values) tracker.observe({ m: value });
  return tracker.advanced();
};

describe('CursorTracker: cursors in the formats PMSs speak', () => {
  it('iso8601 as version 1 had it: the latest instant, kept as the PMS wrote it', () => {
    const iso: IncrementalSpec = {
      cursor_path: '$.m',
      cursor_format: 'iso8601',
      initial: '2020-01-01T00:00:00Z',
    };
    expect(track(iso, null, ['2031-01-01T10:00:00+02:00', '2031-01-01T09:00:00Z', 'nonsense'])).toBe(
      '2031-01-01T09:00:00Z',
    );
    expect(track(iso, '2032-01-01T00:00:00Z', ['2031-01-01T09:00:00Z'])).toBeUndefined();
  });

  it('epoch seconds and milliseconds compare as numbers', () => {
    expect(
      track({ cursor_path: '$.m', cursor_format: 'epoch_seconds', initial: '0' }, '100', [99, '150', 120]),
    ).toBe('150');
    expect(track({ cursor_path: '$.m', cursor_format: 'epoch_millis', initial: '0' }, null, [5, 7, 6])).toBe(
      '7',
    );
  });

  it('a local date-time in a named zone compares as the instant it is there', () => {
    const local: IncrementalSpec = {
      cursor_path: '$.m',
      cursor_format: 'datetime',
      pattern: 'yyyy-MM-dd HH:mm:ss',
      timezone: 'America/New_York',
      initial: '2031-01-01 00:00:00',
    };
    // 08:30 in New York is 13:30 UTC, later than 12:00 UTC written with an offset elsewhere.
    expect(track(local, null, ['2031-03-10 08:30:00', '2031-03-10 07:59:59', '2031-02-30 00:00:00'])).toBe(
      '2031-03-10 08:30:00',
    );
    // Across the spring-forward night: 01:30 EST is before 03:10 EDT, 40 minutes apart.
    expect(track(local, null, ['2031-03-09 03:10:00', '2031-03-09 01:30:00'])).toBe('2031-03-09 03:10:00');
    expect(parseInstant('2031-03-10 08:30:00', cursorTimeFormat(local)!)).toBe(
      Date.parse('2031-03-10T12:30:00Z'),
    );
  });

  it('an opaque token is the last one seen, from the records or from the answers, never compared', () => {
    const opaque: IncrementalSpec = { cursor_path: '$.m', cursor_format: 'opaque', initial: 'start' };
    expect(track(opaque, 'old', ['zz', 'aa', ''])).toBe('aa');
    const fromAnswers = new CursorTracker({ ...opaque, cursor_source: 'response' }, null);
    fromAnswers.observe({ m: 'record-value' });
    fromAnswers.observeResponse('token-1');
    fromAnswers.observeResponse(undefined);
    fromAnswers.observeResponse('token-2');
    expect(fromAnswers.advanced()).toBe('token-2');
  });

  it('a windowed cursor is never moved by the records (its spans move it)', () => {
    const windowed: IncrementalSpec = {
      cursor_format: 'iso8601',
      initial: '2020-01-01T00:00:00Z',
      window: { max_days: 30 },
    };
    expect(track(windowed, null, ['2031-01-01T00:00:00Z'])).toBeUndefined();
  });

  it('the lint accepts a datetime cursor exactly when the connector reads it', () => {
    const patterns = ['yyyy-MM-dd HH:mm:ss', 'dd/MM/yyyy HH:mm', "yyyyMMdd'T'HHmmss", 'yyyy-MM-dd'];
    const zones = ['UTC', 'America/New_York', 'Asia/Kolkata'];
    const candidate = fc.oneof(
      // Real instants written in the pattern…
      fc
        .tuple(
          fc.integer({ min: Date.parse('1990-01-01'), max: Date.parse('2090-01-01') }),
          fc.constantFrom(...patterns),
          fc.constantFrom(...zones),
        )
        .map(([ms, pattern, zone]) => ({
          pattern,
          zone,
          initial: DateTime.fromMillis(ms, { zone }).toFormat(pattern),
        })),
      // …and near misses: a day that does not exist, a field out of range, text.
      fc
        .tuple(
          fc.constantFrom(...patterns),
          fc.constantFrom(...zones),
          fc.constantFrom(
            '2031-02-30 10:00:00',
            '31/13/2031 10:00',
            '20310101T250000',
            'yesterday',
            '2031-1-1',
            '',
          ),
        )
        .map(([pattern, zone, initial]) => ({ pattern, zone, initial })),
    );
    fc.assert(
      fc.property(candidate, ({ pattern, zone, initial }) => {
        const incremental = {
          cursor_path: '$.m',
          cursor_format: 'datetime',
          pattern,
          timezone: zone,
          initial,
        };
        const problems: string[] = [];
        lintSource({ request: { path: '/x' }, records: '$[*]', incremental }, (pointer) =>
          problems.push(pointer),
        );
        const reads = parseInstant(initial, { kind: 'pattern', pattern, zone }) !== undefined;
        expect(problems.includes('/source/incremental/initial')).toBe(!reads);
      }),
      { numRuns: 300 },
    );
  });
});

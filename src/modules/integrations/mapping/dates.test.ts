import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { dateFormatProblem, parseDate, parseDateTime } from './dates.ts';

const luxonDate = (text: string, format?: string) => {
  const dt = format
    ? DateTime.fromFormat(text.trim(), format, { zone: 'UTC', setZone: true })
    : DateTime.fromISO(text.trim(), { zone: 'UTC', setZone: true });
  return dt.isValid ? dt.toISODate() : null;
};
const luxonInstant = (text: string) => {
  const dt = DateTime.fromISO(text.trim(), { zone: 'UTC' });
  return dt.isValid ? dt.toUTC().toISO() : null;
};
const value = (p: ReturnType<typeof parseDate>) => (p.ok ? p.value : null);

describe('parseDate', () => {
  it('reads ISO and formatted dates and refuses dates that do not exist', () => {
    expect(parseDate('2026-03-01')).toEqual({ ok: true, value: '2026-03-01' });
    expect(parseDate('2026-03-01T23:30:00-05:00')).toEqual({ ok: true, value: '2026-03-01' });
    expect(parseDate('08/06/2026', 'dd/MM/yyyy')).toEqual({ ok: true, value: '2026-06-08' });
    expect(parseDate('20260105', 'yyyyMMdd')).toEqual({ ok: true, value: '2026-01-05' });
    expect(parseDate('5.1.2026', 'd.M.yyyy')).toEqual({ ok: true, value: '2026-01-05' });
    expect(parseDate('Jan 5, 2026', 'LLL d, yyyy')).toEqual({ ok: true, value: '2026-01-05' });
    for (const [text, format] of [
      ['2026-02-30', undefined],
      ['2026-13-01', undefined],
      ['31/04/2026', 'dd/MM/yyyy'],
      ['29/02/2025', 'dd/MM/yyyy'],
      ['20261301', 'yyyyMMdd'],
      ['1/2/2026', 'dd/MM/yyyy'],
      ['yesterday', undefined],
    ] as const) {
      expect(parseDate(text, format).ok, `${text} ${format}`).toBe(false);
    }
    expect(parseDate('29/02/2024', 'dd/MM/yyyy')).toEqual({ ok: true, value: '2024-02-29' });
  });

  it('counts leap years as Luxon does, year 0 included (Date.UTC would read it as 1900)', () => {
    expect(parseDate('0000-02-29')).toEqual({ ok: true, value: '0000-02-29' });
    expect(parseDate('29.2.0000', 'd.M.yyyy')).toEqual({ ok: true, value: '0000-02-29' });
    expect(parseDate('0004-02-29').ok).toBe(true);
    expect(parseDate('0100-02-29').ok).toBe(false);
    expect(parseDate('1900-02-29').ok).toBe(false);
    for (const text of ['0000-02-29', '0004-02-29', '0100-02-29']) {
      expect(value(parseDate(text))).toEqual(luxonDate(text));
    }
  });

  it('agrees with Luxon on every input the fast paths accept', () => {
    const digits = (n: number) =>
      fc.integer({ min: 0, max: 10 ** n - 1 }).map((v) => String(v).padStart(n, '0'));
    const parts = fc.tuple(digits(4), digits(2), digits(2), fc.integer({ min: 1, max: 31 }));
    fc.assert(
      fc.property(parts, ([y, m, d, loose]) => {
        expect(value(parseDate(`${y}-${m}-${d}`))).toEqual(luxonDate(`${y}-${m}-${d}`));
        expect(value(parseDate(`${d}/${m}/${y}`, 'dd/MM/yyyy'))).toEqual(
          luxonDate(`${d}/${m}/${y}`, 'dd/MM/yyyy'),
        );
        expect(value(parseDate(`${y}${m}${d}`, 'yyyyMMdd'))).toEqual(luxonDate(`${y}${m}${d}`, 'yyyyMMdd'));
        expect(value(parseDate(`${loose}.${Number(m)}.${y}`, 'd.M.yyyy'))).toEqual(
          luxonDate(`${loose}.${Number(m)}.${y}`, 'd.M.yyyy'),
        );
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseDateTime', () => {
  it('reads instants with offsets, local times in a zone, and epochs', () => {
    expect(parseDateTime('2026-02-22T01:00:02+01:00')).toEqual({
      ok: true,
      value: '2026-02-22T00:00:02.000Z',
    });
    expect(parseDateTime('2026-02-22T00:00:04.1239Z')).toEqual({
      ok: true,
      value: '2026-02-22T00:00:04.123Z',
    });
    expect(parseDateTime('2026-07-01 12:00', 'yyyy-MM-dd HH:mm', 'Europe/Paris')).toEqual({
      ok: true,
      value: '2026-07-01T10:00:00.000Z',
    });
    expect(parseDateTime('2026-07-01T12:00:00', undefined, 'America/New_York')).toEqual({
      ok: true,
      value: '2026-07-01T16:00:00.000Z',
    });
    expect(parseDateTime(1771718401, 'epoch_seconds')).toEqual({
      ok: true,
      value: '2026-02-22T00:00:01.000Z',
    });
    expect(parseDateTime('1771718401000', 'epoch_millis')).toEqual({
      ok: true,
      value: '2026-02-22T00:00:01.000Z',
    });
    expect(parseDateTime('2026-02-30T00:00:00Z').ok).toBe(false);
    expect(parseDateTime('soon', 'epoch_seconds').ok).toBe(false);
    expect(parseDateTime(99999999999999, 'epoch_seconds').ok).toBe(false);
  });

  it('refuses instants in years 0–99 rather than reading them as 1900–1999', () => {
    expect(parseDateTime('0050-01-01T00:00:00Z')).toEqual({ ok: false, reason: 'year 50 is out of range' });
    expect(parseDateTime('0099-06-01T12:00:00+01:00').ok).toBe(false);
  });

  it('agrees with Luxon on ISO instants with an offset', () => {
    const two = (max: number) => fc.integer({ min: 0, max }).map((v) => String(v).padStart(2, '0'));
    const instant = fc
      .tuple(
        fc.integer({ min: 1950, max: 2150 }),
        two(13),
        two(32),
        two(24),
        two(60),
        two(60),
        fc.option(fc.integer({ min: 0, max: 999999 }).map(String)),
        fc.constantFrom('Z', '+01:00', '-05:30', '+14:00', '-0800'),
      )
      .map(
        ([y, mo, d, h, mi, s, frac, off]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${frac ? `.${frac}` : ''}${off}`,
      );
    fc.assert(
      fc.property(instant, (text) => {
        const ours = parseDateTime(text);
        expect(ours.ok ? ours.value : null, text).toEqual(luxonInstant(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('dateFormatProblem', () => {
  it('accepts full date formats and refuses partial ones', () => {
    expect(dateFormatProblem('dd/MM/yyyy')).toBeUndefined();
    expect(dateFormatProblem('yyyy-MM-dd HH:mm')).toBeUndefined();
    expect(dateFormatProblem('MM/yyyy')).toMatch(/year, a month and a day/);
  });
});

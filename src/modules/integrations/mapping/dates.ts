import { DateTime, IANAZone, type TokenParser } from 'luxon';
import { compileLinearRegex, JS_SPACE, UnsupportedPatternError } from '../config/safe-regex.ts';

/**
 * Dates and timestamps as the PMS_CONFIG.md transforms read them. A date that does not exist
 * (month 13, February 30) is refused, never rolled over into another date.
 *
 * Luxon does the general parsing; the shapes almost every PMS uses (YYYY-MM-DD, day/month/year
 * numeric formats, ISO 8601 instants with an offset, epoch numbers) take a fast path that gives
 * the same answers (dates.test.ts checks that against Luxon), because ingestion reads hundreds
 * of thousands of them.
 */
export type Parsed = { ok: true; value: string } | { ok: false; reason: string };

function why(dt: DateTime): string {
  return dt.invalidExplanation ?? dt.invalidReason ?? 'not a valid date';
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in a month of the proleptic Gregorian calendar, as Luxon counts them (year 0 is leap). */
function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function ymd(year: number, month: number, day: number): Parsed {
  if (month < 1 || month > 12) return { ok: false, reason: `unit out of range: month ${month}` };
  if (day < 1 || day > daysIn(year, month)) {
    return { ok: false, reason: `unit out of range: day ${day} of ${pad(year, 4)}-${pad(month)}` };
  }
  return { ok: true, value: `${pad(year, 4)}-${pad(month)}-${pad(day)}` };
}

type FastDate = (text: string) => Parsed | undefined;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TOKEN = /yyyy|MM|M|dd|d|[A-Za-z]+|[^A-Za-z]+/g;
const fastFormats = new Map<string, FastDate | null>();

/** A regex parser for formats made only of yyyy, MM, M, dd, d and non-letter literals. */
function fastFormat(format: string): FastDate | null {
  const cached = fastFormats.get(format);
  if (cached !== undefined) return cached;
  const order: Array<'y' | 'm' | 'd'> = [];
  let source = '^';
  let usable = true;
  for (const [token] of format.matchAll(TOKEN)) {
    if (token === 'yyyy') source += '(\\d{4})';
    else if (token === 'MM' || token === 'dd') source += '(\\d{2})';
    else if (token === 'M' || token === 'd') source += '(\\d{1,2})';
    else if (/^[A-Za-z]/.test(token) || token.includes("'")) usable = false;
    else source += token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (token === 'yyyy') order.push('y');
    if (token === 'MM' || token === 'M') order.push('m');
    if (token === 'dd' || token === 'd') order.push('d');
  }
  const complete = order.length === 3 && new Set(order).size === 3;
  let parser: FastDate | null = null;
  if (usable && complete) {
    const regex = compileLinearRegex(`${source}$`);
    parser = (text) => {
      const match = regex.exec(text);
      if (!match) return undefined;
      const parts = { y: 0, m: 0, d: 0 };
      order.forEach((unit, i) => {
        parts[unit] = Number(match[i + 1]);
      });
      return ymd(parts.y, parts.m, parts.d);
    };
  }
  fastFormats.set(format, parser);
  return parser;
}

const formatParsers = new Map<string, TokenParser>();

/**
 * Luxon's parser of a format, matching in linear time. Luxon turns a format into one RegExp, and
 * a tenant's format of adjacent number tokens (`sHm` thirty times) made it backtrack for hours;
 * here that RegExp's source is matched by RE2 instead (Luxon calls `input.match(parser.regex)`).
 * Throws UnsupportedPatternError when the format makes too large a pattern.
 */
function formatParser(format: string): TokenParser {
  const cached = formatParsers.get(format);
  if (cached) return cached;
  const parser = DateTime.buildFormatParser(format) as TokenParser & { regex?: unknown; isValid?: boolean };
  if (parser.regex instanceof RegExp) {
    // RE2's \s is ASCII; Luxon's "any space but a newline" keeps its JavaScript meaning.
    const source = parser.regex.source.replaceAll(
      '[^\\S\\n\\r]',
      `[${JS_SPACE.replace('\\n', '').replace('\\r', '')}]`,
    );
    const linear = compileLinearRegex(source, { ignoreCase: parser.regex.flags.includes('i') });
    parser.regex = { [Symbol.match]: (text: string) => linear.exec(text) };
  } else if (parser.isValid !== false) {
    // A Luxon that no longer keeps its RegExp there would match with a backtracking engine.
    throw new Error('luxon changed how it parses formats: date formats cannot be matched in linear time');
  }
  if (formatParsers.size > 5000) formatParsers.clear();
  formatParsers.set(format, parser);
  return parser;
}

function fromFormat(text: string, format: string, options: { zone: string; setZone?: boolean }): DateTime {
  return DateTime.fromFormatParser(text, formatParser(format), options);
}

/** To a hotel-local YYYY-MM-DD: ISO 8601 by default, else Unicode tokens such as dd/MM/yyyy. */
export function parseDate(text: string, format?: string): Parsed {
  const trimmed = text.trim();
  if (format === undefined) {
    const match = ISO_DATE.exec(trimmed);
    if (match) return ymd(Number(match[1]), Number(match[2]), Number(match[3]));
  } else {
    const fast = fastFormat(format)?.(trimmed);
    if (fast) return fast;
  }
  const dt = format
    ? fromFormat(trimmed, format, { zone: 'UTC', setZone: true })
    : DateTime.fromISO(trimmed, { zone: 'UTC', setZone: true });
  if (!dt.isValid) return { ok: false, reason: why(dt) };
  return { ok: true, value: dt.toISODate()! };
}

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|([+-])(\d{2}):?(\d{2}))$/;

function instant(ms: number): Parsed {
  if (!Number.isFinite(ms)) return { ok: false, reason: 'not a valid time' };
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 1900 || year > 2200)
    return { ok: false, reason: `year ${year} is out of range` };
  return { ok: true, value: date.toISOString() };
}

/** An ISO 8601 instant that carries its offset, without Luxon; undefined when it is another shape. */
function fastIsoInstant(text: string): Parsed | undefined {
  const m = ISO_INSTANT.exec(text);
  if (!m) return undefined;
  const day = ymd(Number(m[1]), Number(m[2]), Number(m[3]));
  if (!day.ok) return day;
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  let offset = 0;
  if (m[8] !== 'Z') {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 23 || om > 59) return undefined;
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  // Date.UTC reads years 0–99 as 1900–1999; those years are out of range anyway.
  const year = Number(m[1]);
  if (year < 100) return { ok: false, reason: `year ${year} is out of range` };
  const utc = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), hour, minute, second, millis);
  return instant(utc - offset * 60_000);
}

/** To an instant as ISO 8601 UTC; a value without an offset is read in `timezone` (default UTC). */
export function parseDateTime(value: string | number, format?: string, timezone = 'UTC'): Parsed {
  if (format === 'epoch_seconds' || format === 'epoch_millis') {
    const n = typeof value === 'number' ? value : Number(String(value).trim());
    if (!Number.isFinite(n) || String(value).trim() === '') {
      return {
        ok: false,
        reason: `expected a number of ${format === 'epoch_seconds' ? 'seconds' : 'milliseconds'}`,
      };
    }
    return instant(Math.trunc(format === 'epoch_seconds' ? n * 1000 : n));
  }
  if (typeof value !== 'string') return { ok: false, reason: 'expected text' };
  const trimmed = value.trim();
  if (!format) {
    const fast = fastIsoInstant(trimmed);
    if (fast) return fast;
  }
  const dt = format
    ? fromFormat(trimmed, format, { zone: timezone })
    : DateTime.fromISO(trimmed, { zone: timezone });
  if (!dt.isValid) return { ok: false, reason: why(dt) };
  return instant(dt.toMillis());
}

/**
 * The hotel-local date (YYYY-MM-DD) of a moment in `zone`. A value with an offset (or Z, or an
 * epoch) is an instant, converted to the zone; one without is read as a wall time of the zone, so
 * its written date is kept (a wall time that DST skips moves forward, as Luxon moves it).
 */
export function localDate(value: string | number, format: string | undefined, zone: string): Parsed {
  let ms: number | undefined;
  if (format === 'epoch_seconds' || format === 'epoch_millis') {
    const at = parseDateTime(value, format, zone);
    if (!at.ok) return at;
    ms = Date.parse(at.value);
  } else {
    if (typeof value !== 'string') return { ok: false, reason: 'expected text' };
    const trimmed = value.trim();
    if (!format) {
      const fast = fastIsoInstant(trimmed);
      if (fast && !fast.ok) return fast;
      if (fast?.ok) ms = Date.parse(fast.value);
    }
    if (ms === undefined) {
      const dt = format ? fromFormat(trimmed, format, { zone }) : DateTime.fromISO(trimmed, { zone });
      if (!dt.isValid) return { ok: false, reason: why(dt) };
      const at = instant(dt.toMillis());
      if (!at.ok) return at;
      ms = dt.toMillis();
    }
  }
  const local = DateTime.fromMillis(ms, { zone });
  if (!local.isValid) return { ok: false, reason: why(local) };
  return { ok: true, value: local.toISODate()! };
}

export function isValidTimezone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

const PROBE = DateTime.fromObject(
  { year: 2031, month: 11, day: 27, hour: 13, minute: 45, second: 56 },
  { zone: 'UTC' },
);

/** Undefined when a date format reads back a full date (year, month, day), else why not. */
export function dateFormatProblem(format: string): string | undefined {
  const text = PROBE.toFormat(format);
  let back: DateTime;
  try {
    back = fromFormat(text, format, { zone: 'UTC' });
  } catch (error) {
    if (error instanceof UnsupportedPatternError)
      return `is too complex a date format: its pattern ${error.message}`;
    throw error;
  }
  if (!back.isValid) return `is not a usable date format (${why(back)})`;
  if (back.toISODate() !== PROBE.toISODate()) return 'must contain a year, a month and a day';
  return undefined;
}

/** A canonical YYYY-MM-DD that exists. */
export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = ISO_DATE.exec(value);
  return match !== null && ymd(Number(match[1]), Number(match[2]), Number(match[3])).ok;
}

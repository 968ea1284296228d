import { DateTime } from 'luxon';
import type { IncrementalSpec } from '../config/config.types.ts';
import { parseDateTime } from '../mapping/dates.ts';

/**
 * How an instant is written in a request or a cursor: ISO 8601 (UTC), epoch seconds or
 * milliseconds (numbers), a date, or Luxon tokens in a named zone (`yyyy-MM-dd HH:mm:ss`).
 */
export type TimeFormat =
  | { kind: 'iso8601' | 'epoch_seconds' | 'epoch_millis'; zone?: string }
  | { kind: 'date' | 'pattern'; pattern: string; zone: string };

const KEYWORDS = new Set(['iso8601', 'epoch_seconds', 'epoch_millis']);

/** The format a placeholder suffix names (`{now:epoch_seconds}`, `{now:yyyy-MM-dd}`), in `zone`. */
export function suffixFormat(suffix: string, zone: string): TimeFormat {
  if (KEYWORDS.has(suffix)) return { kind: suffix as 'iso8601' };
  if (suffix === 'date') return { kind: 'date', pattern: 'yyyy-MM-dd', zone };
  return { kind: 'pattern', pattern: suffix, zone };
}

/** Luxon's formatting tokens; any other letter outside quotes is a typo, never written as it is. */
const TOKEN_LETTERS = /^[GyYkWoqQMLdEcaHhKmsSuZz]$/;

/** Undefined when a suffix is a usable format, otherwise why not (the lint's check). */
export function suffixProblem(suffix: string): string | undefined {
  if (KEYWORDS.has(suffix) || suffix === 'date') return undefined;
  const letters = suffix.replace(/'[^']*'/g, '').match(/[A-Za-z]/g) ?? [];
  if (letters.length === 0 || letters.some((letter) => !TOKEN_LETTERS.test(letter)))
    return `"${suffix}" is not a time format (iso8601, epoch_seconds, epoch_millis, date or Luxon tokens such as yyyy-MM-dd HH:mm:ss)`;
  return undefined;
}

/** The time format of a cursor, or undefined for an opaque cursor. */
export function cursorTimeFormat(incremental: IncrementalSpec | undefined): TimeFormat | undefined {
  if (!incremental) return undefined;
  const zone = incremental.timezone ?? 'UTC';
  switch (incremental.cursor_format) {
    case 'iso8601':
      return { kind: 'iso8601', zone: incremental.timezone };
    case 'epoch_seconds':
    case 'epoch_millis':
      return { kind: incremental.cursor_format };
    case 'datetime':
      return { kind: 'pattern', pattern: incremental.pattern ?? '', zone };
    default:
      return undefined;
  }
}

/** The instant (epoch milliseconds) a value written in `format` stands for, or undefined. */
export function parseInstant(value: unknown, format: TimeFormat): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  let millis: number;
  switch (format.kind) {
    case 'iso8601': {
      // Version 1 compared with Date.parse; a named zone reads ISO values that carry no offset.
      if (!format.zone) {
        millis = Date.parse(String(value));
        break;
      }
      const parsed = parseDateTime(String(value), undefined, format.zone);
      return parsed.ok ? Date.parse(parsed.value as string) : undefined;
    }
    case 'epoch_seconds':
      millis = Number(value) * 1000;
      break;
    case 'epoch_millis':
      millis = Number(value);
      break;
    default: {
      // The same linear-time parser as the mapping's dates (config/safe-regex.ts).
      const parsed = parseDateTime(String(value), format.pattern, format.zone);
      return parsed.ok ? Date.parse(parsed.value as string) : undefined;
    }
  }
  return Number.isFinite(millis) ? millis : undefined;
}

/** An instant written in `format`: numbers for epochs, text otherwise. */
export function formatInstant(millis: number, format: TimeFormat): string | number {
  switch (format.kind) {
    case 'iso8601':
      return new Date(millis).toISOString();
    case 'epoch_seconds':
      return Math.floor(millis / 1000);
    case 'epoch_millis':
      return millis;
    default:
      return DateTime.fromMillis(millis, { zone: format.zone }).toFormat(format.pattern);
  }
}

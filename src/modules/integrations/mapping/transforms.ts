import { Decimal } from 'decimal.js';
import type { Scalar, TransformName, TransformSpec } from '../config/config.types.ts';
import { TRANSFORM_NAMES } from '../config/config.types.ts';
import { shown } from '../integrations.errors.ts';
import { dateFormatProblem, isValidTimezone, localDate, parseDate, parseDateTime } from './dates.ts';

/** A transform could not handle its input; the mapper turns it into a PMSMappingError naming the field. */
export class TransformFailure extends Error {}

/**
 * What a run knows besides the config (v2): the connection's value maps and the property's time
 * zone. A config is per PMS; these are per hotel, so they come with each call, not at compile time.
 */
export interface MapEnv {
  valueMaps: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The property's IANA time zone, for `timezone: "property"`. */
  timezone: string;
}

export const EMPTY_ENV: MapEnv = Object.freeze({ valueMaps: Object.freeze({}), timezone: 'UTC' });

/** Called with a non-null value; a transform never sees null (null passes along the chain). */
export type TransformFn = (value: unknown, env?: MapEnv) => unknown;

export interface TransformContext {
  statusMappings: Record<string, string>;
}

/** `timezone` of a date transform: an IANA zone, or `property` for the hotel's own. */
const zoneOf = (timezone: string, env: MapEnv = EMPTY_ENV) =>
  timezone === 'property' ? env.timezone : timezone;

type Args = Record<string, unknown>;

const DECIMAL_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
/** Names of a connection's value maps. */
export const VALUE_MAP_NAME = /^[a-z][a-z0-9_]{0,49}$/;
const INTEGER_TEXT = /^[+-]?\d+$/;

function fail(name: string, value: unknown, why: string): never {
  throw new TransformFailure(`${name} cannot read ${shown(value)}: ${why}`);
}

function asText(name: string, value: unknown): string {
  if (typeof value !== 'string') fail(name, value, 'expected text');
  return value;
}

/** A decimal number as canonical text: no sign for positives, no leading zeros, no exponent. */
export function decimalText(name: string, value: unknown): string {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(name, value, 'not a finite number');
    text = String(value);
    if (text.includes('e')) return new Decimal(value).toFixed();
  } else if (typeof value === 'string' && DECIMAL_TEXT.test(value.trim())) {
    text = value.trim();
  } else {
    fail(name, value, 'expected a decimal number');
  }
  const negative = text.startsWith('-');
  if (negative || text.startsWith('+')) text = text.slice(1);
  let [whole, fraction = ''] = text.split('.') as [string, string?];
  whole = whole.replace(/^0+(?=\d)/, '') || '0';
  const out = fraction ? `${whole}.${fraction}` : whole;
  return negative && /[1-9]/.test(out) ? `-${out}` : out;
}

/** Minor units (cents) to a decimal with `digits` places, in exact text arithmetic. */
function minorToDecimal(value: unknown, digits: number): string {
  const minor = decimalText('minor_to_decimal', value);
  if (minor.includes('.')) fail('minor_to_decimal', value, 'minor units must be a whole number');
  const negative = minor.startsWith('-');
  const magnitude = (negative ? minor.slice(1) : minor).padStart(digits + 1, '0');
  const whole = magnitude.slice(0, magnitude.length - digits);
  const out = digits > 0 ? `${whole}.${magnitude.slice(-digits)}` : whole;
  return negative ? `-${out}` : out;
}

const builders: Record<TransformName, (args: Args, ctx: TransformContext) => TransformFn> = {
  to_string: () => (value) => {
    if (typeof value === 'string') return value;
    if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean')
      return String(value);
    fail('to_string', value, 'expected text, a number or a boolean');
  },
  to_int: () => (value) => {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) fail('to_int', value, 'not a whole number');
      return value;
    }
    if (typeof value === 'string' && INTEGER_TEXT.test(value.trim())) {
      const n = Number(value.trim());
      if (!Number.isSafeInteger(n)) fail('to_int', value, 'out of range');
      return n;
    }
    fail('to_int', value, 'not a whole number');
  },
  to_decimal: () => (value) => decimalText('to_decimal', value),
  minor_to_decimal: (args) => {
    const digits = Number(args.digits);
    return (value) => minorToDecimal(value, digits);
  },
  trim: () => (value) => asText('trim', value).trim(),
  lower: () => (value) => asText('lower', value).toLowerCase(),
  upper: () => (value) => asText('upper', value).toUpperCase(),
  parse_date: (args) => {
    const format = args.format as string | undefined;
    return (value) => {
      const text =
        typeof value === 'number' && Number.isInteger(value) ? String(value) : asText('parse_date', value);
      const parsed = parseDate(text, format);
      if (!parsed.ok) fail('parse_date', value, `${parsed.reason}${format ? ` (format ${format})` : ''}`);
      return parsed.value;
    };
  },
  parse_datetime: (args) => {
    const format = args.format as string | undefined;
    const timezone = (args.timezone as string | undefined) ?? 'UTC';
    return (value, env) => {
      if (typeof value !== 'string' && typeof value !== 'number')
        fail('parse_datetime', value, 'expected text or a number');
      const parsed = parseDateTime(value, format, zoneOf(timezone, env));
      if (!parsed.ok) fail('parse_datetime', value, parsed.reason);
      return parsed.value;
    };
  },
  local_date: (args) => {
    const format = args.format as string | undefined;
    const timezone = (args.timezone as string | undefined) ?? 'property';
    return (value, env) => {
      if (typeof value !== 'string' && typeof value !== 'number')
        fail('local_date', value, 'expected text or a number');
      const zone = zoneOf(timezone, env);
      const parsed = localDate(value, format, zone);
      if (!parsed.ok) fail('local_date', value, `${parsed.reason} (in ${zone})`);
      return parsed.value;
    };
  },
  value_map: (args) => {
    const name = args.map as string;
    const hasDefault = Object.hasOwn(args, 'default');
    return (value, env) => {
      if (typeof value === 'object') fail('value_map', value, 'expected a scalar');
      const maps = (env ?? EMPTY_ENV).valueMaps;
      const map = Object.hasOwn(maps, name) ? maps[name] : undefined;
      if (!map) {
        throw new TransformFailure(
          `value map "${name}" is not set on this hotel's connection; add it (PATCH …/connections/{property_id}/value-maps/) and replay`,
        );
      }
      const key = String(value);
      if (Object.hasOwn(map, key)) return map[key];
      if (hasDefault) return args.default;
      throw new TransformFailure(
        `value map "${name}" of this hotel's connection has no entry for ${shown(value)}; add it and replay`,
      );
    };
  },
  map_status: (_args, ctx) => (value) => {
    if (typeof value !== 'string' && typeof value !== 'number')
      fail('map_status', value, 'expected a status code');
    const key = String(value);
    if (!Object.hasOwn(ctx.statusMappings, key)) {
      throw new TransformFailure(`status ${shown(value)} is not in status_mappings`);
    }
    return ctx.statusMappings[key];
  },
  lookup: (args) => {
    const table = args.table as Record<string, Scalar>;
    const hasDefault = Object.hasOwn(args, 'default');
    return (value) => {
      if (typeof value === 'object') fail('lookup', value, 'expected a scalar');
      const key = String(value);
      if (Object.hasOwn(table, key)) return table[key];
      if (hasDefault) return args.default;
      throw new TransformFailure(`lookup has no entry for ${shown(value)}`);
    };
  },
  split: (args) => {
    const separator = args.separator as string;
    const index = Number(args.index);
    return (value) => {
      const parts = asText('split', value).split(separator);
      const piece = parts[index < 0 ? parts.length + index : index];
      return piece === undefined || piece === '' ? null : piece;
    };
  },
};

/** Numbers and dates read blank text as no value, so an empty column of a flat export is null, not an error. */
const BLANK_IS_NULL = new Set<string>([
  'to_int',
  'to_decimal',
  'minor_to_decimal',
  'parse_date',
  'parse_datetime',
  'local_date',
]);
const isBlank = (value: unknown) => typeof value === 'string' && value.trim() === '';

function nameAndArgs(spec: TransformSpec): { name: string; args: Args } {
  if (typeof spec === 'string') return { name: spec, args: {} };
  const { name, ...args } = spec;
  return { name: String(name), args };
}

export function compileTransform(spec: TransformSpec, ctx: TransformContext): TransformFn {
  const { name, args } = nameAndArgs(spec);
  const build = builders[name as TransformName];
  if (!build) throw new Error(`unknown transform ${name}`);
  const fn = build(args, ctx);
  return BLANK_IS_NULL.has(name) ? (value, env) => (isBlank(value) ? null : fn(value, env)) : fn;
}

/** Compiles a transform chain; null is passed on without calling the next transform. */
export function compileChain(
  spec: TransformSpec | TransformSpec[] | undefined,
  ctx: TransformContext,
): TransformFn | undefined {
  if (spec === undefined) return undefined;
  const steps = (Array.isArray(spec) ? spec : [spec]).map((s) => compileTransform(s, ctx));
  if (steps.length === 1) return steps[0];
  return (value, env) => {
    let current = value;
    for (const step of steps) {
      if (current === null || current === undefined) return null;
      current = step(current, env);
    }
    return current;
  };
}

/**
 * Problems with one transform's name and arguments (the lint), as `[relative pointer, message]`.
 * The JSON Schema checks the argument shapes; this checks what a schema cannot.
 */
export function transformProblems(spec: unknown, hasStatusMappings: boolean): Array<[string, string]> {
  if (typeof spec !== 'string' && (typeof spec !== 'object' || spec === null || Array.isArray(spec))) {
    return [['', 'must be a transform name or an object with a name']];
  }
  const { name, args } = nameAndArgs(spec as TransformSpec);
  if (!(TRANSFORM_NAMES as readonly string[]).includes(name)) {
    return [
      [
        typeof spec === 'string' ? '' : '/name',
        `unknown transform "${name}"; known: ${TRANSFORM_NAMES.join(', ')}`,
      ],
    ];
  }
  const problems: Array<[string, string]> = [];
  const format = args.format;
  switch (name as TransformName) {
    case 'map_status':
      if (!hasStatusMappings) problems.push(['', 'map_status needs a non-empty status_mappings']);
      break;
    case 'minor_to_decimal':
      if (!Number.isInteger(args.digits) || (args.digits as number) < 0 || (args.digits as number) > 6) {
        problems.push(['/digits', 'must be a whole number from 0 to 6']);
      }
      break;
    case 'parse_date':
      if (format !== undefined) {
        const problem = typeof format === 'string' ? dateFormatProblem(format) : 'must be text';
        if (problem) problems.push(['/format', problem]);
      }
      break;
    case 'parse_datetime':
    case 'local_date':
      if (format !== undefined && format !== 'epoch_seconds' && format !== 'epoch_millis') {
        const problem = typeof format === 'string' ? dateFormatProblem(format) : 'must be text';
        if (problem) problems.push(['/format', problem]);
      }
      if (
        args.timezone !== undefined &&
        (typeof args.timezone !== 'string' ||
          (args.timezone !== 'property' && !isValidTimezone(args.timezone)))
      ) {
        problems.push(['/timezone', `is not an IANA time zone (e.g. Europe/Paris) or "property"`]);
      }
      break;
    case 'value_map':
      if (typeof args.map !== 'string' || !VALUE_MAP_NAME.test(args.map)) {
        problems.push(['/map', 'must name a value map: lower-case letters, digits and _, e.g. room_types']);
      }
      break;
    case 'lookup':
      if (typeof args.table !== 'object' || args.table === null || Array.isArray(args.table)) {
        problems.push(['/table', 'must be an object mapping codes to values']);
      }
      break;
    case 'split':
      if (typeof args.separator !== 'string' || args.separator === '')
        problems.push(['/separator', 'must be non-empty text']);
      if (!Number.isInteger(args.index)) problems.push(['/index', 'must be a whole number']);
      break;
    default:
      break;
  }
  return problems;
}

/**
 * The value maps a config's `value_map` transforms name, each with the JSON pointer of its first
 * use: a connection must carry every one of them.
 */
export function valueMapsUsedBy(document: unknown): Map<string, string> {
  const used = new Map<string, string>();
  const doc = document as {
    field_mappings?: Record<string, { transform?: unknown }>;
    rooms?: { field_mappings?: Record<string, { transform?: unknown }> };
  };
  const visit = (base: string, mappings: Record<string, { transform?: unknown }> | undefined) => {
    for (const [field, mapping] of Object.entries(mappings ?? {})) {
      const transform = mapping?.transform;
      const steps = Array.isArray(transform) ? transform : [transform];
      steps.forEach((step, i) => {
        const spec = step as { name?: unknown; map?: unknown } | undefined;
        if (spec && typeof spec === 'object' && spec.name === 'value_map' && typeof spec.map === 'string') {
          const at = `${base}/${field.replaceAll('~', '~0').replaceAll('/', '~1')}/transform${Array.isArray(transform) ? `/${i}` : ''}`;
          if (!used.has(spec.map)) used.set(spec.map, at);
        }
      });
    }
  };
  visit('/field_mappings', doc.field_mappings);
  visit('/rooms/field_mappings', doc.rooms?.field_mappings);
  return used;
}

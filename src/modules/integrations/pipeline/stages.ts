import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { Decimal } from 'decimal.js';
import { daysBetween } from '../../../app/dates.ts';
import {
  CANONICAL_STATUSES,
  type CanonicalField,
  type FieldRule,
  FREE_TEXT_FIELDS,
  LEDGER_REQUIRED,
  type PmsConfigDocument,
  type RoomField,
} from '../config/config.types.ts';
import {
  compileLinearRegex,
  JS_SPACE,
  linearRegExpEngine,
  linearRegexProblem,
} from '../config/safe-regex.ts';
import {
  PMSBusinessRuleError,
  PMSDataValidationError,
  PMSMappingError,
  shown,
} from '../integrations.errors.ts';
import { isIsoDate } from '../mapping/dates.ts';
import type { MappedRecord, MappedRoom } from '../mapping/mapper.ts';
import { decimalText } from '../mapping/transforms.ts';

type AddFormats = (ajv: Ajv2020) => Ajv2020;
const addFormats: AddFormats =
  (formatsModule as unknown as { default?: AddFormats }).default ?? (formatsModule as unknown as AddFormats);

/**
 * A fresh validator per compile, so two configs' raw schemas never clash on `$id`. Every pattern
 * of a raw schema is matched by the linear-time engine (safe-regex.ts), and `format: regex` means
 * a pattern in that same dialect.
 */
export function newRawSchemaAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: false,
    strict: false,
    validateFormats: true,
    code: { regExp: linearRegExpEngine },
    // A tenant's schema must not write to the server's console (unknown formats, for one).
    logger: false,
  });
  addFormats(ajv);
  ajv.addFormat('regex', (text: string) => linearRegexProblem(text) === undefined);
  // ajv-formats' `url` RegExp backtracks (40,000 characters took 5.5 s): the WHATWG parser is linear.
  ajv.addFormat('url', isHttpOrFtpUrl);
  return ajv;
}

function isHttpOrFtpUrl(text: string): boolean {
  if (/\s/.test(text)) return false;
  try {
    const url = new URL(text);
    return ['http:', 'https:', 'ftp:'].includes(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Stage 1: the raw record against `raw_schema` (JSON Schema 2020-12). */
export function compileRawSchemaStage(schema: Record<string, unknown> | undefined): (raw: unknown) => void {
  if (!schema) return () => {};
  const validate = newRawSchemaAjv().compile(schema);
  return (raw) => {
    if (validate(raw)) return;
    const error = validate.errors?.[0];
    let pointer = error?.instancePath ?? '';
    if (error?.keyword === 'required')
      pointer += `/${(error.params as { missingProperty: string }).missingProperty}`;
    const reason =
      error?.keyword === 'required'
        ? 'is required by raw_schema'
        : `${error?.message ?? 'is invalid'} (raw_schema)`;
    throw new PMSDataValidationError('raw_schema', pointer || '/', reason);
  };
}

/**
 * Stage 3: trim, empty string to null, HTML escaping of free-text fields (trim and empty-to-null
 * by default), for the booking's fields and each room's (rooms have no free text).
 */
export function compileSanitiser(
  options: PmsConfigDocument['sanitization'],
): (record: MappedRecord, rooms?: MappedRoom[] | null) => void {
  const trim = options?.trim_strings ?? true;
  const emptyToNull = options?.empty_to_null ?? true;
  const escapeFreeText = options?.escape_html ?? false;
  const clean = (values: Record<string, unknown>, freeText: readonly string[]) => {
    for (const key of Object.keys(values)) {
      const original = values[key];
      if (typeof original !== 'string') continue;
      let value: string = trim ? original.trim() : original;
      if (emptyToNull && value === '') {
        values[key] = null;
        continue;
      }
      if (escapeFreeText && freeText.includes(key)) value = escapeHtml(value);
      values[key] = value;
    }
  };
  return (record, rooms) => {
    clean(record, FREE_TEXT_FIELDS);
    for (const room of rooms ?? []) clean(room, []);
  };
}

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML[c]!);
}

// /^[^\s@]+@[^\s@]+\.[^\s@]+$/ in linear time: as a RegExp, `a@` and 100,000 dots took seconds.
const EMAIL_PART = `[^${JS_SPACE}@]+`;
const EMAIL = compileLinearRegex(`^${EMAIL_PART}@${EMAIL_PART}\\.${EMAIL_PART}$`);
const PHONE = /^\+?[0-9 ().\-/]{5,30}$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;

function invalid(field: string, reason: string): never {
  throw new PMSDataValidationError('field_rules', field, reason);
}

/** Compares a numeric value with a bound: -1, 0 or 1; exact (Decimal) beyond double precision. */
function compare(field: string, value: unknown, bound: number): number {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.sign(value - bound);
  if (typeof value !== 'string' || !DECIMAL.test(value)) invalid(field, `${shown(value)} is not a number`);
  if (value.length <= 15) return Math.sign(Number(value) - bound);
  return new Decimal(value).comparedTo(bound);
}

function compileFieldRule(field: string, rule: FieldRule): (value: unknown) => void {
  const pattern = rule.pattern !== undefined ? compileLinearRegex(rule.pattern) : undefined;
  return (value) => {
    switch (rule.type) {
      case 'string':
        if (typeof value !== 'string') invalid(field, 'must be text');
        break;
      case 'integer':
        if (!Number.isInteger(value)) invalid(field, `${shown(value)} is not a whole number`);
        break;
      case 'decimal':
        compare(field, value, 0);
        break;
      case 'date':
        if (!isIsoDate(value)) invalid(field, `${shown(value)} is not a date (YYYY-MM-DD)`);
        break;
      case 'boolean':
        if (typeof value !== 'boolean') invalid(field, 'must be true or false');
        break;
      default:
        break;
    }
    if (rule.min !== undefined && compare(field, value, rule.min) < 0)
      invalid(field, `must be at least ${rule.min}`);
    if (rule.max !== undefined && compare(field, value, rule.max) > 0)
      invalid(field, `must be at most ${rule.max}`);
    const length = String(value).length;
    if (rule.min_length !== undefined && length < rule.min_length) {
      invalid(field, `must have at least ${rule.min_length} characters`);
    }
    if (rule.max_length !== undefined && length > rule.max_length) {
      invalid(field, `must have at most ${rule.max_length} characters`);
    }
    if (pattern && !pattern.test(String(value)))
      invalid(field, `${shown(value)} does not match ${rule.pattern}`);
    if (rule.enum && !rule.enum.some((allowed) => allowed === value)) {
      invalid(field, `${shown(value)} is not one of ${rule.enum.map((v) => JSON.stringify(v)).join(', ')}`);
    }
    if (rule.format === 'email' && !EMAIL.test(String(value)))
      invalid(field, `${shown(value)} is not an email address`);
    if (
      rule.format === 'phone' &&
      (!PHONE.test(String(value)) || String(value).replace(/\D/g, '').length < 5)
    ) {
      invalid(field, `${shown(value)} is not a phone number`);
    }
  };
}

const TEXT_LIMITS: Partial<Record<CanonicalField, number>> = {
  external_id: 200,
  'guest.first_name': 200,
  'guest.last_name': 200,
  'guest.full_name': 400,
  'guest.email': 320,
  'guest.phone': 50,
  room_type_code: 100,
  room_number: 50,
  notes: 4000,
};

/**
 * What the ledger itself needs whatever the config says: the four fields a booking cannot be
 * stored without, and every value in its canonical type (numbers given for text fields are
 * taken as their text). These are field-rule failures too.
 */
function checkCanonicalShape(record: MappedRecord): void {
  for (const [field, limit] of Object.entries(TEXT_LIMITS) as Array<[CanonicalField, number]>) {
    const value = record[field];
    if (value === null || value === undefined) continue;
    if (typeof value === 'number' && Number.isFinite(value)) record[field] = String(value);
    else if (typeof value !== 'string') invalid(field, 'must be text');
    if ((record[field] as string).length > limit) invalid(field, `must have at most ${limit} characters`);
  }
  if (record.status !== null && record.status !== undefined) {
    if (!(CANONICAL_STATUSES as readonly unknown[]).includes(record.status)) {
      throw new PMSMappingError(
        'status',
        `${shown(record.status)} is not a canonical status; map it with map_status`,
      );
    }
  }
  for (const field of ['check_in', 'check_out'] as const) {
    const value = record[field];
    if (value !== null && value !== undefined && !isIsoDate(value)) {
      invalid(field, `${shown(value)} is not a date (YYYY-MM-DD); parse it with parse_date`);
    }
  }
  for (const field of ['adults', 'children'] as const) {
    const value = record[field];
    if (value === null || value === undefined) continue;
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 1000) {
      invalid(field, `${shown(value)} is not a whole number from 0 to 1000`);
    }
  }
  const amount = record.total_amount;
  if (amount !== null && amount !== undefined) {
    const value =
      typeof amount === 'number' && Number.isFinite(amount) ? decimalText('total_amount', amount) : amount;
    if (typeof value !== 'string' || !DECIMAL.test(value))
      invalid('total_amount', `${shown(amount)} is not a decimal amount`);
    // numeric(12, 2) in the ledger: at most ten digits before the point.
    if (/^-?0*\d{11,}/.test(value))
      invalid('total_amount', 'is too large (at most 10 digits before the point)');
    record.total_amount = value;
  }
  const currency = record.currency;
  if (
    currency !== null &&
    currency !== undefined &&
    (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))
  ) {
    invalid('currency', `${shown(currency)} is not an ISO 4217 code (three capital letters)`);
  }
  const updated = record.source_updated_at;
  if (
    updated !== null &&
    updated !== undefined &&
    (typeof updated !== 'string' || Number.isNaN(Date.parse(updated)))
  ) {
    invalid('source_updated_at', `${shown(updated)} is not a timestamp; parse it with parse_datetime`);
  }
}

const ROOM_TEXT_LIMITS: Partial<Record<RoomField, number>> = {
  external_id: 200,
  room_type_code: 100,
  room_number: 50,
  rate_plan_code: 100,
};

/** What the ledger needs of each room, whatever the config says (as checkCanonicalShape for the booking). */
function checkRoomShape(rooms: MappedRoom[], grouped: boolean): void {
  const seen = new Map<string, number>();
  rooms.forEach((room, i) => {
    const at = (field: string) => `rooms[${i}].${field}`;
    for (const [field, limit] of Object.entries(ROOM_TEXT_LIMITS) as Array<[RoomField, number]>) {
      const value = room[field];
      if (value === null || value === undefined) continue;
      if (typeof value === 'number' && Number.isFinite(value)) room[field] = String(value);
      else if (typeof value !== 'string') invalid(at(field), 'must be text');
      if ((room[field] as string).length > limit) invalid(at(field), `must have at most ${limit} characters`);
    }
    const id = room.external_id;
    if (typeof id === 'string') {
      const first = seen.get(id);
      if (first !== undefined) invalid(at('external_id'), `${shown(id)} repeats rooms[${first}].external_id`);
      seen.set(id, i);
    } else if (grouped) {
      invalid(at('external_id'), 'is required: the rooms of a group are told apart by it');
    }
    if (room.status !== null && room.status !== undefined) {
      if (!(CANONICAL_STATUSES as readonly unknown[]).includes(room.status)) {
        throw new PMSMappingError(
          at('status'),
          `${shown(room.status)} is not a canonical status; map it with map_status`,
        );
      }
    }
    for (const field of ['check_in', 'check_out'] as const) {
      const value = room[field];
      if (value !== null && value !== undefined && !isIsoDate(value)) {
        invalid(at(field), `${shown(value)} is not a date (YYYY-MM-DD); parse it with parse_date`);
      }
    }
    for (const field of ['adults', 'children'] as const) {
      const value = room[field];
      if (value === null || value === undefined) continue;
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 1000) {
        invalid(at(field), `${shown(value)} is not a whole number from 0 to 1000`);
      }
    }
    const amount = room.amount;
    if (amount !== null && amount !== undefined) {
      const value =
        typeof amount === 'number' && Number.isFinite(amount) ? decimalText(at('amount'), amount) : amount;
      if (typeof value !== 'string' || !DECIMAL.test(value))
        invalid(at('amount'), `${shown(amount)} is not a decimal amount`);
      if (/^-?0*\d{11,}/.test(value))
        invalid(at('amount'), 'is too large (at most 10 digits before the point)');
      room.amount = value;
    }
  });
}

/**
 * Stage 4: required fields, the config's field rules, then the canonical shape; `rooms.X` rules
 * and the room shape for every room (v2). `grouped` rooms need their own external id.
 */
export function compileFieldRules(
  rules: PmsConfigDocument['validation_rules'],
  grouped = false,
): (record: MappedRecord, rooms?: MappedRoom[] | null) => void {
  const required = [...new Set([...LEDGER_REQUIRED, ...(rules?.required ?? [])])];
  const checks: Array<{ field: CanonicalField; check: (value: unknown) => void }> = [];
  const roomChecks: Array<{ field: RoomField; rule: FieldRule }> = [];
  for (const [field, rule] of Object.entries(rules?.fields ?? {})) {
    if (field.startsWith('rooms.'))
      roomChecks.push({ field: field.slice(6) as RoomField, rule: rule as FieldRule });
    else checks.push({ field: field as CanonicalField, check: compileFieldRule(field, rule as FieldRule) });
  }
  // A rule's error names the room it failed on: compiled once per room position, on demand.
  const perRoom = new Map<string, (value: unknown) => void>();
  const roomCheck = (i: number, field: RoomField, rule: FieldRule) => {
    const name = `rooms[${i}].${field}`;
    let check = perRoom.get(name);
    if (!check) {
      check = compileFieldRule(name, rule);
      if (perRoom.size < 10_000) perRoom.set(name, check);
    }
    return check;
  };
  return (record, rooms) => {
    for (const field of required) {
      if (record[field] === null || record[field] === undefined) invalid(field, 'is required');
    }
    for (const { field, check } of checks) {
      const value = record[field];
      if (value !== null && value !== undefined) check(value);
    }
    checkCanonicalShape(record);
    if (!rooms) return;
    rooms.forEach((room, i) => {
      for (const { field, rule } of roomChecks) {
        const value = room[field];
        if (value !== null && value !== undefined) roomCheck(i, field, rule)(value);
      }
    });
    checkRoomShape(rooms, grouped);
  };
}

export interface BusinessContext {
  /** Room type codes of the hotel; undefined when not known (a preview without a property). */
  roomTypeCodes: ReadonlySet<string> | undefined;
}

/**
 * Stage 5: business rules. check_out after check_in is always enforced (the ledger cannot
 * hold a stay of no nights); the others only when the config lists them.
 */
export function compileBusinessRules(
  rules: PmsConfigDocument['validation_rules'],
): (record: MappedRecord, context: BusinessContext, rooms?: MappedRoom[] | null) => void {
  const listed = rules?.business_rules ?? [];
  return (record, context, rooms) => {
    const checkIn = record.check_in as string;
    const checkOut = record.check_out as string;
    const nights = daysBetween(checkIn, checkOut);
    if (nights < 1)
      throw new PMSBusinessRuleError('check_out', `must be after check_in (${checkIn} → ${checkOut})`);
    // The ledger keeps one stay per booking: every room of it stays the booking's nights.
    rooms?.forEach((room, i) => {
      for (const field of ['check_in', 'check_out'] as const) {
        const value = room[field];
        if (value === null || value === undefined || value === record[field]) continue;
        throw new PMSBusinessRuleError(
          `rooms[${i}].${field}`,
          `room ${i} stays ${String(room.check_in ?? checkIn)} → ${String(room.check_out ?? checkOut)}, the booking ` +
            `${checkIn} → ${checkOut}: the rooms of one booking share its stay here`,
        );
      }
    });
    for (const rule of listed) {
      switch (rule.rule) {
        case 'max_stay_nights':
          if (nights > rule.value) {
            throw new PMSBusinessRuleError(
              'check_out',
              `a stay of ${nights} nights exceeds max_stay_nights ${rule.value}`,
            );
          }
          break;
        case 'min_stay_nights':
          if (nights < rule.value) {
            throw new PMSBusinessRuleError(
              'check_out',
              `a stay of ${nights} nights is below min_stay_nights ${rule.value}`,
            );
          }
          break;
        case 'not_before': {
          const value = record[rule.field as CanonicalField];
          if (typeof value === 'string' && value < rule.date) {
            throw new PMSBusinessRuleError(rule.field, `${value} is before ${rule.date}`);
          }
          break;
        }
        case 'room_type_known': {
          const codes = rooms
            ? rooms.map((room, i) => [`rooms[${i}].room_type_code`, room.room_type_code] as const)
            : ([['room_type_code', record.room_type_code]] as const);
          if (rooms && rooms.length === 0 && context.roomTypeCodes) {
            throw new PMSBusinessRuleError(
              'rooms',
              'the booking has no room, and room_type_known requires one',
            );
          }
          for (const [field, code] of codes) {
            if (context.roomTypeCodes && (typeof code !== 'string' || !context.roomTypeCodes.has(code))) {
              throw new PMSBusinessRuleError(
                field,
                code === null || code === undefined
                  ? 'is missing, and room_type_known requires a room type'
                  : `${shown(code)} is not a room type code of this hotel`,
              );
            }
          }
          break;
        }
        default:
          break;
      }
    }
  };
}

import type {
  CanonicalField,
  FieldMapping,
  PmsConfigDocument,
  RoomField,
  Scalar,
} from '../config/config.types.ts';
import { type CompiledPath, compileJsonPath } from '../config/jsonpath.ts';
import { compileLinearRegex, JS_SPACE } from '../config/safe-regex.ts';
import { PMSMappingError } from '../integrations.errors.ts';
import type { Joined } from './joins.ts';
import { compileChain, EMPTY_ENV, type MapEnv, TransformFailure, type TransformFn } from './transforms.ts';

/** A mapped booking before validation: canonical field name → value (null when absent). */
export type MappedRecord = Partial<Record<CanonicalField, unknown>>;
/** One mapped room before validation. */
export type MappedRoom = Partial<Record<RoomField, unknown>>;

/** The documents a mapping may read: the record, the room (room mappings), and each join's match. */
interface Documents {
  record: unknown;
  room: unknown;
  joined: Joined;
}

interface CompiledField<F extends string> {
  field: F;
  read: (docs: Documents) => unknown;
  transform: TransformFn | undefined;
  fallback: Scalar | undefined;
}

/** Rooms bigger than this are malformed input, not a booking (the direct API allows 50). */
export const MAX_ROOMS = 500;

// /\{\{\s*(.*?)\s*\}\}/g in linear time: as a RegExp, "{{" and 2,000 spaces took two seconds.
const PIECE = compileLinearRegex(`\\{\\{[${JS_SPACE}]*([^\\n\\r\\x{2028}\\x{2029}]*?)[${JS_SPACE}]*\\}\\}`);

/** Literal text with `{{ JSONPath }}` pieces; a missing piece renders empty and the result is trimmed. */
export function compileTemplate(template: string): (raw: unknown) => string {
  const literals: string[] = [];
  const paths: CompiledPath[] = [];
  let last = 0;
  for (const match of PIECE.matchAll(template)) {
    literals.push(template.slice(last, match.index));
    paths.push(compileJsonPath(match[1]!));
    last = match.index! + match[0].length;
  }
  literals.push(template.slice(last));
  return (raw) => {
    let out = literals[0]!;
    for (let i = 0; i < paths.length; i++) {
      const value = paths[i]!.first(raw);
      if (value !== undefined && value !== null) {
        out += typeof value === 'object' ? JSON.stringify(value) : String(value);
      }
      out += literals[i + 1]!;
    }
    return out.trim();
  };
}

/** The JSONPath pieces of a template, for the lint. */
export function templatePieces(template: string): string[] {
  return [...PIECE.matchAll(template)].map((m) => m[1]!);
}

function compileField<F extends string>(
  field: F,
  mapping: FieldMapping,
  statusMappings: Record<string, string>,
  defaultFrom: 'record' | 'room',
): CompiledField<F> {
  const from = mapping.from ?? defaultFrom;
  const pick: (docs: Documents) => unknown =
    from === 'record'
      ? (docs) => docs.record
      : from === 'room'
        ? (docs) => docs.room
        : (docs) => docs.joined[from] ?? null;
  let read: (docs: Documents) => unknown;
  if (mapping.path !== undefined) {
    const path = compileJsonPath(mapping.path);
    read = (docs) => path.first(pick(docs));
  } else if (mapping.template !== undefined) {
    const template = compileTemplate(mapping.template);
    read = (docs) => template(pick(docs));
  } else {
    const value = mapping.const ?? null;
    read = () => value;
  }
  return {
    field,
    read,
    transform: compileChain(mapping.transform, { statusMappings }),
    fallback: mapping.default,
  };
}

function fieldValue<F extends string>(
  f: CompiledField<F>,
  docs: Documents,
  env: MapEnv,
  name: string,
): unknown {
  let value = f.read(docs);
  if (value !== null && value !== undefined && f.transform) {
    try {
      value = f.transform(value, env);
    } catch (error) {
      if (error instanceof TransformFailure) throw new PMSMappingError(name, error.message);
      throw error;
    }
  }
  if ((value === null || value === undefined) && f.fallback !== undefined) value = f.fallback;
  if (value !== null && typeof value === 'object') {
    throw new PMSMappingError(name, 'maps to an object or a list, not a value; point the path at a value');
  }
  return value ?? null;
}

export interface Mapper {
  /** Maps every configured booking field; throws PMSMappingError naming the first field that fails. */
  map(raw: unknown, env?: MapEnv, joined?: Joined): MappedRecord;
  /**
   * The booking's rooms (v2 `rooms`), each mapped with `rooms.field_mappings`; null for a config
   * without rooms (its flat fields are its one room). Throws PMSMappingError naming `rooms[i].field`.
   */
  mapRooms(raw: unknown, env?: MapEnv, joined?: Joined): MappedRoom[] | null;
  /** The external id as far as it can be read, for quarantine records of bad input. */
  externalId(raw: unknown, env?: MapEnv, joined?: Joined): string | null;
}

const NO_JOINED: Joined = Object.freeze({});

/** Compiles the field mappings of a config once per run; mapping a record is then plain calls. */
export function compileMapper(
  config: Pick<PmsConfigDocument, 'field_mappings' | 'status_mappings' | 'rooms'>,
): Mapper {
  const statusMappings = config.status_mappings ?? {};
  const fields = Object.entries(config.field_mappings).map(([field, mapping]) =>
    compileField(field as CanonicalField, mapping as FieldMapping, statusMappings, 'record'),
  );
  const idField = fields.find((f) => f.field === 'external_id');
  const rooms = config.rooms;
  const roomFields = Object.entries(rooms?.field_mappings ?? {}).map(([field, mapping]) =>
    compileField(field as RoomField, mapping as FieldMapping, statusMappings, 'room'),
  );
  const roomList =
    rooms?.mode === 'nested' ? compileRoomList(rooms.path, rooms.max_rooms ?? MAX_ROOMS) : undefined;

  function mapRoom(docs: Documents, env: MapEnv, index: number): MappedRoom {
    const room: MappedRoom = {};
    for (const f of roomFields) room[f.field] = fieldValue(f, docs, env, `rooms[${index}].${f.field}`);
    return room;
  }

  return {
    map(raw, env = EMPTY_ENV, joined = NO_JOINED) {
      const record: MappedRecord = {};
      const docs = { record: raw, room: raw, joined };
      for (const f of fields) record[f.field] = fieldValue(f, docs, env, f.field);
      return record;
    },
    mapRooms(raw, env = EMPTY_ENV, joined = NO_JOINED) {
      if (!rooms) return null;
      if (!roomList) return [mapRoom({ record: raw, room: raw, joined }, env, 0)];
      return roomList(raw).map((room, i) => mapRoom({ record: raw, room, joined }, env, i));
    },
    externalId(raw, env = EMPTY_ENV, joined = NO_JOINED) {
      if (!idField) return null;
      const docs = { record: raw, room: raw, joined };
      try {
        const value = fieldValue(idField, docs, env, 'external_id');
        return value === null ? null : String(value).slice(0, 200);
      } catch {
        const value = idField.read(docs);
        return typeof value === 'string' || typeof value === 'number' ? String(value).slice(0, 200) : null;
      }
    },
  };
}

/**
 * The room elements of a record. A path ending in `[*]` names a list: absent or null is no room,
 * an object is one room (an XML answer with a single element reads that way), anything else is
 * malformed. Every room must be an object.
 */
function compileRoomList(source: string, maxRooms: number): (raw: unknown) => unknown[] {
  const path = compileJsonPath(source);
  const containerPath = source.endsWith('[*]') ? source.slice(0, -3) : undefined;
  const container = containerPath ? compileJsonPath(containerPath) : undefined;
  return (raw) => {
    let list: unknown[];
    if (container) {
      const value = container.first(raw);
      if (value === undefined || value === null) list = [];
      else if (Array.isArray(value)) list = value;
      else if (typeof value === 'object') list = [value];
      else throw new PMSMappingError('rooms', `${containerPath} is ${shownKind(value)}, not a list of rooms`);
    } else {
      list = path.all(raw);
    }
    if (list.length > maxRooms) {
      throw new PMSMappingError('rooms', `${list.length} rooms is more than ${maxRooms} (rooms.max_rooms)`);
    }
    list.forEach((room, i) => {
      if (room === null || typeof room !== 'object' || Array.isArray(room)) {
        throw new PMSMappingError(`rooms[${i}]`, `is ${shownKind(room)}, not a room object`);
      }
    });
    return list;
  };
}

function shownKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string')
    return `text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}…` : value)}`;
  return `${typeof value === 'object' ? 'an object' : `a ${typeof value}`}`;
}

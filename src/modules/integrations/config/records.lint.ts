import { templatePieces } from '../mapping/mapper.ts';
import { transformProblems } from '../mapping/transforms.ts';
import { ROOM_FIELDS, ROOM_LEVEL_FIELDS } from './config.types.ts';
import { jsonPathProblem } from './jsonpath.ts';

type Obj = Record<string, unknown>;
type Add = (pointer: string, message: string) => void;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const esc = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

function checkPath(add: Add, pointer: string, path: unknown): void {
  if (typeof path !== 'string') return;
  const problem = jsonPathProblem(path);
  if (problem) add(pointer, `is not a usable JSONPath: ${problem}`);
}

/** One field mapping: exactly one source, usable paths and template pieces, usable transforms. */
export function lintFieldMapping(base: string, mapping: unknown, hasStatusMappings: boolean, add: Add): void {
  if (!isObj(mapping)) return;
  const given = ['path', 'template', 'const'].filter((k) => k in mapping);
  if (given.length !== 1) add(base, 'must have exactly one of path, template or const');
  checkPath(add, `${base}/path`, mapping.path);
  if (typeof mapping.template === 'string') {
    const opens = mapping.template.split('{{').length - 1;
    const closes = mapping.template.split('}}').length - 1;
    if (opens !== closes) add(`${base}/template`, 'has unbalanced {{ }}');
    for (const piece of templatePieces(mapping.template)) {
      const problem = jsonPathProblem(piece);
      if (problem) add(`${base}/template`, `piece {{ ${piece} }} is not a usable JSONPath: ${problem}`);
    }
  }
  const transform = mapping.transform;
  if (transform !== undefined) {
    const steps = Array.isArray(transform) ? transform : [transform];
    steps.forEach((step, i) => {
      const at = Array.isArray(transform) ? `${base}/transform/${i}` : `${base}/transform`;
      for (const [rel, message] of transformProblems(step, hasStatusMappings)) add(`${at}${rel}`, message);
    });
  }
}

/**
 * The lint of the records constructs of format v2 (docs/pms-config.md): joins, rooms, `from`,
 * room rules and reconciliation. It refuses what the runtime cannot do and nothing it can:
 * config.validate.test.ts runs every construct both ways.
 */
export function lintRecords(doc: Obj, add: Add, hasStatusMappings: boolean): void {
  const joins = isObj(doc.joins) ? doc.joins : {};
  for (const [name, join] of Object.entries(joins)) {
    if (!isObj(join)) continue;
    for (const key of ['items', 'key', 'on'] as const)
      checkPath(add, `/joins/${esc(name)}/${key}`, join[key]);
  }
  const joinNames = new Set(Object.keys(joins));
  const rooms = isObj(doc.rooms) ? doc.rooms : undefined;
  const grouped = rooms?.mode === 'grouped';

  const checkFrom = (base: string, mapping: unknown, forRoom: boolean) => {
    if (!isObj(mapping) || typeof mapping.from !== 'string') return;
    const from = mapping.from;
    if (from === 'record' || (from === 'room' && forRoom) || joinNames.has(from)) return;
    add(
      `${base}/from`,
      from === 'room'
        ? 'room reads a room: only rooms.field_mappings may use it'
        : `names no join: declare joins.${from}, or read record${forRoom ? ' or room' : ''}`,
    );
  };
  const mappings = isObj(doc.field_mappings) ? doc.field_mappings : {};
  for (const [field, mapping] of Object.entries(mappings)) {
    const base = `/field_mappings/${esc(field)}`;
    checkFrom(base, mapping, false);
    if (rooms && (ROOM_LEVEL_FIELDS as readonly string[]).includes(field)) {
      add(base, `is read per room when rooms is declared: map it in rooms.field_mappings.${field}`);
    }
    if (rooms && grouped && field === 'total_amount') {
      add(base, "is the sum of the group's rooms: map each record's price in rooms.field_mappings.amount");
    }
  }

  if (rooms) {
    if (rooms.mode === 'nested') checkPath(add, '/rooms/path', rooms.path);
    const roomMappings = isObj(rooms.field_mappings) ? rooms.field_mappings : {};
    for (const [field, mapping] of Object.entries(roomMappings)) {
      const base = `/rooms/field_mappings/${esc(field)}`;
      lintFieldMapping(base, mapping, hasStatusMappings, add);
      checkFrom(base, mapping, true);
      if (grouped && ['status', 'check_in', 'check_out'].includes(field)) {
        add(base, `is the record's own ${field} in grouped mode: each record is one room`);
      }
    }
    if (grouped && isObj(rooms.field_mappings) && !('external_id' in roomMappings)) {
      add(
        '/rooms/field_mappings/external_id',
        "must be mapped in grouped mode: a group's rooms are told apart (and changed one by one) by it",
      );
    }
  }

  const rules = isObj(doc.validation_rules) ? doc.validation_rules : undefined;
  const roomRules = isObj(rules?.fields) ? rules.fields : {};
  for (const key of Object.keys(roomRules)) {
    if (!key.startsWith('rooms.')) continue;
    const field = key.slice('rooms.'.length);
    const base = `/validation_rules/fields/${esc(key)}`;
    const roomMappings = isObj(rooms?.field_mappings) ? rooms.field_mappings : {};
    const fromRecord = grouped && ['status', 'check_in', 'check_out'].includes(field);
    if (!rooms) add(base, 'names a room field, and the config declares no rooms');
    else if (!(ROOM_FIELDS as readonly string[]).includes(field))
      add(base, `names no room field (${ROOM_FIELDS.join(', ')})`);
    else if (!fromRecord && !(field in roomMappings))
      add(base, `names ${key}, which rooms.field_mappings does not map`);
  }
  if (Array.isArray(rules?.business_rules) && rooms) {
    rules.business_rules.forEach((rule, i) => {
      if (!isObj(rule) || rule.rule !== 'room_type_known') return;
      const roomMappings = isObj(rooms.field_mappings) ? rooms.field_mappings : {};
      if (!('room_type_code' in roomMappings)) {
        add(
          `/validation_rules/business_rules/${i}`,
          'room_type_known needs room_type_code, which rooms.field_mappings does not map',
        );
      }
    });
  }

  const reconciliation = isObj(doc.reconciliation) ? doc.reconciliation : undefined;
  const source = isObj(doc.source) ? doc.source : undefined;
  if (reconciliation && source && source.ack !== undefined) {
    add(
      '/reconciliation',
      'needs a listing of every booking, and an acknowledged queue only ever returns what changed',
    );
  }
}

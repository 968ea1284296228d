import { DateTime } from 'luxon';
import { newRawSchemaAjv } from '../pipeline/stages.ts';
import { CANONICAL_STATUSES, LEDGER_REQUIRED } from './config.types.ts';
import { lintFieldMapping, lintRecords } from './records.lint.ts';
import { linearRegexProblem } from './safe-regex.ts';
import { lintSource } from './source.lint.ts';

/** One problem in a config document, located by JSON pointer from the document root. */
export interface ConfigProblem {
  pointer: string;
  message: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const esc = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * The semantic lint: what JSON Schema cannot say. Every JSONPath compiles (and has no script),
 * every transform exists with usable arguments, every field a rule names is mapped, every
 * status mapping is a canonical status, every placeholder is known. Written defensively: it
 * also runs on documents that failed the schema, so that every problem is listed at once.
 */
export function lintConfig(doc: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (pointer: string, message: string) => problems.push({ pointer, message });
  if (!isObj(doc)) return problems;

  const source = isObj(doc.source) ? doc.source : undefined;
  if (source) lintSource(source, add);

  const statusMappings = isObj(doc.status_mappings) ? doc.status_mappings : undefined;
  if (statusMappings) {
    for (const [code, status] of Object.entries(statusMappings)) {
      if (!(CANONICAL_STATUSES as readonly unknown[]).includes(status)) {
        add(
          `/status_mappings/${esc(code)}`,
          `${JSON.stringify(status)} is not a canonical status (${CANONICAL_STATUSES.join(', ')})`,
        );
      }
    }
  }
  const hasStatusMappings = statusMappings !== undefined && Object.keys(statusMappings).length > 0;

  const mappings = isObj(doc.field_mappings) ? doc.field_mappings : {};
  for (const field of LEDGER_REQUIRED) {
    if (isObj(doc.field_mappings) && !(field in mappings)) {
      add(
        `/field_mappings/${field}`,
        'must be mapped: the reservation ledger cannot store a booking without it',
      );
    }
  }
  for (const [field, mapping] of Object.entries(mappings)) {
    lintFieldMapping(`/field_mappings/${esc(field)}`, mapping, hasStatusMappings, add);
  }

  const mapped = (field: unknown) => typeof field === 'string' && field in mappings;
  const rules = isObj(doc.validation_rules) ? doc.validation_rules : undefined;
  if (rules) {
    if (Array.isArray(rules.required)) {
      rules.required.forEach((field, i) => {
        if (!mapped(field))
          add(`/validation_rules/required/${i}`, `names ${String(field)}, which field_mappings does not map`);
      });
    }
    if (isObj(rules.fields)) {
      for (const [field, rule] of Object.entries(rules.fields)) {
        const base = `/validation_rules/fields/${esc(field)}`;
        // Room rules (rooms.X) are the records lint's to check.
        if (!field.startsWith('rooms.') && !mapped(field))
          add(base, `names ${field}, which field_mappings does not map`);
        if (!isObj(rule)) continue;
        if (typeof rule.pattern === 'string') {
          const problem = linearRegexProblem(rule.pattern);
          if (problem) add(`${base}/pattern`, problem);
        }
        if (typeof rule.min === 'number' && typeof rule.max === 'number' && rule.min > rule.max) {
          add(`${base}/min`, 'is greater than max');
        }
        if (
          typeof rule.min_length === 'number' &&
          typeof rule.max_length === 'number' &&
          rule.min_length > rule.max_length
        ) {
          add(`${base}/min_length`, 'is greater than max_length');
        }
      }
    }
    if (Array.isArray(rules.business_rules)) {
      rules.business_rules.forEach((rule, i) => {
        if (!isObj(rule)) return;
        const base = `/validation_rules/business_rules/${i}`;
        const needs: Record<string, string[]> = {
          check_out_after_check_in: ['check_in', 'check_out'],
          max_stay_nights: ['check_in', 'check_out'],
          min_stay_nights: ['check_in', 'check_out'],
          not_before: typeof rule.field === 'string' ? [rule.field] : [],
          // With rooms, every room's code is checked: the records lint asks for it there.
          room_type_known: isObj(doc.rooms) ? [] : ['room_type_code'],
        };
        for (const field of needs[String(rule.rule)] ?? []) {
          if (!mapped(field))
            add(base, `${String(rule.rule)} needs ${field}, which field_mappings does not map`);
        }
        if (
          rule.rule === 'not_before' &&
          typeof rule.date === 'string' &&
          !DateTime.fromISO(rule.date).isValid
        ) {
          add(`${base}/date`, 'is not a date (YYYY-MM-DD)');
        }
      });
    }
  }

  lintRecords(doc, add, hasStatusMappings);

  if (isObj(doc.raw_schema)) {
    const before = problems.length;
    forEachSchemaPattern(doc.raw_schema, '/raw_schema', (pointer, pattern) => {
      const problem = linearRegexProblem(pattern);
      if (problem) add(pointer, problem);
    });
    // The validator compiles with the same engine, so it fails on any pattern the walk missed.
    if (problems.length === before) {
      try {
        newRawSchemaAjv().compile(doc.raw_schema);
      } catch (error) {
        add('/raw_schema', `is not a valid JSON Schema 2020-12: ${(error as Error).message}`);
      }
    }
  }
  return problems;
}

/** Keywords of JSON Schema 2020-12 (and draft-07 names Ajv accepts) whose value is a subschema… */
const SUBSCHEMA = [
  'additionalProperties',
  'propertyNames',
  'items',
  'additionalItems',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'unevaluatedItems',
  'unevaluatedProperties',
];
/** …a list of subschemas… */
const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
/** …or an object of subschemas by name. */
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];

/**
 * Calls `visit` with the pointer and text of every regular expression of a JSON Schema: each
 * `pattern` and each `patternProperties` key, in every subschema (`propertyNames` included), so
 * the lint can name the one the linear-time engine refuses.
 */
function forEachSchemaPattern(
  schema: unknown,
  pointer: string,
  visit: (pointer: string, pattern: string) => void,
  depth = 0,
): void {
  // Deeper than any real schema; Ajv's compile, with the same engine, still checks what lies below.
  if (!isObj(schema) || depth > 100) return;
  if (typeof schema.pattern === 'string') visit(`${pointer}/pattern`, schema.pattern);
  if (isObj(schema.patternProperties)) {
    for (const key of Object.keys(schema.patternProperties))
      visit(`${pointer}/patternProperties/${esc(key)}`, key);
  }
  for (const keyword of SUBSCHEMA)
    forEachSchemaPattern(schema[keyword], `${pointer}/${keyword}`, visit, depth + 1);
  for (const keyword of SUBSCHEMA_LISTS) {
    const list = schema[keyword];
    if (!Array.isArray(list)) continue;
    for (const [i, sub] of list.entries())
      forEachSchemaPattern(sub, `${pointer}/${keyword}/${i}`, visit, depth + 1);
  }
  for (const keyword of SUBSCHEMA_MAPS) {
    const map = schema[keyword];
    if (!isObj(map)) continue;
    for (const [name, sub] of Object.entries(map))
      forEachSchemaPattern(sub, `${pointer}/${keyword}/${esc(name)}`, visit, depth + 1);
  }
}

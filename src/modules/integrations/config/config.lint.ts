import { DateTime } from 'luxon';
import { templatePieces } from '../mapping/mapper.ts';
import { transformProblems } from '../mapping/transforms.ts';
import { newRawSchemaAjv } from '../pipeline/stages.ts';
import { CANONICAL_STATUSES, LEDGER_REQUIRED } from './config.types.ts';
import { jsonPathProblem } from './jsonpath.ts';
import { linearRegexProblem } from './safe-regex.ts';

/** One problem in a config document, located by JSON pointer from the document root. */
export interface ConfigProblem {
  pointer: string;
  message: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const esc = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

const PLACEHOLDER = /\{([^{}]*)\}/g;
const SECRET_NAME = /^secret\.([A-Za-z0-9_]{1,100})$/;

/** Placeholders each pagination type provides besides the always-available ones. */
const PAGINATION_PLACEHOLDERS: Record<string, string[]> = {
  none: [],
  page_number: ['page'],
  offset: ['offset', 'limit'],
  cursor: [],
  link_header: [],
};

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

  const checkPath = (pointer: string, path: unknown) => {
    if (typeof path !== 'string') return;
    const problem = jsonPathProblem(path);
    if (problem) add(pointer, `is not a usable JSONPath: ${problem}`);
  };

  const source = isObj(doc.source) ? doc.source : undefined;
  const pagination = isObj(source?.pagination) ? source.pagination : undefined;
  const incremental = isObj(source?.incremental) ? source.incremental : undefined;
  if (source) {
    checkPath('/source/records', source.records);
    if (pagination) checkPath('/source/pagination/next_path', pagination.next_path);
    if (incremental) {
      checkPath('/source/incremental/cursor_path', incremental.cursor_path);
      const initial = incremental.initial;
      if (typeof initial === 'string') {
        const format = incremental.cursor_format;
        const ok = format === 'iso8601' ? DateTime.fromISO(initial).isValid : /^\d+$/.test(initial);
        if (!ok) add('/source/incremental/initial', `is not a cursor in the ${String(format)} format`);
      }
    }
    const request = isObj(source.request) ? source.request : undefined;
    if (request) {
      const allowed = new Set(['hotel.external_id']);
      if (incremental) allowed.add('cursor');
      for (const name of PAGINATION_PLACEHOLDERS[String(pagination?.type ?? 'none')] ?? []) allowed.add(name);
      const checkText = (pointer: string, text: unknown) => {
        if (typeof text !== 'string') return;
        for (const match of text.matchAll(PLACEHOLDER)) {
          const name = match[1]!;
          if (allowed.has(name) || SECRET_NAME.test(name)) continue;
          const hint =
            name === 'cursor'
              ? ' ({cursor} needs source.incremental)'
              : ['page', 'offset', 'limit'].includes(name)
                ? ` ({${name}} needs a pagination type that provides it)`
                : '';
          add(pointer, `unknown placeholder {${name}}${hint}`);
        }
      };
      checkText('/source/request/path', request.path);
      const leaves = typeof request.path === 'string' ? pathLeavesBaseUrl(request.path) : undefined;
      if (leaves) add('/source/request/path', leaves);
      for (const part of ['query', 'headers'] as const) {
        const values = request[part];
        if (!isObj(values)) continue;
        for (const [key, value] of Object.entries(values))
          checkText(`/source/request/${part}/${esc(key)}`, value);
      }
    }
  }

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
    if (!isObj(mapping)) continue;
    const base = `/field_mappings/${esc(field)}`;
    const given = ['path', 'template', 'const'].filter((k) => k in mapping);
    if (given.length !== 1) add(base, 'must have exactly one of path, template or const');
    checkPath(`${base}/path`, mapping.path);
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
        if (!mapped(field)) add(base, `names ${field}, which field_mappings does not map`);
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
          room_type_known: ['room_type_code'],
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

const PROBE_BASE = new URL('https://base-url.invalid/prefix/');

/**
 * Why a request path would leave the connection's base_url origin (`//host/…`, `/https://host/…`,
 * `/name:…` read as a scheme), resolved as the connector resolves it; undefined when it stays.
 */
function pathLeavesBaseUrl(path: string): string | undefined {
  // Placeholders are URL-encoded into the path, so they cannot move it: any text stands for them.
  const filled = path.replace(PLACEHOLDER, 'x').replace(/^\//, '');
  let resolved: URL;
  try {
    resolved = new URL(filled, PROBE_BASE);
  } catch {
    return 'is not a usable URL path';
  }
  if (resolved.origin === PROBE_BASE.origin) return undefined;
  return (
    "must be a path under the connection's base_url, but it is read as another address " +
    '(a host after "//", or a scheme before ":" in the first segment): the connection\'s secrets go only to base_url'
  );
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

/**
 * Values that a JSON Schema (as published in the OpenAPI document) must refuse: for each field, a
 * wrong type, a string one character too long, a malformed UUID / date / email, a value outside an
 * enum or a numeric range, an unknown nested field. Used by the bad-input tests to attack every
 * field of every endpoint without listing them by hand.
 */
export interface JsonSchema {
  type?: string | string[];
  format?: string;
  maxLength?: number;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
}

export interface BadValue {
  label: string;
  value: unknown;
}

const NOT_A_UUID = '12345678-1234-1234-1234-12345678901z';

function withoutNull(schema: JsonSchema): JsonSchema {
  if (!schema.anyOf) return schema;
  const branches = schema.anyOf.filter((branch) => branch.type !== 'null');
  return branches.length === 1 ? withoutNull(branches[0]!) : { ...schema, anyOf: branches };
}

function isEnumLike(schema: JsonSchema): boolean {
  if (schema.enum || schema.const !== undefined) return true;
  return Boolean(schema.anyOf?.every((branch) => branch.enum || branch.const !== undefined));
}

/**
 * Bad values for one field; `inQuery` leaves out what a query string cannot express (types),
 * `inHeader` also what a header cannot carry (a NUL character).
 */
export function badValuesFor(raw: JsonSchema, inQuery = false, inHeader = false): BadValue[] {
  const schema = withoutNull(raw);
  const bad: BadValue[] = [];
  if (isEnumLike(schema)) {
    bad.push({ label: 'a value outside the enum', value: 'NOT_A_VALUE' });
    if (!inQuery) bad.push({ label: 'a number instead of an enum value', value: 7 });
    return bad;
  }
  switch (schema.type) {
    case 'string':
      if (!inQuery) bad.push({ label: 'a number instead of a string', value: 12345 });
      if (!inQuery) bad.push({ label: 'an object instead of a string', value: { nested: 'x' } });
      {
        // Every string has a limit: one without maxLength fails here on a 64 KiB value.
        const length = schema.maxLength !== undefined ? schema.maxLength + 1 : 65_536;
        bad.push({ label: `a string of ${length} characters`, value: 'a'.repeat(length) });
      }
      if (schema.format === 'uuid') {
        bad.push({ label: 'a malformed UUID', value: NOT_A_UUID });
        bad.push({ label: 'a number as UUID', value: '42' });
      }
      if (schema.format === 'date') {
        bad.push({ label: 'an impossible date', value: '2025-02-30' });
        bad.push({ label: 'a date in another format', value: '30.01.2025' });
      }
      if (schema.format === 'email') bad.push({ label: 'a malformed email', value: 'not-an-email' });
      if ((schema.minLength ?? 0) > 0 && !inQuery) bad.push({ label: 'an empty string', value: '' });
      // PostgreSQL stores no NUL in text or jsonb: refused before it gets there, whatever the field.
      if (!inHeader) bad.push({ label: 'a string holding a NUL character', value: 'a\u0000b' });
      break;
    case 'integer':
    case 'number':
      bad.push({ label: 'text instead of a number', value: 'many' });
      if (!inQuery) bad.push({ label: 'a numeric string', value: '3' });
      if (schema.type === 'integer') bad.push({ label: 'a fraction', value: 1.5 });
      if (schema.minimum !== undefined)
        bad.push({ label: 'a number below the minimum', value: schema.minimum - 1 });
      if (schema.maximum !== undefined)
        bad.push({ label: 'a number above the maximum', value: schema.maximum + 1 });
      break;
    case 'boolean':
      if (!inQuery) bad.push({ label: 'a string instead of a boolean', value: 'true' });
      bad.push({ label: 'a number instead of a boolean', value: 2 });
      break;
    case 'array':
      if (!inQuery) bad.push({ label: 'a string instead of an array', value: 'x' });
      for (const item of badValuesFor(schema.items ?? {}, inQuery)) {
        bad.push({ label: `an array holding ${item.label}`, value: [item.value] });
      }
      break;
    case 'object':
      bad.push({ label: 'a string instead of an object', value: 'x' });
      bad.push({ label: 'an array instead of an object', value: [] });
      if (schema.additionalProperties === false) {
        bad.push({ label: 'an object with an unknown field', value: { unexpected_field: 1 } });
      }
      for (const [name, field] of Object.entries(schema.properties ?? {})) {
        for (const item of badValuesFor(field)) {
          bad.push({ label: `an object whose ${name} is ${item.label}`, value: { [name]: item.value } });
        }
      }
      break;
    default:
      break;
  }
  return bad;
}

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { type ConfigProblem, lintConfig } from './config.lint.ts';
import type { PmsConfigDocument } from './config.types.ts';

type AddFormats = (ajv: Ajv2020) => Ajv2020;
const addFormats: AddFormats =
  (formatsModule as unknown as { default?: AddFormats }).default ?? (formatsModule as unknown as AddFormats);

/** The JSON Schema (2020-12) of the config format, as shipped in the repo and served by the API. */
export const CONFIG_SCHEMA = JSON.parse(
  readFileSync(new URL('./config.schema.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validateSchema = ajv.compile(CONFIG_SCHEMA);

const esc = (key = '') => key.replaceAll('~', '~0').replaceAll('/', '~1');

function pointerOf(error: ErrorObject): string {
  const params = error.params as Record<string, string>;
  if (error.keyword === 'required') return `${error.instancePath}/${esc(params.missingProperty)}`;
  if (error.keyword === 'additionalProperties')
    return `${error.instancePath}/${esc(params.additionalProperty)}`;
  if (error.keyword === 'propertyNames') return `${error.instancePath}/${esc(params.propertyName)}`;
  return error.instancePath;
}

function messageOf(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not an allowed field';
    case 'propertyNames':
      return 'is not an allowed name here';
    case 'enum':
      return `must be one of: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'not':
      return error.schemaPath.includes('fieldMapping')
        ? 'must have exactly one of path, template or const'
        : 'is not allowed';
    default:
      return error.message ?? 'is invalid';
  }
}

function schemaProblems(doc: unknown): ConfigProblem[] {
  if (validateSchema(doc)) return [];
  return (
    (validateSchema.errors ?? [])
      .filter((error) => error.keyword !== 'if')
      // A propertyNames failure carries a sub-error that only repeats it.
      .filter((error) => error.propertyName === undefined || error.keyword === 'propertyNames')
      .map((error) => ({ pointer: pointerOf(error), message: messageOf(error) }))
  );
}

/**
 * Every problem of a config document, schema and lint together, by JSON pointer from the
 * document root. Where the lint speaks about a place it is the more precise voice, so the
 * schema's complaint about the same place is dropped.
 */
export function validateConfigDocument(doc: unknown): ConfigProblem[] {
  const lint = lintConfig(doc);
  const linted = new Set(lint.map((p) => p.pointer));
  const all = [...schemaProblems(doc).filter((p) => !linted.has(p.pointer)), ...lint];
  const seen = new Set<string>();
  return all.filter((p) => {
    const key = `${p.pointer}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A stable checksum of a document: sha256 of its JSON with keys sorted. */
export function configChecksum(doc: PmsConfigDocument): string {
  return createHash('sha256').update(canonicalJson(doc)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

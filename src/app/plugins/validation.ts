import { Ajv, type ErrorObject } from 'ajv';
import formatsModule from 'ajv-formats';

type AddFormats = (ajv: Ajv) => Ajv;
// ajv-formats is CommonJS; under ESM its function may arrive wrapped in `default`.
const addFormats: AddFormats =
  (formatsModule as unknown as { default?: AddFormats }).default ?? (formatsModule as unknown as AddFormats);

import type { FastifyInstance, FastifySchema } from 'fastify';
import { type FieldProblem, ValidationError } from '../errors.ts';
import { pointerToNul } from '../unstorable.ts';

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    // Unknown fields are an error (schemas say additionalProperties: false), never silently dropped.
    removeAdditional: false,
    useDefaults: true,
    coerceTypes: coerce ? 'array' : false,
    strict: false,
  });
  addFormats(ajv);
  return ajv;
}

/**
 * Bodies are validated strictly (a number sent as "12" is a type error); query strings, params
 * and headers arrive as text and are coerced.
 */
export function installValidators(app: FastifyInstance): void {
  const strict = makeAjv(false);
  const coercing = makeAjv(true);
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strict : coercing;
    return ajv.compile(schema as FastifySchema & object);
  });
}

/** Turns Ajv errors into field problems with JSON pointers rooted at the request part. */
export function toFieldProblems(errors: ErrorObject[], part: string): FieldProblem[] {
  return errors.map((error) => {
    let pointer = error.instancePath;
    if (error.keyword === 'additionalProperties') {
      pointer += `/${(error.params as { additionalProperty: string }).additionalProperty}`;
    } else if (error.keyword === 'required') {
      pointer += `/${(error.params as { missingProperty: string }).missingProperty}`;
    }
    const message =
      error.keyword === 'additionalProperties'
        ? 'is not an allowed field'
        : error.keyword === 'required'
          ? 'is required'
          : (error.message ?? 'is invalid');
    return { pointer: `/${part}${pointer}`, message };
  });
}

/**
 * Refuses, on every route whatever its schema, a body, query string or path parameter with a NUL
 * character: it would fail in PostgreSQL (SQLSTATE 22021 or 22P05) after the request got in.
 */
export function installNulGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const pointer =
      pointerToNul(request.params, '/params') ??
      pointerToNul(request.query, '/querystring') ??
      pointerToNul(request.body, '/body');
    if (pointer === undefined) return;
    const message = 'contains a NUL character (U+0000), which cannot be stored';
    throw new ValidationError(`Invalid request: ${pointer} ${message}.`, [{ pointer, message }]);
  });
}

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from './helpers/context.ts';
import { databaseFingerprint } from './helpers/db-fingerprint.ts';
import { userWithToken } from './helpers/factories.ts';

/**
 * Hostile input for every operation of the OpenAPI document (so a new route is fuzzed without
 * anyone listing it): random and malicious bodies, query strings, path parameters and headers.
 * Never a 5xx; every 4xx is a problem document with a stable code; a 4xx writes nothing.
 */

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  format?: string;
};
interface Operation {
  method: string;
  path: string;
  params: string[];
  query: Record<string, Schema>;
  body: Schema | undefined;
}

const HOSTILE_STRINGS = [
  '',
  ' ',
  "' OR 1=1 --",
  "'; DROP TABLE reservation; --",
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '\u0000',
  '%00',
  '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}',
  '$..[?(@.x)]',
  'ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ',
  '\u202e\u0000\uffff',
  '9'.repeat(400),
  'x'.repeat(20_000),
  '2026-02-30',
  '2026-13-01',
  '0000-00-00',
  '-1',
  'NaN',
  'Infinity',
  'null',
  'true',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '__proto__',
  'constructor',
];

const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const hostileNumber = fc.oneof(
  fc.constantFrom(0, -1, 1e308, -1e308, 2 ** 53, 2 ** 63, 0.1 + 0.2, 1e-320),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const hostileScalar = fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null));

function deepNesting(depth: number): unknown {
  let value: unknown = { leaf: true };
  for (let i = 0; i < depth; i++) value = { nested: value, list: [value] };
  return value;
}

function hostileValueFor(schema: Schema | undefined): fc.Arbitrary<unknown> {
  const types = Array.isArray(schema?.type) ? schema?.type : [schema?.type];
  const typed: fc.Arbitrary<unknown>[] = [hostileScalar, fc.array(hostileScalar, { maxLength: 3 })];
  if (types.includes('object') && schema?.properties) typed.push(hostileObjectFor(schema));
  if (types.includes('array')) typed.push(fc.array(hostileValueFor(schema?.items), { maxLength: 5 }));
  return fc.oneof(...typed);
}

function hostileObjectFor(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(schema.properties ?? {});
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const key of keys) record[key] = hostileValueFor(schema.properties?.[key]);
  return fc.record(record, { requiredKeys: [] });
}

function hostileBody(schema: Schema | undefined): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: schema?.properties ? hostileObjectFor(schema) : fc.object() },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(deepNesting(60), [], 'text', 42, { __proto__: { admin: true } }),
    },
    {
      weight: 1,
      arbitrary: fc.constant({ items: Array.from({ length: 5000 }, (_, i) => i) }),
    },
  );
}

function operationsOf(document: any): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries<any>(document.paths ?? {})) {
    if (!path.startsWith('/api/')) continue;
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const operation = item[method];
      if (!operation) continue;
      const parameters: any[] = operation.parameters ?? [];
      const query: Record<string, Schema> = {};
      for (const p of parameters.filter((p) => p.in === 'query')) query[p.name] = p.schema ?? {};
      const body = operation.requestBody?.content?.['application/json']?.schema as Schema | undefined;
      operations.push({
        method: method.toUpperCase(),
        path,
        params: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query,
        body,
      });
    }
  }
  return operations;
}

let t: TestContext;
let token: string;
let operations: Operation[];

beforeAll(async () => {
  t = await createTestContext();
  ({ token } = await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' }));
  operations = operationsOf(t.app.swagger());
});
afterAll(() => t.close());

describe('fuzzing every API operation', () => {
  it('finds the operations in the OpenAPI document', () => {
    expect(operations.length).toBeGreaterThan(5);
  });

  it('never answers 5xx, answers 4xx as problem documents, and writes nothing on a 4xx', async () => {
    const runsPerOperation = Number(process.env.FUZZ_RUNS ?? 12);
    for (const operation of operations) {
      const request = fc.record({
        params: fc.array(fc.oneof(fc.uuid(), hostileString), {
          minLength: operation.params.length,
          maxLength: operation.params.length,
        }),
        query: fc.dictionary(
          fc.oneof(
            fc.constantFrom(...Object.keys(operation.query), 'unknown_param'),
            fc.string({ maxLength: 8 }),
          ),
          hostileString,
          { maxKeys: 4 },
        ),
        body: hostileBody(operation.body),
        contentType: fc.constantFrom(
          'application/json',
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
        ),
        idempotencyKey: fc.option(hostileString, { nil: undefined }),
      });
      await fc.assert(
        fc.asyncProperty(request, async (input) => {
          let path = operation.path;
          operation.params.forEach((name, i) => {
            path = path.replace(`{${name}}`, encodeURIComponent(String(input.params[i])));
          });
          const query = new URLSearchParams(input.query).toString();
          const before = await databaseFingerprint(t.db);
          const hasBody = !['GET', 'DELETE'].includes(operation.method);
          const response = await t.app.inject({
            method: operation.method as 'GET',
            url: query ? `${path}?${query}` : path,
            headers: {
              authorization: `Bearer ${token}`,
              ...(hasBody ? { 'content-type': input.contentType } : {}),
              ...(input.idempotencyKey !== undefined
                ? { 'idempotency-key': input.idempotencyKey.slice(0, 200) }
                : {}),
            },
            ...(hasBody
              ? {
                  payload:
                    typeof input.body === 'string' ? input.body : (JSON.stringify(input.body) ?? 'null'),
                }
              : {}),
          });
          const label = `${operation.method} ${operation.path} → ${response.statusCode} ${response.body.slice(0, 300)}`;
          expect(response.statusCode, label).toBeLessThan(500);
          if (response.statusCode >= 400) {
            expect(response.headers['content-type'], label).toContain('application/problem+json');
            const problem = JSON.parse(response.body);
            expect(typeof problem.code, label).toBe('string');
            expect(problem.status, label).toBe(response.statusCode);
            expect(await databaseFingerprint(t.db), `${label} wrote to the database`).toBe(before);
          }
        }),
        { numRuns: runsPerOperation, seed: Number(process.env.FUZZ_SEED ?? 20261122) },
      );
    }
  });
});

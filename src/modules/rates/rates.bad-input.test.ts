import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badValuesFor, type JsonSchema } from '../../../test/helpers/bad-values.ts';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { createProperty, createRoomType, userWithToken } from '../../../test/helpers/factories.ts';

/**
 * Every field of every rates endpoint, attacked with the bad values its published schema must
 * refuse: each answer is 400 VALIDATION_ERROR naming the field, and no table changes.
 */

interface Operation {
  parameters?: Array<{ in: 'path' | 'query'; name: string; schema: JsonSchema }>;
  requestBody?: { content: { 'application/json': { schema: JsonSchema } } };
}

interface Baseline {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: Record<string, unknown>;
}

let t: TestContext;
let token: string;
let baselines: Record<string, Baseline>;
let operations: Array<{ key: string; path: string; method: string; operation: Operation }>;

beforeAll(async () => {
  t = await createTestContext();
  token = (await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' })).token;
  const property = (await createProperty(t.db)).id;
  const roomType = (await createRoomType(t.db, property)).id;
  const plan = (
    await call(t.app, 'POST', '/api/rates/plans/', {
      token,
      body: { property_id: property, code: 'BAR', name: 'BAR' },
    })
  ).body.id as string;
  const stay = { check_in: '2031-01-01', check_out: '2031-01-03' };
  baselines = {
    'GET /api/rates/plans/': { query: { property_id: property } },
    'POST /api/rates/plans/': {
      body: {
        property_id: property,
        code: 'NRF',
        name: 'Non-refundable',
        currency: 'EUR',
        cancellation_policy: { free_until_days: null, penalty: 'full_stay' },
        parent_rate_plan_id: plan,
        offset_type: 'percent',
        offset_value: '-10.00',
      },
    },
    'GET /api/rates/plans/{id}/': { params: { id: plan } },
    'PATCH /api/rates/plans/{id}/': { params: { id: plan }, body: { name: 'Renamed' } },
    'DELETE /api/rates/plans/{id}/': { params: { id: plan } },
    'PUT /api/rates/daily/': {
      body: {
        rate_plan_id: plan,
        room_type_id: roomType,
        start_date: '2031-01-01',
        end_date: '2031-01-31',
        days_of_week: ['sat'],
        amount: '120.00',
        min_stay: 1,
      },
    },
    'GET /api/rates/grid/': { query: { property_id: property, start: '2031-01-01', end: '2031-01-31' } },
    'GET /api/rates/quote/': { query: { rate_plan_id: plan, room_type_id: roomType, ...stay } },
  };
  const doc = (await t.app.inject({ url: '/openapi.json' })).json() as {
    paths: Record<string, Record<string, Operation>>;
  };
  operations = Object.entries(doc.paths)
    .filter(([path]) => path.startsWith('/api/rates/'))
    .flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        key: `${method.toUpperCase()} ${path}`,
        path,
        method: method.toUpperCase(),
        operation,
      })),
    );
});
afterAll(() => t.close());

function urlOf(path: string, params: Record<string, string>, query: Record<string, string>) {
  const filled = path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(params[name] ?? ''));
  const search = new URLSearchParams(query).toString();
  return search ? `${filled}?${search}` : filled;
}

function badRequests(path: string, operation: Operation, baseline: Baseline) {
  const { params = {}, query = {}, body } = baseline;
  const requests: Array<{ label: string; url: string; body?: unknown; pointer: string }> = [];
  for (const parameter of operation.parameters ?? []) {
    const part = parameter.in === 'path' ? 'params' : 'querystring';
    for (const bad of badValuesFor(parameter.schema, true)) {
      const value = String(bad.value);
      requests.push({
        label: `${parameter.in} ${parameter.name}: ${bad.label}`,
        url:
          parameter.in === 'path'
            ? urlOf(path, { ...params, [parameter.name]: value }, query)
            : urlOf(path, params, { ...query, [parameter.name]: value }),
        body,
        pointer: `/${part}/${parameter.name}`,
      });
    }
  }
  const schema = operation.requestBody?.content['application/json'].schema;
  if (schema && body) {
    const url = urlOf(path, params, query);
    for (const [name, field] of Object.entries(schema.properties ?? {})) {
      for (const bad of badValuesFor(field)) {
        requests.push({
          label: `body ${name}: ${bad.label}`,
          url,
          body: { ...body, [name]: bad.value },
          pointer: `/body/${name}`,
        });
      }
    }
    for (const name of schema.required ?? []) {
      const { [name]: _left, ...rest } = body;
      requests.push({ label: `body without ${name}`, url, body: rest, pointer: `/body/${name}` });
    }
    requests.push({
      label: 'an unknown field',
      url,
      body: { ...body, unexpected: 1 },
      pointer: '/body/unexpected',
    });
    requests.push({ label: 'an empty object', url, body: {}, pointer: '/body' });
  }
  return requests;
}

async function snapshot(): Promise<Record<string, string>> {
  const tables = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(t.db);
  const fingerprint: Record<string, string> = {};
  for (const { table_name } of tables.rows) {
    const row = await sql<{ digest: string }>`
      SELECT count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS digest
      FROM ${sql.table(table_name)} x`.execute(t.db);
    fingerprint[table_name] = row.rows[0]!.digest;
  }
  return fingerprint;
}

describe('bad input on every rates endpoint', () => {
  it('has a baseline for every rates endpoint', () => {
    expect(operations.map((o) => o.key).sort()).toEqual(Object.keys(baselines).sort());
  });

  it('answers each bad request with 400 VALIDATION_ERROR naming the field, and writes nothing', async () => {
    const before = await snapshot();
    let checked = 0;
    for (const { key, path, method, operation } of operations) {
      for (const request of badRequests(path, operation, baselines[key]!)) {
        const res = await call(t.app, method as 'GET', request.url, { token, body: request.body });
        const what = `${key} with ${request.label}: ${JSON.stringify(res.body).slice(0, 300)}`;
        expect(res.status, what).toBe(400);
        expect(res.body.code, what).toBe('VALIDATION_ERROR');
        const pointers = (res.body.errors as Array<{ pointer: string }>).map((e) => e.pointer);
        expect(
          pointers.some((p) => p === request.pointer || p.startsWith(`${request.pointer}/`)),
          `${what}: ${pointers.join(', ')}`,
        ).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(150);
    expect(await snapshot()).toEqual(before);
  });
});

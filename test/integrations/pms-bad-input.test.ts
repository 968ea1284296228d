import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badValuesFor, type JsonSchema } from '../helpers/bad-values.ts';
import { call, createTestContext, type TestContext } from '../helpers/context.ts';
import { createProperty, userWithToken } from '../helpers/factories.ts';

/**
 * Every field of every PMS integration endpoint, attacked with the bad values its published schema
 * must refuse: each answer is 400 VALIDATION_ERROR naming the field, never a 500, and no table
 * changes.
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
  const config = JSON.parse(
    readFileSync(new URL('../../pms-configs/acme-2.1.json', import.meta.url), 'utf8'),
  );
  const connection = {
    pms_type: 'acme',
    version: '2.1',
    base_url: 'http://127.0.0.1:9',
    hotel_external_id: 'H1',
    secrets: { api_token: 'some-token' },
    schedule_seconds: 600,
    enabled: false,
  };
  const put = await call(t.app, 'PUT', `/api/integrations/pms/connections/${property}/`, {
    token,
    body: connection,
  });
  expect(put.status).toBe(201);
  baselines = {
    'GET /api/integrations/pms/configs/schema/': {},
    'GET /api/integrations/pms/configs/': {},
    'GET /api/integrations/pms/configs/{pms_type}/{version}/': {
      params: { pms_type: 'acme', version: '2.1' },
    },
    'POST /api/integrations/pms/configs/': { body: config },
    'POST /api/integrations/pms/configs/preview/': {
      body: { config, records: [{ id: 1 }], property_id: property },
    },
    'GET /api/integrations/pms/connections/': { query: { property_id: property } },
    'GET /api/integrations/pms/connections/{property_id}/': { params: { property_id: property } },
    'PUT /api/integrations/pms/connections/{property_id}/': {
      params: { property_id: property },
      body: connection,
    },
    'POST /api/integrations/pms/sync/': { body: { property_id: property, wait: true } },
    'GET /api/integrations/pms/sync-runs/': { query: { property_id: property, status: 'failed' } },
    'GET /api/integrations/pms/sync-runs/{id}/': { params: { id: crypto.randomUUID() } },
    'GET /api/integrations/pms/errors/': {
      query: {
        property_id: property,
        sync_run_id: crypto.randomUUID(),
        replay_status: 'pending',
        error_type: 'PMSMappingError',
      },
    },
    'POST /api/integrations/pms/errors/replay/': {
      body: {
        property_id: property,
        sync_run_id: crypto.randomUUID(),
        error_ids: [crypto.randomUUID()],
        wait: true,
      },
    },
    'GET /api/integrations/pms/bookings/': {
      query: { property_id: property, status: 'confirmed', updated_since: '2031-01-01T00:00:00Z' },
    },
  };
  const doc = (await t.app.inject({ url: '/openapi.json' })).json() as {
    paths: Record<string, Record<string, Operation>>;
  };
  operations = Object.entries(doc.paths)
    .filter(([path]) => path.startsWith('/api/integrations/'))
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

describe('bad input on every PMS integration endpoint', () => {
  it('has a baseline for every integration endpoint', () => {
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
    expect(checked).toBeGreaterThan(100);
    expect(await snapshot()).toEqual(before);
  });
});

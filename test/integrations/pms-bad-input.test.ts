import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Baseline, badRequests, type Operation } from '../helpers/bad-requests.ts';
import { call, createTestContext, LOOPBACK_EGRESS, type TestContext } from '../helpers/context.ts';
import { databaseFingerprint } from '../helpers/db-fingerprint.ts';
import { createProperty, userWithToken } from '../helpers/factories.ts';

/**
 * Every field of every PMS integration endpoint, attacked with the bad values its published schema
 * must refuse: each answer is 400 VALIDATION_ERROR naming the field, never a 500, and no table
 * changes.
 */

let t: TestContext;
let token: string;
let baselines: Record<string, Baseline>;
let operations: Array<{ key: string; path: string; method: string; operation: Operation }>;

beforeAll(async () => {
  t = await createTestContext({ env: LOOPBACK_EGRESS });
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
    'PATCH /api/integrations/pms/connections/{property_id}/value-maps/': {
      params: { property_id: property },
      body: { room_types: { 'cat-1': 'DBL', old: null }, statuses: null },
    },
    'GET /api/integrations/pms/vanished/': {
      query: { property_id: property, sync_run_id: crypto.randomUUID() },
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

describe('bad input on every PMS integration endpoint', () => {
  it('has a baseline for every integration endpoint', () => {
    expect(operations.map((o) => o.key).sort()).toEqual(Object.keys(baselines).sort());
  });

  it('answers each bad request with 400 VALIDATION_ERROR naming the field, and writes nothing', async () => {
    const before = await databaseFingerprint(t.db);
    let checked = 0;
    for (const { key, path, method, operation } of operations) {
      for (const request of badRequests(path, operation, baselines[key]!)) {
        const res = await call(t.app, method as 'GET', request.url, {
          token,
          // Sent as JSON text, so a body that is a bare string is still JSON (not text/plain).
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
          headers: {
            ...request.headers,
            ...(request.body !== undefined && { 'content-type': 'application/json' }),
          },
        });
        const what = `${key} with ${request.label}: ${JSON.stringify(res.body).slice(0, 300)}`;
        expect(res.status, what).toBe(400);
        expect(res.body.code, what).toBe('VALIDATION_ERROR');
        const pointers = ((res.body.errors ?? []) as Array<{ pointer: string }>).map((e) => e.pointer);
        expect(
          pointers.some((p) => p === request.pointer || p.startsWith(`${request.pointer}/`)),
          `${what}: ${pointers.join(', ')}`,
        ).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(await databaseFingerprint(t.db)).toEqual(before);
  });
});

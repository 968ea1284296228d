import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Baseline, badRequests, type Operation } from '../../../test/helpers/bad-requests.ts';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { databaseFingerprint } from '../../../test/helpers/db-fingerprint.ts';
import { createProperty, createRoomType, userWithToken } from '../../../test/helpers/factories.ts';

/**
 * Every field of every rates endpoint, attacked with the bad values its published schema must
 * refuse: each answer is 400 VALIDATION_ERROR naming the field, and no table changes.
 */

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

describe('bad input on every rates endpoint', () => {
  it('has a baseline for every rates endpoint', () => {
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
    expect(checked).toBeGreaterThan(150);
    expect(await databaseFingerprint(t.db)).toEqual(before);
  });
});

import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Baseline, badRequests, type Operation, urlOf } from './helpers/bad-requests.ts';
import { call, createTestContext, type TestContext } from './helpers/context.ts';
import { databaseFingerprint } from './helpers/db-fingerprint.ts';
import { commitEvent } from './helpers/events.ts';
import {
  createDefaultRatePlan,
  createProperty,
  createRoom,
  createRoomType,
  createUser,
  userWithToken,
} from './helpers/factories.ts';

/**
 * Bad input on every endpoint answers 400 VALIDATION_ERROR naming the bad field, and writes
 * nothing. The bad values are derived from each route's published schema (the OpenAPI document),
 * so every field of every endpoint is hit: path parameters, query strings, headers and bodies.
 * Modules whose own tests attack their endpoints the same way (COVERED_BY_MODULE) are left to them.
 */

interface World {
  token: string;
  propertyId: string;
  roomTypeId: string;
  roomId: string;
  user: { id: string; email: string; password: string };
  holdId: string;
  /** An out-of-order block of roomId. */
  blockId: string;
  reservation: { id: string; confirmation_code: string };
  webhookId: string;
  deliveryId: string;
  /** Two guest profiles of the property (one merged into the other by the baselines). */
  guestId: string;
  duplicateGuestId: string;
  apiKeyId: string;
}

const stay = { check_in: '2031-03-10', check_out: '2031-03-12' };

/** A valid request per endpoint; each bad request changes exactly one thing of it. */
const BASELINES: Record<string, (w: World) => Baseline> = {
  'POST /api/auth/token/': (w) => ({ body: { email: w.user.email, password: w.user.password } }),
  'POST /api/auth/token/refresh/': () => ({ body: { refresh: 'header.payload.signature' } }),
  'POST /api/auth/token/revoke/': () => ({ body: { refresh: 'header.payload.signature' } }),
  'GET /api/auth/me/': () => ({}),
  'GET /api/auth/users/': () => ({}),
  'POST /api/auth/users/': (w) => ({
    body: {
      email: 'new.user@example.test',
      password: 'a-long-password',
      role: 'STAFF',
      property_ids: [w.propertyId],
    },
  }),
  'GET /api/auth/users/{id}/': (w) => ({ params: { id: w.user.id } }),
  'GET /api/auth/api-keys/': (w) => ({ query: { property_id: w.propertyId, limit: '10' } }),
  'POST /api/auth/api-keys/': (w) => ({
    body: {
      name: 'Booking engine',
      scopes: ['search', 'book'],
      property_ids: [w.propertyId],
      expires_at: '2099-01-01T00:00:00Z',
      rate_limit_per_minute: 120,
    },
  }),
  'GET /api/auth/api-keys/{id}/': (w) => ({ params: { id: w.apiKeyId } }),
  'PATCH /api/auth/api-keys/{id}/': (w) => ({ params: { id: w.apiKeyId }, body: { name: 'Renamed' } }),
  'POST /api/auth/api-keys/{id}/rotate/': (w) => ({
    params: { id: w.apiKeyId },
    body: { grace_seconds: 60 },
  }),
  'POST /api/auth/api-keys/{id}/revoke/': (w) => ({ params: { id: w.apiKeyId } }),
  'GET /api/auth/api-keys/{id}/usage/': (w) => ({ params: { id: w.apiKeyId }, query: { hours: '2' } }),
  'PATCH /api/auth/users/{id}/': (w) => ({ params: { id: w.user.id }, body: { full_name: 'New Name' } }),
  'DELETE /api/auth/users/{id}/': (w) => ({ params: { id: w.user.id } }),
  'GET /api/properties/': () => ({}),
  'POST /api/properties/': () => ({
    body: {
      code: 'NEWHOTEL',
      name: 'New Hotel',
      timezone: 'Europe/Paris',
      currency: 'EUR',
      status: 'active',
    },
  }),
  'GET /api/properties/{id}/': (w) => ({ params: { id: w.propertyId } }),
  'PATCH /api/properties/{id}/': (w) => ({ params: { id: w.propertyId }, body: { name: 'Renamed' } }),
  'DELETE /api/properties/{id}/': (w) => ({ params: { id: w.propertyId } }),
  'GET /api/properties/{id}/room-types/': (w) => ({ params: { id: w.propertyId } }),
  'POST /api/properties/{id}/room-types/': (w) => ({
    params: { id: w.propertyId },
    body: { code: 'NEWRT', name: 'New room type', total_units: 4, max_occupancy: 2 },
  }),
  'GET /api/properties/{id}/room-types/{room_type_id}/': (w) => ({
    params: { id: w.propertyId, room_type_id: w.roomTypeId },
  }),
  'PATCH /api/properties/{id}/room-types/{room_type_id}/': (w) => ({
    params: { id: w.propertyId, room_type_id: w.roomTypeId },
    body: { name: 'Renamed' },
  }),
  'DELETE /api/properties/{id}/room-types/{room_type_id}/': (w) => ({
    params: { id: w.propertyId, room_type_id: w.roomTypeId },
  }),
  'GET /api/properties/{id}/rooms/': (w) => ({ params: { id: w.propertyId } }),
  'POST /api/properties/{id}/rooms/': (w) => ({
    params: { id: w.propertyId },
    body: { number: '999', room_type_id: w.roomTypeId, floor: '9', status: 'available' },
  }),
  'GET /api/properties/{id}/rooms/{room_id}/': (w) => ({ params: { id: w.propertyId, room_id: w.roomId } }),
  'PATCH /api/properties/{id}/rooms/{room_id}/': (w) => ({
    params: { id: w.propertyId, room_id: w.roomId },
    body: { status: 'dirty' },
  }),
  'DELETE /api/properties/{id}/rooms/{room_id}/': (w) => ({
    params: { id: w.propertyId, room_id: w.roomId },
  }),
  'POST /api/properties/{id}/rooms/{room_id}/housekeeping/': (w) => ({
    params: { id: w.propertyId, room_id: w.roomId },
    body: { housekeeping_status: 'inspected' },
  }),
  'GET /api/properties/{id}/rooms/{room_id}/out-of-order/': (w) => ({
    params: { id: w.propertyId, room_id: w.roomId },
  }),
  'POST /api/properties/{id}/rooms/{room_id}/out-of-order/': (w) => ({
    params: { id: w.propertyId, room_id: w.roomId },
    body: { start_date: '2031-03-26', end_date: '2031-03-28', reason: 'repainting' },
  }),
  'POST /api/properties/{id}/rooms/{room_id}/out-of-order/{block_id}/return/': (w) => ({
    params: { id: w.propertyId, room_id: w.roomId, block_id: w.blockId },
    body: { from_date: '2031-03-22' },
  }),
  'POST /api/inventory/check/': (w) => ({ body: { room_type_id: w.roomTypeId, ...stay, units: 1 } }),
  'GET /api/inventory/calendar/': (w) => ({
    query: { property_id: w.propertyId, start: '2031-03-01', end: '2031-03-07', room_type_id: w.roomTypeId },
  }),
  'POST /api/inventory/preload/': (w) => ({
    body: { room_type_id: w.roomTypeId, start_date: '2031-03-01', end_date: '2031-03-31' },
  }),
  'POST /api/inventory/adjust/': (w) => ({
    body: {
      room_type_id: w.roomTypeId,
      start_date: '2031-03-20',
      end_date: '2031-03-21',
      days_of_week: ['sat'],
      total_units: 10,
    },
  }),
  'POST /api/inventory/holds/': (w) => ({
    body: { room_type_id: w.roomTypeId, ...stay, units: 1, ttl_minutes: 10, reference: 'cart-1' },
  }),
  'GET /api/inventory/holds/{id}/': (w) => ({ params: { id: w.holdId } }),
  'DELETE /api/inventory/holds/{id}/': (w) => ({ params: { id: w.holdId } }),
  'POST /api/reservations/create/': (w) => ({
    headers: { 'idempotency-key': 'bad-input-baseline' },
    body: {
      property_id: w.propertyId,
      ...stay,
      guest: { full_name: 'Ada Lovelace', email: 'ada@example.test' },
      rooms: [{ room_type_id: w.roomTypeId, adults: 2, children: 0 }],
      status: 'confirmed',
      notes: 'late arrival',
    },
  }),
  'GET /api/reservations/': (w) => ({
    query: { property_id: w.propertyId, arrival_from: '2031-03-01', guest: 'Ada' },
  }),
  'GET /api/reservations/by-code/{code}/': (w) => ({ params: { code: w.reservation.confirmation_code } }),
  'GET /api/reservations/{id}/': (w) => ({ params: { id: w.reservation.id } }),
  ...Object.fromEntries(
    ['cancel', 'confirm', 'check-in', 'check-out', 'no-show'].map((action) => [
      `POST /api/reservations/{id}/${action}/`,
      (w: World) => ({ params: { id: w.reservation.id } }),
    ]),
  ),
  'POST /api/reservations/{id}/modify/': (w) => ({
    params: { id: w.reservation.id },
    body: { check_out: '2031-03-13' },
  }),
  'POST /api/properties/{id}/night-audit/': (w) => ({ params: { id: w.propertyId } }),
  'POST /api/reservations/{id}/assign-room/': (w) => ({
    params: { id: w.reservation.id },
    body: { room_id: w.roomId },
  }),
  'POST /api/reservations/{id}/check-in/': (w) => ({
    params: { id: w.reservation.id },
    body: { assign: 'none' },
  }),
  'POST /api/reservations/{id}/departure/': (w) => ({
    params: { id: w.reservation.id },
    body: { check_out: '2031-03-14' },
  }),
  'PATCH /api/reservations/{id}/': (w) => ({
    params: { id: w.reservation.id },
    body: {
      guest: { full_name: 'Ada Lovelace', email: 'ada@example.test', phone: '+1 555' },
      notes: 'quiet room',
    },
  }),
  'GET /api/audit/': (w) => ({ query: { property_id: w.propertyId, entity_type: 'reservation' } }),
  'GET /api/events/': (w) => ({ query: { property_id: w.propertyId, types: 'pms.reservation.created' } }),
  'POST /api/webhooks/': (w) => ({
    body: {
      property_id: w.propertyId,
      url: 'https://hooks.example.test/pms',
      event_types: ['pms.reservation.created'],
      description: 'channel manager',
    },
  }),
  'GET /api/webhooks/': (w) => ({ query: { property_id: w.propertyId } }),
  'GET /api/webhooks/{id}/': (w) => ({ params: { id: w.webhookId } }),
  'PATCH /api/webhooks/{id}/': (w) => ({ params: { id: w.webhookId }, body: { description: 'renamed' } }),
  'DELETE /api/webhooks/{id}/': (w) => ({ params: { id: w.webhookId } }),
  'POST /api/webhooks/{id}/rotate-secret/': (w) => ({ params: { id: w.webhookId } }),
  'GET /api/webhooks/{id}/deliveries/': (w) => ({ params: { id: w.webhookId } }),
  'POST /api/webhooks/{id}/deliveries/{delivery_id}/redeliver/': (w) => ({
    params: { id: w.webhookId, delivery_id: w.deliveryId },
  }),
  'GET /api/guests/': (w) => ({
    query: { search: 'Bad', name: 'Bad Input', email: 'bad@', phone: '555', property_id: w.propertyId },
  }),
  'GET /api/guests/{id}/': (w) => ({ params: { id: w.guestId } }),
  'PATCH /api/guests/{id}/': (w) => ({
    params: { id: w.guestId },
    body: {
      first_name: 'Bad',
      last_name: 'Input',
      full_name: 'Bad Input',
      email: 'bad@example.test',
      phone: '+1 555 0100',
    },
  }),
  'POST /api/guests/{id}/merge/': (w) => ({
    params: { id: w.guestId },
    body: { duplicate_id: w.duplicateGuestId },
  }),
  'POST /api/guests/{id}/erase/': (w) => ({ params: { id: w.guestId } }),
};

/** Modules whose own tests derive bad input from every field of their schemas, as this file does. */
const COVERED_BY_MODULE: Record<string, string> = {
  '/api/rates/': 'src/modules/rates/rates.bad-input.test.ts',
  '/api/integrations/': 'test/integrations/pms-bad-input.test.ts',
};

let t: TestContext;
let world: World;

/** Two guests of the property, booked through the API, and their profiles. */
async function guestProfiles(
  propertyId: string,
  roomTypeId: string,
  as: (method: 'POST', url: string, body: unknown) => Promise<{ id: string }>,
): Promise<{ guestId: string; duplicateGuestId: string }> {
  const profiles: string[] = [];
  for (const fullName of ['Bad Input Guest', 'Bad Input Duplicate']) {
    const booked = await as('POST', '/api/reservations/create/', {
      property_id: propertyId,
      ...stay,
      guest: { full_name: fullName },
      rooms: [{ room_type_id: roomTypeId }],
    });
    const row = await t.db
      .selectFrom('reservation as r')
      .innerJoin('guest as g', 'g.id', 'r.guest_id')
      .select('g.profile_id')
      .where('r.id', '=', booked.id)
      .executeTakeFirstOrThrow();
    profiles.push(row.profile_id);
  }
  return { guestId: profiles[0]!, duplicateGuestId: profiles[1]! };
}
let operations: Array<{ key: string; path: string; method: string; operation: Operation }>;

const snapshot = () => databaseFingerprint(t.db);

async function send(
  method: string,
  url: string,
  body: unknown,
  contentType = 'application/json',
  headers: Record<string, string> = {},
) {
  const response = await t.app.inject({
    method: method as 'GET',
    url,
    headers: {
      ...headers,
      authorization: `Bearer ${world.token}`,
      ...(body !== undefined && { 'content-type': contentType }),
    },
    ...(body !== undefined && {
      payload: typeof body === 'string' && contentType !== 'application/json' ? body : JSON.stringify(body),
    }),
  });
  let json: any;
  try {
    json = JSON.parse(response.body);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, body: json, headers: response.headers };
}

beforeAll(async () => {
  t = await createTestContext();
  const admin = await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' });
  const property = await createProperty(t.db);
  const roomType = await createRoomType(t.db, property.id);
  const room = await createRoom(t.db, property.id, roomType.id);
  const user = await createUser(t.db, { role: 'STAFF', propertyIds: [property.id] });
  const as = async (method: 'POST' | 'PUT', url: string, body?: unknown) => {
    const res = await call(t.app, method, url, { token: admin.token, body });
    if (res.status >= 300) throw new Error(`setup ${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  await as('POST', '/api/inventory/preload/', {
    property_id: property.id,
    start_date: '2031-03-01',
    end_date: '2031-03-31',
  });
  await createDefaultRatePlan(t.db, property.id, { start: '2031-03-01', end: '2031-03-31' });
  const hold = await as('POST', '/api/inventory/holds/', { room_type_id: roomType.id, ...stay, units: 1 });
  const reservation = await as('POST', '/api/reservations/create/', {
    property_id: property.id,
    ...stay,
    guest: { full_name: 'Bad Input' },
    rooms: [{ room_type_id: roomType.id }],
  });
  const block = await as('POST', `/api/properties/${property.id}/rooms/${room.id}/out-of-order/`, {
    start_date: '2031-03-20',
    end_date: '2031-03-25',
  });
  const webhook = await as('POST', '/api/webhooks/', {
    property_id: property.id,
    url: 'https://hooks.example.test/bad-input',
    event_types: ['pms.reservation.created'],
  });
  const apiKey = await as('POST', '/api/auth/api-keys/', {
    name: 'Bad input',
    scopes: ['search'],
    property_ids: [property.id],
  });
  const event = await commitEvent(t.db, 'pms.reservation.created', property.id, {});
  const delivery = await t.db
    .insertInto('webhook_delivery')
    .values({
      subscription_id: webhook.id,
      property_id: property.id,
      event_id: event.id,
      event_type: event.type,
      attempt: 1,
      trigger: 'automatic',
      status: 'failed',
      response_status: 500,
      response_body: null,
      error: null,
      duration_ms: 1,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  world = {
    token: admin.token,
    propertyId: property.id,
    roomTypeId: roomType.id,
    roomId: room.id,
    user,
    holdId: hold.id,
    blockId: block.id,
    reservation,
    webhookId: webhook.id,
    deliveryId: delivery.id,
    ...(await guestProfiles(property.id, roomType.id, as)),
    apiKeyId: apiKey.id,
  };
  const doc = (await t.app.inject({ url: '/openapi.json' })).json() as {
    paths: Record<string, Record<string, Operation>>;
  };
  operations = Object.entries(doc.paths)
    .filter(([path]) => path.startsWith('/api/'))
    .filter(([path]) => !Object.keys(COVERED_BY_MODULE).some((prefix) => path.startsWith(prefix)))
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

describe('bad input on every endpoint', () => {
  it('has a baseline for every endpoint its module does not attack itself, and only for those', () => {
    expect(operations.map((o) => o.key).sort()).toEqual(Object.keys(BASELINES).sort());
  });

  it('leaves only modules that have such a test of their own to them', () => {
    for (const file of Object.values(COVERED_BY_MODULE)) {
      expect(existsSync(new URL(`../${file}`, import.meta.url)), file).toBe(true);
    }
  });

  it('answers each bad request with 400 VALIDATION_ERROR naming the field, and writes nothing', async () => {
    let checked = 0;
    for (const { key, path, method, operation } of operations) {
      const baseline = BASELINES[key]!(world);
      const requests = badRequests(path, operation, baseline);
      const before = await snapshot();
      for (const request of requests) {
        const res = await send(
          method,
          request.url,
          request.body,
          'application/json',
          request.headers ?? baseline.headers,
        );
        const what = `${key} with ${request.label}`;
        expect(res.status, `${what}: ${JSON.stringify(res.body).slice(0, 300)}`).toBe(400);
        expect(res.headers['content-type'], what).toContain('application/problem+json');
        expect(res.body.code, what).toBe('VALIDATION_ERROR');
        expect(Array.isArray(res.body.errors) && res.body.errors.length > 0, what).toBe(true);
        const pointers = (res.body.errors as Array<{ pointer: string }>).map((e) => e.pointer);
        expect(
          pointers.some((p) => p === request.pointer || p.startsWith(`${request.pointer}/`)),
          `${what}: ${pointers.join(', ')}`,
        ).toBe(true);
        checked++;
      }
      expect(await snapshot(), `${key} wrote something`).toEqual(before);
    }
    // Every endpoint with input contributes; this guards against the generator silently going empty.
    expect(checked).toBeGreaterThan(300);
  });

  it('answers malformed JSON with 400 VALIDATION_ERROR and writes nothing', async () => {
    const before = await snapshot();
    for (const [method, url] of [
      ['POST', '/api/auth/token/'],
      ['POST', '/api/properties/'],
      ['PATCH', `/api/properties/${world.propertyId}/`],
      ['POST', `/api/properties/${world.propertyId}/rooms/`],
    ] as const) {
      for (const payload of ['{"name":', '{name: "x"}', '']) {
        const res = await t.app.inject({
          method,
          url,
          headers: { authorization: `Bearer ${world.token}`, 'content-type': 'application/json' },
          payload,
        });
        expect(res.statusCode, `${method} ${url} ${payload}`).toBe(400);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.json().code).toBe('VALIDATION_ERROR');
        expect(res.body).not.toMatch(/SyntaxError|at .*\.js/);
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it('answers a body that is not JSON with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const before = await snapshot();
    for (const contentType of [
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
      'text/plain',
    ]) {
      const res = await send('POST', '/api/properties/', 'code=X&name=Y', contentType);
      expect(res.status, contentType).toBe(415);
      expect(res.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('answers a body over the size limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const before = await snapshot();
    const res = await send('POST', '/api/properties/', { code: 'BIG', name: 'x'.repeat(2_000_000) });
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await snapshot()).toEqual(before);
  });

  it('answers a URL the router refuses (too long a parameter, bad escapes) with a problem document', async () => {
    for (const [url, status] of [
      [`/api/properties/${'x'.repeat(300)}/`, 414],
      ['/api/properties/%E0%A4%A/', 400],
    ] as const) {
      const res = await send('GET', url, undefined);
      expect(res.status, url).toBe(status);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status, code: 'VALIDATION_ERROR' });
    }
  });

  it('answers an unknown route with a 404 problem document', async () => {
    for (const [method, url] of [
      ['GET', '/api/nothing-here/'],
      ['GET', '/api/properties'],
      ['PUT', '/api/properties/'],
      ['GET', `/api/properties/${world.propertyId}/unknown/`],
    ] as const) {
      const res = await send(method, url, undefined);
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
      expect(typeof res.body.request_id).toBe('string');
    }
  });

  // Last, so its writes cannot hide a write by a bad request above.
  it('would accept each baseline, so every refusal above came from the one thing broken', async () => {
    for (const { key, path, method } of operations) {
      const baseline = BASELINES[key]!(world);
      const res = await send(
        method,
        urlOf(path, baseline.params ?? {}, baseline.query ?? {}),
        baseline.body,
        'application/json',
        baseline.headers,
      );
      // The refresh and revoke baselines are well-formed but not real tokens (401); everything else succeeds.
      expect(res.status, `${key}: ${JSON.stringify(res.body)}`).not.toBe(400);
      expect(res.status, key).toBeLessThan(500);
    }
  });
});

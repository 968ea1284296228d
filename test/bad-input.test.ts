import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badValuesFor, type JsonSchema } from './helpers/bad-values.ts';
import { createTestContext, type TestContext } from './helpers/context.ts';
import { databaseFingerprint } from './helpers/db-fingerprint.ts';
import {
  createProperty,
  createRoom,
  createRoomType,
  createUser,
  userWithToken,
} from './helpers/factories.ts';

/**
 * Bad input on every foundation endpoint (auth, properties, room types, rooms) answers 400
 * VALIDATION_ERROR naming the bad field, and writes nothing. The bad values are derived from
 * each route's published schema (the OpenAPI document), so every field of every endpoint is hit.
 */

interface Baseline {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: Record<string, unknown>;
}

interface World {
  token: string;
  propertyId: string;
  roomTypeId: string;
  roomId: string;
  user: { id: string; email: string; password: string };
}

/** A valid request per endpoint; each bad request changes exactly one thing of it. */
const BASELINES: Record<string, (w: World) => Baseline> = {
  'POST /api/auth/token/': (w) => ({ body: { email: w.user.email, password: w.user.password } }),
  'POST /api/auth/token/refresh/': () => ({ body: { refresh: 'header.payload.signature' } }),
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
};

const FOUNDATION_PREFIXES = ['/api/auth/', '/api/properties/'];

interface Operation {
  parameters?: Array<{ in: 'path' | 'query' | 'header'; name: string; schema: JsonSchema }>;
  requestBody?: { content: { 'application/json': { schema: JsonSchema } } };
}

interface BadRequest {
  label: string;
  url: string;
  body?: unknown;
  /** The JSON pointer the problem's `errors` must name (or a parent of it). */
  pointer: string;
}

function urlOf(path: string, params: Record<string, string>, query: Record<string, string>): string {
  const filled = path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(params[name] ?? ''));
  const search = new URLSearchParams(query).toString();
  return search ? `${filled}?${search}` : filled;
}

/** Every way to break one thing of a valid request, derived from the operation's schemas. */
function badRequests(path: string, operation: Operation, baseline: Baseline): BadRequest[] {
  const params = baseline.params ?? {};
  const query = baseline.query ?? {};
  const body = baseline.body;
  const requests: BadRequest[] = [];
  const parameters = operation.parameters ?? [];
  for (const parameter of parameters.filter((p) => p.in === 'path')) {
    for (const bad of badValuesFor(parameter.schema, true)) {
      requests.push({
        label: `path ${parameter.name}: ${bad.label}`,
        url: urlOf(path, { ...params, [parameter.name]: String(bad.value) }, query),
        body,
        pointer: `/params/${parameter.name}`,
      });
    }
  }
  const queryParameters = parameters.filter((p) => p.in === 'query');
  for (const parameter of queryParameters) {
    for (const bad of badValuesFor(parameter.schema, true)) {
      requests.push({
        label: `query ${parameter.name}: ${bad.label}`,
        url: urlOf(path, params, { ...query, [parameter.name]: String(bad.value) }),
        body,
        pointer: `/querystring/${parameter.name}`,
      });
    }
  }
  if (queryParameters.length > 0) {
    requests.push({
      label: 'an unknown query parameter',
      url: urlOf(path, params, { ...query, unexpected_field: '1' }),
      body,
      pointer: '/querystring/unexpected_field',
    });
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
      label: 'body with an unknown field',
      url,
      body: { ...body, unexpected_field: 'x' },
      pointer: '/body/unexpected_field',
    });
    requests.push({ label: 'body with an empty object', url, body: {}, pointer: '/body' });
    for (const notAnObject of [[], 'text', 42, null]) {
      requests.push({
        label: `body ${JSON.stringify(notAnObject)}`,
        url,
        body: notAnObject,
        pointer: '/body',
      });
    }
  }
  return requests;
}

let t: TestContext;
let world: World;
let operations: Array<{ key: string; path: string; method: string; operation: Operation }>;

const snapshot = () => databaseFingerprint(t.db);

async function send(method: string, url: string, body: unknown, contentType = 'application/json') {
  const response = await t.app.inject({
    method: method as 'GET',
    url,
    headers: {
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
  world = { token: admin.token, propertyId: property.id, roomTypeId: roomType.id, roomId: room.id, user };
  const doc = (await t.app.inject({ url: '/openapi.json' })).json() as {
    paths: Record<string, Record<string, Operation>>;
  };
  operations = Object.entries(doc.paths)
    .filter(([path]) => FOUNDATION_PREFIXES.some((prefix) => path.startsWith(prefix)))
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

describe('bad input on every foundation endpoint', () => {
  it('has a baseline for every foundation endpoint, and only for those', () => {
    expect(operations.map((o) => o.key).sort()).toEqual(Object.keys(BASELINES).sort());
  });

  it('answers each bad request with 400 VALIDATION_ERROR naming the field, and writes nothing', async () => {
    let checked = 0;
    for (const { key, path, method, operation } of operations) {
      const requests = badRequests(path, operation, BASELINES[key]!(world));
      const before = await snapshot();
      for (const request of requests) {
        const res = await send(method, request.url, request.body);
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
      const res = await send(method, urlOf(path, baseline.params ?? {}, baseline.query ?? {}), baseline.body);
      // The refresh baseline is well-formed but not a real token (401); everything else succeeds.
      expect(res.status, `${key}: ${JSON.stringify(res.body)}`).not.toBe(400);
      expect(res.status, key).toBeLessThan(500);
    }
  });
});

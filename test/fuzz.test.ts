import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/modules/integrations/simulator/server.ts';
import { bookingWorld, ratePlanWithAmount, reservationBody } from './booking/world.ts';
import { call, createTestContext, LOOPBACK_EGRESS, type TestContext } from './helpers/context.ts';
import { databaseFingerprint } from './helpers/db-fingerprint.ts';
import { commitEvent, startHookServer } from './helpers/events.ts';
import { createProperty, createRoom, createUser, userWithToken } from './helpers/factories.ts';

/**
 * Hostile input for every operation of the OpenAPI document (so a new route is fuzzed without
 * anyone listing it): bodies, query strings, path parameters and headers (Authorization,
 * Idempotency-Key, Content-Type), random and malicious, but also plausible ones built from the
 * published schemas and the ids of real entities seeded first, so a request gets past validation
 * and reaches the services, the SQL and the locks. Never a 5xx; every 4xx is a problem document
 * with a stable code and writes nothing; every answer matches the schema the document publishes.
 * FUZZ_RUNS (default 12) sets the runs per operation, FUZZ_SEED the seed.
 */

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  patternProperties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
};
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  method: string;
  path: string;
  params: Parameter[];
  query: Parameter[];
  body: Schema | undefined;
  responses: Record<string, Schema | undefined>;
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
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log-injection probe, meant literally.
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
  '9999-12-31',
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

/** Objects and lists nested `depth` deep (one branch per level, so it stays small when serialised). */
function deepNesting(depth: number): unknown {
  let value: unknown = { leaf: true };
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { nested: value } : [value];
  return value;
}

/** Real entities, seeded in beforeAll: what plausible requests point at. */
interface Seeded {
  ids: Record<string, string[]>;
  codes: string[];
  configDocument: Record<string, unknown>;
  sampleRecords: unknown[];
}
let seeded: Seeded;

/** The kind of entity a path parameter names, from the path segment before it. */
const SEGMENT_KIND: Record<string, string> = {
  properties: 'property',
  'room-types': 'room_type',
  rooms: 'room',
  plans: 'rate_plan',
  reservations: 'reservation',
  holds: 'hold',
  webhooks: 'webhook',
  deliveries: 'delivery',
  users: 'user',
  'sync-runs': 'sync_run',
  connections: 'property',
  guests: 'guest_profile',
  'api-keys': 'api_key',
};

/** The kind of entity a body or query field holds, from its name. */
function kindOfField(name: string): string | undefined {
  if (name === 'parent_rate_plan_id') return 'rate_plan';
  if (name === 'after') return 'event';
  if (name === 'actor_id') return 'user';
  if (name === 'error_ids') return 'ingestion_error';
  if (name === 'duplicate_id') return 'guest_profile';
  if (name.endsWith('_id')) return name.slice(0, -3);
  return undefined;
}

function idsOf(kind: string | undefined): fc.Arbitrary<string> {
  const pool = (kind && seeded.ids[kind]) || Object.values(seeded.ids).flat();
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: fc.uuid() });
}

const DATES = [
  '2031-03-01',
  '2031-03-05',
  '2031-03-10',
  '2031-03-12',
  '2031-03-31',
  '2031-04-02',
  '2030-12-31',
];

function patternString(schema: Schema): fc.Arbitrary<string> {
  try {
    const max = Math.min(schema.maxLength ?? 30, 30);
    return fc
      .stringMatching(new RegExp(schema.pattern!))
      .filter((s) => s.length >= (schema.minLength ?? 0) && s.length <= max);
  } catch {
    return fc.string({ maxLength: 10 });
  }
}

/** A value the schema would likely accept (mostly), so requests get past validation into the services. */
function plausible(
  schema: Schema | undefined,
  name: string,
  depth = 0,
  clean = false,
): fc.Arbitrary<unknown> {
  if (!schema || depth > 6) return hostileScalar;
  if (schema.anyOf)
    return fc.oneof(...schema.anyOf.map((branch) => plausible(branch, name, depth + 1, clean)));
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      if (schema.format === 'uuid') return idsOf(kindOfField(name));
      if (schema.format === 'date') return fc.constantFrom(...DATES);
      if (schema.format === 'date-time')
        return fc.constantFrom('2031-03-01T00:00:00Z', '2020-01-01T10:00:00.000Z');
      if (schema.format === 'email') return fc.constantFrom('fuzz@example.test', 'FUZZ+1@Example.test');
      if (name === 'code' && seeded.codes.length) return fc.constantFrom(...seeded.codes);
      if (schema.pattern) return patternString(schema);
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 20, 20) });
    case 'integer': {
      const min = schema.minimum ?? -5;
      return fc.integer({ min, max: Math.min(schema.maximum ?? min + 50, min + 1_000_000) });
    }
    case 'number': {
      const min = schema.minimum ?? -5;
      return fc.double({ min, max: schema.maximum ?? min + 1000, noNaN: true });
    }
    case 'boolean':
      return fc.boolean();
    case 'array':
      if (name === 'records') return sampleRecords();
      return fc.uniqueArray(plausible(schema.items, name, depth + 1, clean), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 3, 3),
        selector: (value) => JSON.stringify(value),
      });
    case 'object': {
      // A map (e.g. secrets by name): a few entries with plausible names and values.
      const values =
        typeof schema.additionalProperties === 'object'
          ? schema.additionalProperties
          : Object.values(schema.patternProperties ?? {})[0];
      if (!schema.properties && values) {
        return fc.dictionary(
          fc.stringMatching(/^[A-Za-z0-9_]{1,20}$/),
          plausible(values, name, depth + 1, clean),
          {
            maxKeys: 3,
          },
        );
      }
      // The only other open objects the API takes are PMS config documents.
      if (!schema.properties) return configDocument();
      return objectOf(schema, depth, clean);
    }
    default:
      return hostileScalar;
  }
}

/** A field's value: plausible most of the time, hostile sometimes (never when `clean`). */
function fieldValue(
  schema: Schema | undefined,
  name: string,
  depth: number,
  clean = false,
): fc.Arbitrary<unknown> {
  if (clean) return plausible(schema, name, depth, true);
  return fc.oneof(
    { weight: 6, arbitrary: plausible(schema, name, depth) },
    { weight: 1, arbitrary: hostileScalar },
    { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 3 }) },
  );
}

function objectOf(schema: Schema, depth = 0, clean = false): fc.Arbitrary<Record<string, unknown>> {
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, field] of Object.entries(schema.properties ?? {}))
    record[key] = fieldValue(field, key, depth + 1, clean);
  return fc.oneof(
    { weight: 3, arbitrary: fc.record(record, { requiredKeys: schema.required ?? [] }) },
    { weight: 1, arbitrary: fc.record(record, { requiredKeys: [] }) },
  );
}

/** The shipped ACME config with one node replaced by something hostile (or left valid). */
function configDocument(): fc.Arbitrary<unknown> {
  const paths: string[][] = [];
  const walk = (node: unknown, at: string[]) => {
    if (node === null || typeof node !== 'object') return;
    for (const [key, child] of Object.entries(node)) {
      paths.push([...at, key]);
      walk(child, [...at, key]);
    }
  };
  walk(seeded.configDocument, []);
  const mutated = fc
    .record({ at: fc.constantFrom(...paths), value: fc.oneof(hostileScalar, fc.object({ maxDepth: 2 })) })
    .map(({ at, value }) => {
      const document = structuredClone(seeded.configDocument);
      let node = document as Record<string, unknown>;
      for (const key of at.slice(0, -1)) node = node[key] as Record<string, unknown>;
      node[at[at.length - 1]!] = value;
      return document;
    });
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(seeded.configDocument) },
    { weight: 4, arbitrary: mutated },
    { weight: 1, arbitrary: fc.object({ maxDepth: 2 }) },
  );
}

/** Raw PMS records for a preview: real ones from the simulator, damaged ones, and junk. */
function sampleRecords(): fc.Arbitrary<unknown[]> {
  const damaged = fc
    .record({
      record: fc.constantFrom(...seeded.sampleRecords),
      key: fc.string({ maxLength: 12 }),
      value: hostileScalar,
    })
    .map(({ record, key, value }) => ({ ...(record as object), [key]: value }));
  return fc.array(fc.oneof(fc.constantFrom(...seeded.sampleRecords), damaged, hostileScalar), {
    minLength: 1,
    maxLength: 5,
  });
}

function hostileBody(schema: Schema | undefined): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: schema ? plausible(schema, 'body', 0, true) : fc.object() },
    { weight: 3, arbitrary: schema ? plausible(schema, 'body') : fc.object() },
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

function pathValue(operation: Operation, parameter: Parameter): fc.Arbitrary<string> {
  const segments = operation.path.split('/');
  const before = segments[segments.indexOf(`{${parameter.name}}`) - 1] ?? '';
  const real =
    parameter.name === 'code'
      ? fc.constantFrom(...seeded.codes)
      : parameter.name === 'pms_type'
        ? fc.constantFrom('acme', 'flatline', 'quickstay', 'nope')
        : parameter.name === 'version'
          ? fc.constantFrom('2.1', '3.0', '1.0', '3', '9.9')
          : idsOf(kindOfField(parameter.name) ?? SEGMENT_KIND[before]);
  return fc.oneof(
    { weight: 4, arbitrary: real },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: hostileString },
  );
}

/** Query strings: a plausible set of the operation's parameters, or hostile pairs (also repeated and unknown). */
function queryOf(operation: Operation): fc.Arbitrary<Array<[string, string]>> {
  const toPairs = (name: string, value: unknown): Array<[string, string]> =>
    Array.isArray(value) ? value.map((v) => [name, String(v)]) : [[name, String(value)]];
  const required = operation.query.filter((p) => p.required).map((p) => p.name);
  const names = [...operation.query.map((p) => p.name), 'unknown_param'];
  const plausibleQuery = (clean: boolean) => {
    const record: Record<string, fc.Arbitrary<unknown>> = {};
    for (const p of operation.query) record[p.name] = fieldValue(p.schema, p.name, 0, clean);
    return fc
      .record(record, { requiredKeys: required })
      .map((values) => Object.entries(values).flatMap(([name, value]) => toPairs(name, value)));
  };
  return fc.oneof(
    { weight: 3, arbitrary: plausibleQuery(true) },
    { weight: 2, arbitrary: plausibleQuery(false) },
    {
      weight: 1,
      arbitrary: fc.array(
        fc.tuple(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 8 })), hostileString),
        { maxLength: 4 },
      ),
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
      const parameters: Parameter[] = operation.parameters ?? [];
      const responses: Record<string, Schema | undefined> = {};
      for (const [status, response] of Object.entries<any>(operation.responses ?? {})) {
        responses[status] = response?.content?.['application/json']?.schema;
      }
      operations.push({
        method: method.toUpperCase(),
        path,
        params: parameters.filter((p) => p.in === 'path'),
        query: parameters.filter((p) => p.in === 'query'),
        body: operation.requestBody?.content?.['application/json']?.schema,
        responses,
      });
    }
  }
  // Deletes last, deepest first, so the seeded entities are there for everything else.
  const rank = (o: Operation) => (o.method === 'DELETE' ? 1000 - o.path.split('/').length : 0);
  return operations.sort((a, b) => rank(a) - rank(b));
}

/** Validates answers against the schemas the OpenAPI document publishes (refs to its components). */
function responseValidator(document: any) {
  const ajv = new Ajv2020({ strict: false, allErrors: false });
  type AddFormats = (ajv: Ajv2020) => unknown;
  const addFormats =
    (formatsModule as unknown as { default?: AddFormats }).default ??
    (formatsModule as unknown as AddFormats);
  addFormats(ajv);
  const rewrite = (schema: unknown) =>
    JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"components#/schemas/'));
  ajv.addSchema({ $id: 'components', schemas: rewrite(document.components?.schemas ?? {}) });
  const compiled = new Map<Schema, ReturnType<typeof ajv.compile>>();
  return (schema: Schema, body: unknown): string | undefined => {
    let validate = compiled.get(schema);
    if (!validate) {
      validate = ajv.compile(rewrite(schema));
      compiled.set(schema, validate);
    }
    return validate(body) ? undefined : ajv.errorsText(validate.errors);
  };
}

let t: TestContext;
let operations: Operation[];
let validate: ReturnType<typeof responseValidator>;
let authorizations: fc.Arbitrary<string | undefined>;
let simulator: Simulator;
let hooks: Awaited<ReturnType<typeof startHookServer>>;
let superAdminToken: string;

async function seedWorld() {
  const world = await bookingWorld(t, { units: 50 });
  const other = await bookingWorld(t, { units: 5 });
  const room = await createRoom(t.db, world.property.id, world.roomType.id);
  const plan = await ratePlanWithAmount(t, world, { amount: '120.00' });
  const superAdmin = await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' });
  superAdminToken = superAdmin.token;
  const as = (method: 'POST' | 'PUT', url: string, body?: unknown) =>
    call(t.app, method, url, { token: superAdmin.token, body }).then((res) => {
      if (res.status >= 300) throw new Error(`seed ${url}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    });
  const reservations = [];
  for (const [checkIn, checkOut] of [
    ['2031-03-05', '2031-03-07'],
    ['2031-03-10', '2031-03-12'],
    ['2031-03-12', '2031-03-15'],
  ]) {
    reservations.push(
      await as(
        'POST',
        '/api/reservations/create/',
        reservationBody(world, {
          check_in: checkIn,
          check_out: checkOut,
          rooms: [{ room_type_id: world.roomType.id, rate_plan_id: plan.id }],
        }),
      ),
    );
  }
  const hold = await as('POST', '/api/inventory/holds/', {
    room_type_id: world.roomType.id,
    check_in: '2031-03-20',
    check_out: '2031-03-22',
    units: 1,
  });
  const webhook = await as('POST', '/api/webhooks/', {
    property_id: world.property.id,
    url: hooks.url,
    event_types: ['pms.reservation.created'],
  });
  const apiKey = await as('POST', '/api/auth/api-keys/', {
    name: 'Fuzz partner',
    scopes: ['search', 'book'],
    property_ids: [world.property.id],
  });
  const event = await commitEvent(t.db, 'pms.reservation.created', world.property.id, { fuzz: true });
  const delivery = await t.db
    .insertInto('webhook_delivery')
    .values({
      subscription_id: webhook.id,
      property_id: world.property.id,
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
  await as('PUT', `/api/integrations/pms/connections/${world.property.id}/`, {
    pms_type: 'acme',
    version: '2.1',
    base_url: simulator.url,
    hotel_external_id: 'FUZZ',
    secrets: { api_token: simulator.credentials.acme },
  });
  const run = await as('POST', '/api/integrations/pms/sync/', { property_id: world.property.id, wait: true });
  const errors = await t.db.selectFrom('ingestion_error').select('id').execute();
  const staffUser = await createUser(t.db, { role: 'STAFF', propertyIds: [world.property.id] });
  const emptyProperty = await createProperty(t.db);
  const response = await fetch(`${simulator.url}/v2/hotels/FUZZ/bookings?per_page=5`, {
    headers: { authorization: `Bearer ${simulator.credentials.acme}` },
  });
  const { $schema: _, ...configDocument } = JSON.parse(
    readFileSync(new URL('../pms-configs/acme-2.1.json', import.meta.url), 'utf8'),
  );
  seeded = {
    ids: {
      property: [world.property.id, other.property.id, emptyProperty.id],
      room_type: [world.roomType.id, other.roomType.id],
      room: [room.id],
      rate_plan: [plan.id],
      reservation: reservations.map((r) => r.id),
      reservation_room: reservations.map((r) => r.rooms[0].id),
      hold: [hold.id],
      webhook: [webhook.id],
      api_key: [apiKey.id],
      delivery: [delivery.id],
      event: [event.id],
      // Never the token holders: deactivating them would turn every later request into a 401.
      user: [staffUser.id],
      sync_run: [run.id],
      ingestion_error: errors.length ? errors.map((e) => e.id) : [run.id],
      guest_profile: (await t.db.selectFrom('guest_profile').select('id').limit(20).execute()).map(
        (g) => g.id,
      ),
    },
    codes: reservations.map((r) => r.confirmation_code),
    configDocument: { ...configDocument, pms_type: 'fuzzacme' },
    sampleRecords: ((await response.json()) as { data: unknown[] }).data,
  };

  const key = t.jwtKey;
  const sign = (claims: Record<string, unknown>, expires: string, signWith = key) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(superAdmin.id)
      .setIssuer('pms')
      .setIssuedAt()
      .setJti(crypto.randomUUID())
      .setExpirationTime(expires)
      .sign(signWith);
  const expired = await sign({ role: 'SUPER_ADMIN', token_type: 'access' }, '1 second ago');
  const forged = await sign(
    { role: 'SUPER_ADMIN', token_type: 'access' },
    '1h',
    new TextEncoder().encode('not-the-key-not-the-key-not-the-key-0000'),
  );
  const refreshAsAccess = await sign({ token_type: 'refresh', fam: crypto.randomUUID() }, '1h');
  const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
    JSON.stringify({ sub: superAdmin.id, role: 'SUPER_ADMIN', token_type: 'access', iss: 'pms' }),
  ).toString('base64url')}.`;
  authorizations = fc.oneof(
    { weight: 8, arbitrary: fc.constant(`Bearer ${superAdmin.token}`) },
    { weight: 2, arbitrary: fc.constantFrom(`Bearer ${world.staff.token}`, `Bearer ${other.admin.token}`) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        undefined,
        '',
        'Bearer',
        'Bearer ',
        `bearer ${superAdmin.token}`,
        `Basic ${Buffer.from('admin:admin').toString('base64')}`,
        `Bearer ${expired}`,
        `Bearer ${forged}`,
        `Bearer ${refreshAsAccess}`,
        `Bearer ${unsigned}`,
        `Bearer ${superAdmin.token}x`,
        `Bearer ${'a'.repeat(8000)}`,
      ),
    },
    { weight: 1, arbitrary: hostileString.map((s) => `Bearer ${s}`) },
  );
}

beforeAll(async () => {
  t = await createTestContext({ env: LOOPBACK_EGRESS });
  simulator = await startSimulator({ dialects: ['acme'], bookings: 6, badRatio: 0.5, seed: 'fuzz' });
  hooks = await startHookServer();
  await seedWorld();
  const document = t.app.swagger();
  operations = operationsOf(document);
  validate = responseValidator(document);
});
afterAll(async () => {
  await t.close();
  await hooks?.close();
  await simulator?.close();
});

/** Waits (bounded) until no PMS sync run started by an earlier request is queued or running. */
async function syncRunsSettled() {
  for (let attempt = 0; attempt < 300; attempt++) {
    const active = await t.db
      .selectFrom('sync_run')
      .select('id')
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst();
    if (!active) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('a PMS sync run did not finish within 6 s');
}

const runsPerOperation = Number(process.env.FUZZ_RUNS ?? 12);

const idempotencyKeys = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  // A few fixed keys, so requests replay or reuse one another's keys.
  { weight: 2, arbitrary: fc.constantFrom('fuzz-key-1', 'fuzz-key-2', 'fuzz-key-3') },
  { weight: 1, arbitrary: fc.stringMatching(/^[\x21-\x7E]{1,40}$/) },
  { weight: 1, arbitrary: hostileString.map((s) => s.slice(0, 300)) },
);

/** Control characters PostgreSQL stores (C0 but NUL, DEL, C1, line separators, a lone surrogate, a non-character). */
const CONTROL_CHARACTERS = '\u0001\u0008\u000b\u001b\u001f\u007f\u0085\u2028\u2029\ud800\ufffe';

/** Where a request holds strings: [location, apply(value) → the request with that string replaced]. */
interface StringSlot {
  at: string;
  original: string;
  with(value: string): { params: string[]; query: Array<[string, string]>; body: unknown };
}

function stringSlots(params: string[], query: Array<[string, string]>, body: unknown): StringSlot[] {
  const slots: StringSlot[] = [];
  for (const [i, original] of params.entries()) {
    slots.push({
      at: `/params/${i}`,
      original,
      with: (value) => ({ params: params.map((p, j) => (j === i ? value : p)), query, body }),
    });
  }
  for (const [i, [name, original]] of query.entries()) {
    slots.push({
      at: `/querystring/${name}`,
      original,
      with: (value) => ({
        params,
        query: query.map((pair, j): [string, string] => (j === i ? [name, value] : pair)),
        body,
      }),
    });
  }
  const walk = (node: unknown, path: Array<string | number>) => {
    if (slots.length > 40) return;
    if (typeof node === 'string') {
      slots.push({
        at: `/body/${path.join('/')}`,
        original: node,
        with: (value) => {
          const copy = structuredClone(body) as Record<string | number, unknown>;
          let parent = copy;
          for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
          parent[path[path.length - 1]!] = value;
          return { params, query, body: copy };
        },
      });
    } else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node))
        walk(child, [...path, Array.isArray(node) ? Number(key) : key]);
    }
  };
  walk(body, []);
  return slots;
}

/** The URL of one request to `operation`, with its path parameters and query pairs filled in. */
function urlOf(operation: Operation, params: unknown[], pairs: Array<[string, string]>): string {
  let path = operation.path;
  operation.params.forEach((p, i) => {
    path = path.replace(`{${p.name}}`, encodeURIComponent(String(params[i])));
  });
  const query = new URLSearchParams(pairs).toString();
  return query ? `${path}?${query}` : path;
}

/** The database before the request, once the sync runs an earlier request started are done. */
async function fingerprintBefore(): Promise<string> {
  // Runs started in the background by an earlier request must not look like a write by this one.
  await syncRunsSettled();
  return databaseFingerprint(t.db);
}

describe('fuzzing every API operation', () => {
  it('finds the operations in the OpenAPI document', () => {
    expect(operations.length).toBeGreaterThan(5);
  });

  it(
    'never answers 5xx, answers 4xx as problem documents that write nothing, and matches the published schemas',
    async () => {
      const seen = { deep: 0, total: 0, byStatus: {} as Record<number, number> };
      for (const operation of operations) {
        const request = fc.record({
          params: fc.tuple(...operation.params.map((p) => pathValue(operation, p))),
          query: queryOf(operation),
          body: hostileBody(operation.body),
          contentType: fc.oneof(
            { weight: 6, arbitrary: fc.constant('application/json') },
            {
              weight: 1,
              arbitrary: fc.constantFrom(
                'application/json; charset=utf-8',
                'text/plain',
                'application/x-www-form-urlencoded',
              ),
            },
          ),
          idempotencyKey: idempotencyKeys,
          authorization: authorizations,
        });
        await fc.assert(
          fc.asyncProperty(request, async (input) => {
            const before = await fingerprintBefore();
            const hasBody = !['GET', 'DELETE'].includes(operation.method);
            const response = await t.app.inject({
              method: operation.method as 'GET',
              url: urlOf(operation, input.params, input.query),
              headers: {
                ...(input.authorization !== undefined ? { authorization: input.authorization } : {}),
                ...(hasBody ? { 'content-type': input.contentType } : {}),
                ...(input.idempotencyKey !== undefined ? { 'idempotency-key': input.idempotencyKey } : {}),
              },
              ...(hasBody
                ? {
                    payload:
                      typeof input.body === 'string' ? input.body : (JSON.stringify(input.body) ?? 'null'),
                  }
                : {}),
            });
            const status = response.statusCode;
            const label = `${operation.method} ${operation.path} → ${status} ${response.body.slice(0, 300)}`;
            expect(status, label).toBeLessThan(500);
            seen.total++;
            seen.byStatus[status] = (seen.byStatus[status] ?? 0) + 1;
            // Past authentication and validation: the request reached a service.
            if (status < 300 || ![400, 401, 415].includes(status)) seen.deep++;
            const body = response.body ? JSON.parse(response.body) : undefined;
            if (status >= 400) {
              expect(response.headers['content-type'], label).toContain('application/problem+json');
              expect(typeof body.code, label).toBe('string');
              expect(body.status, label).toBe(status);
              expect(await databaseFingerprint(t.db), `${label} wrote to the database`).toBe(before);
            }
            const schema =
              operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`];
            if (body !== undefined && schema) {
              expect(validate(schema, body), `${label} does not match its published schema`).toBeUndefined();
            }
          }),
          { numRuns: runsPerOperation, seed: Number(process.env.FUZZ_SEED ?? 20261122) },
        );
      }
      console.log(
        `[fuzz] ${seen.total} requests, ${seen.deep} past authentication and validation; by status: ${JSON.stringify(seen.byStatus)}`,
      );
      // The plausible requests are there to reach the services: a generator gone wrong would show here.
      expect(seen.deep).toBeGreaterThan(seen.total / 4);
    },
    60_000 + runsPerOperation * 8_000,
  );

  it('answers control characters in every string of every operation without a 5xx, and a NUL with 400 naming where it is', async () => {
    let sent = 0;
    for (const [index, operation] of operations.entries()) {
      const [clean] = fc.sample(
        fc.record({
          params: fc.tuple(...operation.params.map((p) => pathValue(operation, p))),
          query: queryOf(operation),
          body: operation.body ? plausible(operation.body, 'body', 0, true) : fc.constant(undefined),
        }),
        { numRuns: 1, seed: 20261208 + index },
      );
      for (const slot of stringSlots(clean!.params.map(String), clean!.query, clean!.body)) {
        for (const [kind, value] of [
          ['controls', `${slot.original}${CONTROL_CHARACTERS}`],
          ['nul', `${slot.original}\u0000`],
        ] as const) {
          const request = slot.with(value);
          // A URL carries UTF-8 bytes: a lone surrogate cannot be sent in one (bodies carry it).
          const params = request.params.map((param) => param.replace('\ud800', ''));
          const before = await fingerprintBefore();
          const hasBody = !['GET', 'DELETE'].includes(operation.method);
          const response = await t.app.inject({
            method: operation.method as 'GET',
            url: urlOf(operation, params, request.query),
            headers: {
              authorization: `Bearer ${superAdminToken}`,
              ...(hasBody ? { 'content-type': 'application/json' } : {}),
            },
            ...(hasBody ? { payload: JSON.stringify(request.body) ?? 'null' } : {}),
          });
          sent++;
          const status = response.statusCode;
          const label = `${operation.method} ${operation.path} with ${kind} at ${slot.at} → ${status} ${response.body.slice(0, 300)}`;
          expect(status, label).toBeLessThan(500);
          if (status >= 400) {
            const problem = JSON.parse(response.body);
            expect(typeof problem.code, label).toBe('string');
            expect(await databaseFingerprint(t.db), `${label} wrote to the database`).toBe(before);
          }
          if (kind === 'nul') {
            expect(status, label).toBe(400);
            const problem = JSON.parse(response.body);
            expect(problem.code, label).toBe('VALIDATION_ERROR');
          }
        }
      }
    }
    console.log(`[fuzz] control characters: ${sent} requests`);
    expect(sent).toBeGreaterThan(operations.length);
  }, 600_000);
});

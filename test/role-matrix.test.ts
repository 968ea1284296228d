import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/modules/integrations/simulator/server.ts';
import { issueApiKey } from './helpers/api-keys.ts';
import { call, createTestContext, LOOPBACK_EGRESS, type TestContext } from './helpers/context.ts';
import { commitEvent, startHookServer } from './helpers/events.ts';
import {
  createDefaultRatePlan,
  createProperty,
  createRoom,
  createRoomType,
  createUser,
  unique,
  userWithToken,
} from './helpers/factories.ts';
import { listRoutes } from './helpers/routes.ts';

/**
 * Who may do what, for every endpoint under /api/: each role gets the status it should, and a
 * user of another property gets 404 for property A's data (never learning that it exists).
 * Adding a route without adding it here fails the "every route is covered" test below.
 */

type Role = 'anonymous' | 'superAdmin' | 'adminA' | 'staffA' | 'adminB' | 'staffB';
const ROLES: Role[] = ['anonymous', 'superAdmin', 'adminA', 'staffA', 'adminB', 'staffB'];

interface World {
  tokens: Record<Exclude<Role, 'anonymous'>, string>;
  propertyA: string;
  propertyB: string;
  /** A fresh property that adminA and staffA are scoped to, for cases that change or remove it. */
  freshPropertyA(): Promise<string>;
  /** A room type of property A whose nights are loaded for a year from night(0). */
  roomTypeA: string;
  /** A local endpoint that answers every webhook with 200. */
  hookUrl: string;
  /** Property A's PMS connection (to the simulator), one finished sync run, what it ingested and quarantined. */
  pms: { url: string; connectionId: string; runId: string; bookingId: string; errorId: string };
}

interface Prepared {
  url: string;
  body?: unknown;
  /** For lists: an id of property A's data, which the list shows exactly when the role may see it. */
  listedId?: string;
}

interface Case {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** The route as registered (`:param` placeholders), matched against the app's route table. */
  route: string;
  /** Builds fresh targets for one call, so a delete by one role does not change the next role's case. */
  prepare(world: World): Promise<Prepared>;
  expect: Record<Role, number>;
}

const readOfA = (ok = 200): Record<Role, number> => ({
  anonymous: 401,
  superAdmin: ok,
  adminA: ok,
  staffA: ok,
  adminB: 404,
  staffB: 404,
});
const adminWriteOfA = (ok: number): Record<Role, number> => ({
  anonymous: 401,
  superAdmin: ok,
  adminA: ok,
  staffA: 403,
  adminB: 404,
  staffB: 404,
});
/** Administration that is not one property's (configs, lists): administrators, each scoped to its own. */
const administrators = (): Record<Role, number> => ({
  anonymous: 401,
  superAdmin: 200,
  adminA: 200,
  staffA: 403,
  adminB: 200,
  staffB: 403,
});
const everyone = (ok: number, anonymous = 401): Record<Role, number> => ({
  anonymous,
  superAdmin: ok,
  adminA: ok,
  staffA: ok,
  adminB: ok,
  staffB: ok,
});

let t: TestContext;
let superToken: string;

const night = (offset: number) => new Date(Date.UTC(2033, 0, 1 + offset)).toISOString().slice(0, 10);

/** Sets up a target through the API as the super administrator; fails loudly when that is refused. */
async function setup(method: 'POST' | 'PUT', url: string, body?: unknown): Promise<any> {
  const res = await call(t.app, method, url, { token: superToken, body });
  if (res.status >= 300) throw new Error(`setup ${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const hold = (w: World): Promise<{ id: string }> =>
  setup('POST', '/api/inventory/holds/', {
    room_type_id: w.roomTypeA,
    check_in: night(20),
    check_out: night(21),
    units: 1,
  });

const ratePlan = (w: World): Promise<{ id: string }> =>
  setup('POST', '/api/rates/plans/', { property_id: w.propertyA, code: unique('RP'), name: 'Matrix' });

const reservationBody = (w: World, status?: string) => ({
  property_id: w.propertyA,
  check_in: night(1),
  check_out: night(3),
  guest: { full_name: 'Matrix Guest' },
  rooms: [{ room_type_id: w.roomTypeA }],
  ...(status && { status }),
});

/**
 * A reservation of property A whose arrival day is over (a no-show can be declared): booked while
 * the business date was its arrival, then the date moved on, as the night audit moves it.
 */
async function pastArrival(w: World): Promise<{ id: string }> {
  await setBusinessDate(w.propertyA, night(0));
  try {
    return await setup('POST', '/api/reservations/create/', {
      ...reservationBody(w),
      check_in: night(0),
      check_out: night(1),
    });
  } finally {
    await setBusinessDate(w.propertyA, night(1));
  }
}

const setBusinessDate = (propertyId: string, date: string) =>
  t.db.updateTable('property').set({ business_date: date }).where('id', '=', propertyId).execute();

/** A new room of property A, of a room type of its own (so no stay of the matrix can take it). */
async function freshRoomA(w: World): Promise<{ id: string }> {
  const roomType = await createRoomType(t.db, w.propertyA);
  return createRoom(t.db, w.propertyA, roomType.id);
}

/** A fresh reservation of property A, taken through `steps` (lifecycle actions) first. */
async function reservation(
  w: World,
  options: { status?: string; steps?: string[] } = {},
): Promise<{ id: string; confirmation_code: string }> {
  const created = await setup('POST', '/api/reservations/create/', reservationBody(w, options.status));
  for (const step of options.steps ?? []) await setup('POST', `/api/reservations/${created.id}/${step}/`);
  return created;
}

/** A fresh API key of property A, as its partner would hold it. */
const apiKeyOfA = (w: World): Promise<{ id: string }> =>
  setup('POST', '/api/auth/api-keys/', {
    name: unique('partner'),
    scopes: ['search'],
    property_ids: [w.propertyA],
  });

/** The profile of a new guest of property A (one booking there, no contact: a profile of its own). */
async function guestOfA(w: World): Promise<string> {
  const booked = await reservation(w);
  const row = await t.db
    .selectFrom('reservation as r')
    .innerJoin('guest as g', 'g.id', 'r.guest_id')
    .select('g.profile_id')
    .where('r.id', '=', booked.id)
    .executeTakeFirstOrThrow();
  return row.profile_id;
}

const webhook = (w: World): Promise<{ id: string }> =>
  setup('POST', '/api/webhooks/', {
    property_id: w.propertyA,
    url: w.hookUrl,
    event_types: ['pms.reservation.created'],
  });

/** A webhook with one logged (failed) delivery of a committed event, ready to be redelivered. */
async function webhookWithDelivery(w: World): Promise<{ id: string; deliveryId: string }> {
  const { id } = await webhook(w);
  const event = await commitEvent(t.db, 'pms.reservation.created', w.propertyA, { marker: true });
  const delivery = await t.db
    .insertInto('webhook_delivery')
    .values({
      subscription_id: id,
      property_id: w.propertyA,
      event_id: event.id,
      event_type: event.type,
      attempt: 1,
      trigger: 'automatic',
      status: 'failed',
      response_status: 503,
      response_body: null,
      error: null,
      duration_ms: 1,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id, deliveryId: delivery.id };
}

/** The shipped ACME 2.1 config, under another PMS type when asked. */
function acmeConfig(pmsType: string) {
  const { $schema: _, ...document } = JSON.parse(
    readFileSync(new URL('../pms-configs/acme-2.1.json', import.meta.url), 'utf8'),
  );
  return { ...document, pms_type: pmsType };
}

const connectionBody = (w: World, hotel: string) => ({
  pms_type: 'acme',
  version: '2.1',
  base_url: w.pms.url,
  hotel_external_id: hotel,
  secrets: { api_token: 'acme-demo-token' },
});

/** A record of property A waiting in the quarantine, so a replay has something to do. */
async function quarantinedRecord(w: World): Promise<string> {
  const row = await t.db
    .insertInto('ingestion_error')
    .values({
      sync_run_id: w.pms.runId,
      property_id: w.propertyA,
      stage: 'raw_schema',
      error_type: 'PMSDataValidationError',
      field: null,
      message: 'matrix',
      external_id: unique('X'),
      raw: JSON.stringify({ id: 'matrix' }),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

const CASES: Case[] = [
  {
    method: 'POST',
    route: '/api/auth/token/',
    prepare: async () => {
      const user = await createUser(t.db);
      return { url: '/api/auth/token/', body: { email: user.email, password: user.password } };
    },
    expect: everyone(200, 200),
  },
  {
    method: 'POST',
    route: '/api/auth/token/refresh/',
    prepare: async () => {
      const user = await createUser(t.db);
      const pair = await t.app.inject({
        method: 'POST',
        url: '/api/auth/token/',
        payload: { email: user.email, password: user.password },
      });
      return { url: '/api/auth/token/refresh/', body: { refresh: JSON.parse(pair.body).refresh } };
    },
    expect: everyone(200, 200),
  },
  {
    method: 'POST',
    route: '/api/auth/token/revoke/',
    prepare: async () => {
      const user = await createUser(t.db);
      const pair = await t.app.inject({
        method: 'POST',
        url: '/api/auth/token/',
        payload: { email: user.email, password: user.password },
      });
      return { url: '/api/auth/token/revoke/', body: { refresh: JSON.parse(pair.body).refresh } };
    },
    // The refresh token is the credential: whoever holds it may end its sign-in.
    expect: everyone(204, 204),
  },
  {
    method: 'GET',
    route: '/api/auth/me/',
    prepare: async () => ({ url: '/api/auth/me/' }),
    expect: everyone(200),
  },
  {
    method: 'GET',
    route: '/api/auth/users/',
    prepare: async (w) => {
      const staff = await createUser(t.db, { role: 'STAFF', propertyIds: [w.propertyA] });
      return { url: '/api/auth/users/?limit=500', listedId: staff.id };
    },
    expect: { anonymous: 401, superAdmin: 200, adminA: 200, staffA: 403, adminB: 200, staffB: 403 },
  },
  {
    method: 'POST',
    route: '/api/auth/users/',
    prepare: async (w) => ({
      url: '/api/auth/users/',
      body: {
        email: `${unique('new')}@example.test`,
        password: 'a-long-password',
        role: 'STAFF',
        property_ids: [w.propertyA],
      },
    }),
    // A property administrator may only assign its own properties: B's admin is refused.
    expect: { anonymous: 401, superAdmin: 201, adminA: 201, staffA: 403, adminB: 403, staffB: 403 },
  },
  {
    method: 'GET',
    route: '/api/auth/users/:id/',
    prepare: async (w) => {
      const staff = await createUser(t.db, { role: 'STAFF', propertyIds: [w.propertyA] });
      return { url: `/api/auth/users/${staff.id}/` };
    },
    expect: { anonymous: 401, superAdmin: 200, adminA: 200, staffA: 403, adminB: 404, staffB: 403 },
  },
  {
    method: 'PATCH',
    route: '/api/auth/users/:id/',
    prepare: async (w) => {
      const staff = await createUser(t.db, { role: 'STAFF', propertyIds: [w.propertyA] });
      return { url: `/api/auth/users/${staff.id}/`, body: { full_name: 'Renamed' } };
    },
    expect: { anonymous: 401, superAdmin: 200, adminA: 200, staffA: 403, adminB: 404, staffB: 403 },
  },
  {
    method: 'DELETE',
    route: '/api/auth/users/:id/',
    prepare: async (w) => {
      const staff = await createUser(t.db, { role: 'STAFF', propertyIds: [w.propertyA] });
      return { url: `/api/auth/users/${staff.id}/` };
    },
    expect: { anonymous: 401, superAdmin: 204, adminA: 204, staffA: 403, adminB: 404, staffB: 403 },
  },
  {
    method: 'GET',
    route: '/api/auth/api-keys/',
    prepare: async (w) => ({ url: '/api/auth/api-keys/?limit=500', listedId: (await apiKeyOfA(w)).id }),
    // A PROPERTY_ADMIN lists the keys limited to its own properties: B's does not see A's.
    expect: administrators(),
  },
  {
    method: 'POST',
    route: '/api/auth/api-keys/',
    prepare: async (w) => ({
      url: '/api/auth/api-keys/',
      body: { name: unique('partner'), scopes: ['search'], property_ids: [w.propertyA] },
    }),
    // As for users: a property administrator gives keys only its own properties.
    expect: { anonymous: 401, superAdmin: 201, adminA: 201, staffA: 403, adminB: 403, staffB: 403 },
  },
  ...(['GET', 'PATCH'] as const).map(
    (method): Case => ({
      method,
      route: '/api/auth/api-keys/:id/',
      prepare: async (w) => ({
        url: `/api/auth/api-keys/${(await apiKeyOfA(w)).id}/`,
        body: method === 'PATCH' ? { name: 'Renamed' } : undefined,
      }),
      expect: { anonymous: 401, superAdmin: 200, adminA: 200, staffA: 403, adminB: 404, staffB: 403 },
    }),
  ),
  ...(['rotate', 'revoke'] as const).map(
    (action): Case => ({
      method: 'POST',
      route: `/api/auth/api-keys/:id/${action}/`,
      prepare: async (w) => ({ url: `/api/auth/api-keys/${(await apiKeyOfA(w)).id}/${action}/` }),
      expect: { anonymous: 401, superAdmin: 200, adminA: 200, staffA: 403, adminB: 404, staffB: 403 },
    }),
  ),
  {
    method: 'GET',
    route: '/api/auth/api-keys/:id/usage/',
    prepare: async (w) => ({ url: `/api/auth/api-keys/${(await apiKeyOfA(w)).id}/usage/` }),
    expect: { anonymous: 401, superAdmin: 200, adminA: 200, staffA: 403, adminB: 404, staffB: 403 },
  },
  {
    method: 'GET',
    route: '/api/properties/',
    prepare: async (w) => ({ url: '/api/properties/?limit=500', listedId: w.propertyA }),
    expect: everyone(200),
  },
  {
    method: 'POST',
    route: '/api/properties/',
    prepare: async () => ({ url: '/api/properties/', body: { code: unique('M'), name: 'Matrix' } }),
    expect: { anonymous: 401, superAdmin: 201, adminA: 403, staffA: 403, adminB: 403, staffB: 403 },
  },
  {
    method: 'GET',
    route: '/api/properties/:id/',
    prepare: async (w) => ({ url: `/api/properties/${w.propertyA}/` }),
    expect: readOfA(),
  },
  {
    method: 'PATCH',
    route: '/api/properties/:id/',
    prepare: async (w) => ({
      url: `/api/properties/${await w.freshPropertyA()}/`,
      body: { name: 'Renamed' },
    }),
    expect: adminWriteOfA(200),
  },
  {
    method: 'DELETE',
    route: '/api/properties/:id/',
    prepare: async (w) => ({ url: `/api/properties/${await w.freshPropertyA()}/` }),
    // Only a SUPER_ADMIN removes hotels; A's own administrator may not.
    expect: { anonymous: 401, superAdmin: 204, adminA: 403, staffA: 403, adminB: 404, staffB: 404 },
  },
  {
    method: 'GET',
    route: '/api/properties/:id/room-types/',
    prepare: async (w) => {
      const roomType = await createRoomType(t.db, w.propertyA);
      return { url: `/api/properties/${w.propertyA}/room-types/?limit=500`, listedId: roomType.id };
    },
    expect: readOfA(),
  },
  {
    method: 'POST',
    route: '/api/properties/:id/room-types/',
    prepare: async (w) => ({
      url: `/api/properties/${w.propertyA}/room-types/`,
      body: { code: unique('RT'), name: 'Matrix', total_units: 3 },
    }),
    expect: adminWriteOfA(201),
  },
  {
    method: 'GET',
    route: '/api/properties/:id/room-types/:room_type_id/',
    prepare: async (w) => {
      const roomType = await createRoomType(t.db, w.propertyA);
      return { url: `/api/properties/${w.propertyA}/room-types/${roomType.id}/` };
    },
    expect: readOfA(),
  },
  {
    method: 'PATCH',
    route: '/api/properties/:id/room-types/:room_type_id/',
    prepare: async (w) => {
      const roomType = await createRoomType(t.db, w.propertyA);
      return { url: `/api/properties/${w.propertyA}/room-types/${roomType.id}/`, body: { name: 'Renamed' } };
    },
    expect: adminWriteOfA(200),
  },
  {
    method: 'DELETE',
    route: '/api/properties/:id/room-types/:room_type_id/',
    prepare: async (w) => {
      const roomType = await createRoomType(t.db, w.propertyA);
      return { url: `/api/properties/${w.propertyA}/room-types/${roomType.id}/` };
    },
    expect: adminWriteOfA(204),
  },
  {
    method: 'GET',
    route: '/api/properties/:id/rooms/',
    prepare: async (w) => {
      const roomType = await createRoomType(t.db, w.propertyA);
      const room = await createRoom(t.db, w.propertyA, roomType.id);
      return { url: `/api/properties/${w.propertyA}/rooms/?limit=500`, listedId: room.id };
    },
    expect: readOfA(),
  },
  {
    method: 'POST',
    route: '/api/properties/:id/rooms/',
    prepare: async (w) => {
      const roomType = await createRoomType(t.db, w.propertyA);
      return {
        url: `/api/properties/${w.propertyA}/rooms/`,
        body: { number: unique('N'), room_type_id: roomType.id },
      };
    },
    expect: adminWriteOfA(201),
  },
  {
    method: 'GET',
    route: '/api/properties/:id/rooms/:room_id/',
    prepare: async (w) => {
      const roomType = await createRoomType(t.db, w.propertyA);
      const room = await createRoom(t.db, w.propertyA, roomType.id);
      return { url: `/api/properties/${w.propertyA}/rooms/${room.id}/` };
    },
    expect: readOfA(),
  },
  {
    method: 'PATCH',
    route: '/api/properties/:id/rooms/:room_id/',
    prepare: async (w) => {
      const roomType = await createRoomType(t.db, w.propertyA);
      const room = await createRoom(t.db, w.propertyA, roomType.id);
      return { url: `/api/properties/${w.propertyA}/rooms/${room.id}/`, body: { status: 'dirty' } };
    },
    expect: adminWriteOfA(200),
  },
  {
    method: 'DELETE',
    route: '/api/properties/:id/rooms/:room_id/',
    prepare: async (w) => {
      const roomType = await createRoomType(t.db, w.propertyA);
      const room = await createRoom(t.db, w.propertyA, roomType.id);
      return { url: `/api/properties/${w.propertyA}/rooms/${room.id}/` };
    },
    expect: adminWriteOfA(204),
  },
  {
    method: 'POST',
    route: '/api/properties/:id/rooms/:room_id/housekeeping/',
    prepare: async (w) => ({
      url: `/api/properties/${w.propertyA}/rooms/${(await freshRoomA(w)).id}/housekeeping/`,
      body: { housekeeping_status: 'inspected' },
    }),
    // Housekeeping is front-desk work: staff may.
    expect: readOfA(),
  },
  {
    method: 'GET',
    route: '/api/properties/:id/rooms/:room_id/out-of-order/',
    prepare: async (w) => ({
      url: `/api/properties/${w.propertyA}/rooms/${(await freshRoomA(w)).id}/out-of-order/`,
    }),
    expect: readOfA(),
  },
  {
    method: 'POST',
    route: '/api/properties/:id/rooms/:room_id/out-of-order/',
    prepare: async (w) => ({
      url: `/api/properties/${w.propertyA}/rooms/${(await freshRoomA(w)).id}/out-of-order/`,
      body: { start_date: night(10), end_date: night(12) },
    }),
    // Out of order changes what can be sold: administrators only.
    expect: adminWriteOfA(201),
  },
  {
    method: 'POST',
    route: '/api/properties/:id/rooms/:room_id/out-of-order/:block_id/return/',
    prepare: async (w) => {
      const room = await freshRoomA(w);
      const base = `/api/properties/${w.propertyA}/rooms/${room.id}/out-of-order/`;
      const block = await setup('POST', base, { start_date: night(10), end_date: night(12) });
      return { url: `${base}${block.id}/return/`, body: { from_date: night(11) } };
    },
    expect: adminWriteOfA(200),
  },
  {
    method: 'POST',
    route: '/api/inventory/check/',
    prepare: async (w) => ({
      url: '/api/inventory/check/',
      body: { room_type_id: w.roomTypeA, check_in: night(1), check_out: night(3) },
    }),
    expect: readOfA(),
  },
  {
    method: 'GET',
    route: '/api/inventory/calendar/',
    prepare: async (w) => ({
      url: `/api/inventory/calendar/?property_id=${w.propertyA}&start=${night(0)}&end=${night(6)}`,
    }),
    expect: readOfA(),
  },
  {
    method: 'POST',
    route: '/api/inventory/preload/',
    prepare: async (w) => ({
      url: '/api/inventory/preload/',
      body: { room_type_id: w.roomTypeA, start_date: night(0), end_date: night(1) },
    }),
    expect: adminWriteOfA(200),
  },
  {
    method: 'POST',
    route: '/api/inventory/adjust/',
    prepare: async (w) => ({
      url: '/api/inventory/adjust/',
      body: { room_type_id: w.roomTypeA, start_date: night(300), end_date: night(300), stop_sell: false },
    }),
    expect: adminWriteOfA(200),
  },
  {
    method: 'POST',
    route: '/api/inventory/holds/',
    prepare: async (w) => ({
      url: '/api/inventory/holds/',
      body: { room_type_id: w.roomTypeA, check_in: night(10), check_out: night(11), units: 1 },
    }),
    // Holding rooms is part of selling them: staff may.
    expect: readOfA(201),
  },
  {
    method: 'GET',
    route: '/api/inventory/holds/:id/',
    prepare: async (w) => ({ url: `/api/inventory/holds/${(await hold(w)).id}/` }),
    expect: readOfA(),
  },
  {
    method: 'DELETE',
    route: '/api/inventory/holds/:id/',
    prepare: async (w) => ({ url: `/api/inventory/holds/${(await hold(w)).id}/` }),
    expect: readOfA(),
  },
  {
    method: 'GET',
    route: '/api/rates/plans/',
    prepare: async (w) => ({ url: '/api/rates/plans/?limit=500', listedId: (await ratePlan(w)).id }),
    expect: everyone(200),
  },
  {
    method: 'POST',
    route: '/api/rates/plans/',
    prepare: async (w) => ({
      url: '/api/rates/plans/',
      body: { property_id: w.propertyA, code: unique('RP'), name: 'Matrix' },
    }),
    expect: adminWriteOfA(201),
  },
  {
    method: 'GET',
    route: '/api/rates/plans/:id/',
    prepare: async (w) => ({ url: `/api/rates/plans/${(await ratePlan(w)).id}/` }),
    expect: readOfA(),
  },
  {
    method: 'PATCH',
    route: '/api/rates/plans/:id/',
    prepare: async (w) => ({ url: `/api/rates/plans/${(await ratePlan(w)).id}/`, body: { name: 'Renamed' } }),
    expect: adminWriteOfA(200),
  },
  {
    method: 'DELETE',
    route: '/api/rates/plans/:id/',
    prepare: async (w) => ({ url: `/api/rates/plans/${(await ratePlan(w)).id}/` }),
    expect: adminWriteOfA(204),
  },
  {
    method: 'PUT',
    route: '/api/rates/daily/',
    prepare: async (w) => ({
      url: '/api/rates/daily/',
      body: {
        rate_plan_id: (await ratePlan(w)).id,
        room_type_id: w.roomTypeA,
        start_date: night(0),
        end_date: night(6),
        amount: '120.00',
      },
    }),
    expect: adminWriteOfA(200),
  },
  {
    method: 'GET',
    route: '/api/rates/grid/',
    prepare: async (w) => ({
      // One room type: every case adds rate plans (and some room types) to A, and a grid has at most 50,000 cells.
      url: `/api/rates/grid/?property_id=${w.propertyA}&room_type_id=${w.roomTypeA}&start=${night(0)}&end=${night(6)}`,
    }),
    expect: readOfA(),
  },
  {
    method: 'GET',
    route: '/api/rates/quote/',
    prepare: async (w) => ({
      url: `/api/rates/quote/?rate_plan_id=${(await ratePlan(w)).id}&room_type_id=${w.roomTypeA}&check_in=${night(1)}&check_out=${night(3)}`,
    }),
    expect: readOfA(),
  },
  {
    method: 'POST',
    route: '/api/reservations/create/',
    prepare: async (w) => ({ url: '/api/reservations/create/', body: reservationBody(w) }),
    expect: readOfA(201),
  },
  {
    method: 'GET',
    route: '/api/reservations/',
    prepare: async (w) => ({ url: '/api/reservations/?limit=500', listedId: (await reservation(w)).id }),
    expect: everyone(200),
  },
  {
    method: 'GET',
    route: '/api/reservations/by-code/:code/',
    prepare: async (w) => ({
      url: `/api/reservations/by-code/${(await reservation(w)).confirmation_code}/`,
    }),
    expect: readOfA(),
  },
  {
    method: 'GET',
    route: '/api/reservations/:id/',
    prepare: async (w) => ({ url: `/api/reservations/${(await reservation(w)).id}/` }),
    expect: readOfA(),
  },
  // The front desk (STAFF) runs a reservation's whole lifecycle at its own properties.
  ...(
    [
      ['cancel', []],
      ['confirm', [], 'tentative'],
      ['check-in', []],
      ['check-out', ['check-in']],
    ] as Array<[string, string[], string?]>
  ).map(
    ([action, before, status]): Case => ({
      method: 'POST',
      route: `/api/reservations/:id/${action}/`,
      prepare: async (w) => ({
        url: `/api/reservations/${(await reservation(w, { status, steps: before })).id}/${action}/`,
      }),
      expect: readOfA(),
    }),
  ),
  {
    method: 'POST',
    route: '/api/reservations/:id/no-show/',
    prepare: async (w) => ({ url: `/api/reservations/${(await pastArrival(w)).id}/no-show/` }),
    expect: readOfA(),
  },
  {
    method: 'POST',
    route: '/api/properties/:id/night-audit/',
    prepare: async (w) => ({ url: `/api/properties/${await w.freshPropertyA()}/night-audit/` }),
    // Closing the hotel's day is an administrator's act; the worker runs it on its own anyway.
    expect: adminWriteOfA(200),
  },
  {
    method: 'POST',
    route: '/api/reservations/:id/modify/',
    prepare: async (w) => ({
      url: `/api/reservations/${(await reservation(w)).id}/modify/`,
      body: { check_out: night(4) },
    }),
    expect: readOfA(),
  },
  {
    method: 'POST',
    route: '/api/reservations/:id/assign-room/',
    prepare: async (w) => {
      const room = await createRoom(t.db, w.propertyA, w.roomTypeA);
      return {
        url: `/api/reservations/${(await reservation(w)).id}/assign-room/`,
        body: { room_id: room.id },
      };
    },
    expect: readOfA(),
  },
  {
    method: 'POST',
    route: '/api/reservations/:id/departure/',
    prepare: async (w) => {
      const stay = await reservation(w);
      await setup('POST', `/api/reservations/${stay.id}/check-in/`, { assign: 'none' });
      return { url: `/api/reservations/${stay.id}/departure/`, body: { check_out: night(4) } };
    },
    // Extending or shortening an in-house stay is front-desk work.
    expect: readOfA(),
  },
  {
    method: 'PATCH',
    route: '/api/reservations/:id/',
    prepare: async (w) => ({
      url: `/api/reservations/${(await reservation(w)).id}/`,
      body: { guest: { email: 'matrix@example.test' }, notes: 'matrix' },
    }),
    expect: readOfA(),
  },
  {
    method: 'GET',
    route: '/api/guests/',
    prepare: async (w) => ({ url: '/api/guests/?limit=500', listedId: await guestOfA(w) }),
    // Everyone sees the guests of its own properties; B's users do not see A's guest.
    expect: everyone(200),
  },
  {
    method: 'GET',
    route: '/api/guests/:id/',
    prepare: async (w) => ({ url: `/api/guests/${await guestOfA(w)}/` }),
    expect: readOfA(),
  },
  {
    method: 'PATCH',
    route: '/api/guests/:id/',
    prepare: async (w) => ({
      url: `/api/guests/${await guestOfA(w)}/`,
      // A phone of its own: the guest is found by it afterwards, and two guests cannot share one.
      body: { phone: `+1 555 ${String(Math.random()).slice(2, 9)}` },
    }),
    expect: adminWriteOfA(200),
  },
  {
    method: 'POST',
    route: '/api/guests/:id/merge/',
    prepare: async (w) => ({
      url: `/api/guests/${await guestOfA(w)}/merge/`,
      body: { duplicate_id: await guestOfA(w) },
    }),
    expect: adminWriteOfA(200),
  },
  {
    method: 'POST',
    route: '/api/guests/:id/erase/',
    prepare: async (w) => ({ url: `/api/guests/${await guestOfA(w)}/erase/` }),
    expect: adminWriteOfA(200),
  },
  {
    method: 'GET',
    route: '/api/audit/',
    prepare: async (w) => {
      const plan = await ratePlan(w);
      const entry = await t.db
        .selectFrom('audit_log')
        .select('id')
        .where('entity_id', '=', plan.id)
        .executeTakeFirstOrThrow();
      return { url: `/api/audit/?entity_id=${plan.id}`, listedId: String(entry.id) };
    },
    // The audit log is for administrators; B's administrator sees only B's entries.
    expect: { anonymous: 401, superAdmin: 200, adminA: 200, staffA: 403, adminB: 200, staffB: 403 },
  },
  {
    method: 'GET',
    route: '/api/events/',
    prepare: async (w) => {
      // A type nothing else in this file writes, so the marker is on the first page.
      const event = await commitEvent(t.db, 'pms.webhook.disabled', w.propertyA, { marker: true });
      return { url: '/api/events/?types=pms.webhook.disabled&limit=1000', listedId: event.id };
    },
    expect: everyone(200),
  },
  {
    method: 'POST',
    route: '/api/webhooks/',
    prepare: async (w) => ({
      url: '/api/webhooks/',
      body: { property_id: w.propertyA, url: w.hookUrl, event_types: ['pms.reservation.created'] },
    }),
    expect: adminWriteOfA(201),
  },
  {
    method: 'GET',
    route: '/api/webhooks/',
    prepare: async (w) => ({ url: '/api/webhooks/?limit=500', listedId: (await webhook(w)).id }),
    // Subscriptions are integration settings: administrators only, each seeing its own properties'.
    expect: { anonymous: 401, superAdmin: 200, adminA: 200, staffA: 403, adminB: 200, staffB: 403 },
  },
  {
    method: 'GET',
    route: '/api/webhooks/:id/',
    prepare: async (w) => ({ url: `/api/webhooks/${(await webhook(w)).id}/` }),
    expect: adminWriteOfA(200),
  },
  {
    method: 'PATCH',
    route: '/api/webhooks/:id/',
    prepare: async (w) => ({ url: `/api/webhooks/${(await webhook(w)).id}/`, body: { description: 'x' } }),
    expect: adminWriteOfA(200),
  },
  {
    method: 'DELETE',
    route: '/api/webhooks/:id/',
    prepare: async (w) => ({ url: `/api/webhooks/${(await webhook(w)).id}/` }),
    expect: adminWriteOfA(204),
  },
  {
    method: 'POST',
    route: '/api/webhooks/:id/rotate-secret/',
    prepare: async (w) => ({ url: `/api/webhooks/${(await webhook(w)).id}/rotate-secret/` }),
    expect: adminWriteOfA(200),
  },
  {
    method: 'GET',
    route: '/api/webhooks/:id/deliveries/',
    prepare: async (w) => ({ url: `/api/webhooks/${(await webhook(w)).id}/deliveries/` }),
    expect: adminWriteOfA(200),
  },
  {
    method: 'POST',
    route: '/api/webhooks/:id/deliveries/:delivery_id/redeliver/',
    prepare: async (w) => {
      const { id, deliveryId } = await webhookWithDelivery(w);
      return { url: `/api/webhooks/${id}/deliveries/${deliveryId}/redeliver/` };
    },
    expect: adminWriteOfA(201),
  },
  {
    method: 'GET',
    route: '/api/integrations/pms/configs/schema/',
    prepare: async () => ({ url: '/api/integrations/pms/configs/schema/' }),
    // The config format is public: third parties write configs against it.
    expect: everyone(200, 200),
  },
  {
    method: 'GET',
    route: '/api/integrations/pms/configs/',
    prepare: async () => ({ url: '/api/integrations/pms/configs/' }),
    expect: administrators(),
  },
  {
    method: 'GET',
    route: '/api/integrations/pms/configs/:pms_type/:version/',
    prepare: async () => ({ url: '/api/integrations/pms/configs/acme/2.1/' }),
    expect: administrators(),
  },
  {
    method: 'POST',
    route: '/api/integrations/pms/configs/',
    prepare: async () => ({
      url: '/api/integrations/pms/configs/',
      body: acmeConfig(unique('matrix').toLowerCase()),
    }),
    // Configs are shared by every hotel on that PMS: only a SUPER_ADMIN uploads them.
    expect: { anonymous: 401, superAdmin: 201, adminA: 403, staffA: 403, adminB: 403, staffB: 403 },
  },
  {
    method: 'POST',
    route: '/api/integrations/pms/configs/preview/',
    prepare: async (w) => ({
      url: '/api/integrations/pms/configs/preview/',
      body: { config: acmeConfig('acme'), records: [{ id: 1 }], property_id: w.propertyA },
    }),
    expect: { anonymous: 401, superAdmin: 200, adminA: 200, staffA: 403, adminB: 404, staffB: 403 },
  },
  {
    method: 'GET',
    route: '/api/integrations/pms/connections/',
    prepare: async (w) => ({
      url: '/api/integrations/pms/connections/?limit=500',
      listedId: w.pms.connectionId,
    }),
    expect: administrators(),
  },
  {
    method: 'GET',
    route: '/api/integrations/pms/connections/:property_id/',
    prepare: async (w) => ({ url: `/api/integrations/pms/connections/${w.propertyA}/` }),
    expect: adminWriteOfA(200),
  },
  {
    method: 'PUT',
    route: '/api/integrations/pms/connections/:property_id/',
    prepare: async (w) => ({
      url: `/api/integrations/pms/connections/${await w.freshPropertyA()}/`,
      body: connectionBody(w, unique('H')),
    }),
    expect: adminWriteOfA(201),
  },
  {
    method: 'POST',
    route: '/api/integrations/pms/sync/',
    prepare: async (w) => ({ url: '/api/integrations/pms/sync/', body: { property_id: w.propertyA } }),
    expect: adminWriteOfA(202),
  },
  {
    method: 'GET',
    route: '/api/integrations/pms/sync-runs/',
    prepare: async (w) => ({ url: '/api/integrations/pms/sync-runs/?limit=500', listedId: w.pms.runId }),
    expect: administrators(),
  },
  {
    method: 'GET',
    route: '/api/integrations/pms/sync-runs/:id/',
    prepare: async (w) => ({ url: `/api/integrations/pms/sync-runs/${w.pms.runId}/` }),
    expect: { anonymous: 401, superAdmin: 200, adminA: 200, staffA: 403, adminB: 404, staffB: 403 },
  },
  {
    method: 'GET',
    route: '/api/integrations/pms/errors/',
    prepare: async (w) => ({ url: '/api/integrations/pms/errors/?limit=500', listedId: w.pms.errorId }),
    expect: administrators(),
  },
  {
    method: 'POST',
    route: '/api/integrations/pms/errors/replay/',
    prepare: async (w) => {
      await quarantinedRecord(w);
      return { url: '/api/integrations/pms/errors/replay/', body: { property_id: w.propertyA } };
    },
    expect: adminWriteOfA(202),
  },
  {
    method: 'GET',
    route: '/api/integrations/pms/bookings/',
    prepare: async (w) => ({ url: '/api/integrations/pms/bookings/?limit=500', listedId: w.pms.bookingId }),
    // Ingested bookings are the hotel's reservations: its staff read them too.
    expect: everyone(200),
  },
  {
    method: 'PATCH',
    route: '/api/integrations/pms/connections/:property_id/value-maps/',
    prepare: async (w) => ({
      url: `/api/integrations/pms/connections/${w.propertyA}/value-maps/`,
      body: { room_types: { [unique('cat')]: 'STD' } },
    }),
    expect: adminWriteOfA(200),
  },
  {
    method: 'GET',
    route: '/api/integrations/pms/vanished/',
    prepare: async () => ({ url: '/api/integrations/pms/vanished/?limit=500' }),
    expect: administrators(),
  },
];

/** Routes whose target is not one property's data (logins, lists, creating a property or a user). */
const NOT_ABOUT_ONE_PROPERTY = new Set([
  'POST /api/auth/token/',
  'POST /api/auth/token/refresh/',
  'POST /api/auth/token/revoke/',
  'GET /api/auth/me/',
  'GET /api/auth/users/',
  'POST /api/auth/users/',
  'GET /api/auth/api-keys/',
  'POST /api/auth/api-keys/',
  'GET /api/properties/',
  'POST /api/properties/',
  'GET /api/rates/plans/',
  'GET /api/reservations/',
  'GET /api/guests/',
  'GET /api/audit/',
  'GET /api/events/',
  'GET /api/webhooks/',
  'GET /api/integrations/pms/configs/schema/',
  'GET /api/integrations/pms/configs/',
  'GET /api/integrations/pms/configs/:pms_type/:version/',
  'POST /api/integrations/pms/configs/',
  'GET /api/integrations/pms/connections/',
  'GET /api/integrations/pms/sync-runs/',
  'GET /api/integrations/pms/errors/',
  'GET /api/integrations/pms/bookings/',
  'GET /api/integrations/pms/vanished/',
]);

let world: World;
let hooks: Awaited<ReturnType<typeof startHookServer>> | undefined;
let simulator: Simulator | undefined;

beforeAll(async () => {
  t = await createTestContext({ env: LOOPBACK_EGRESS });
  const propertyA = (await createProperty(t.db, { name: 'Property A' })).id;
  const propertyB = (await createProperty(t.db, { name: 'Property B' })).id;
  const superAdmin = await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' });
  const adminA = await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [propertyA] });
  const staffA = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [propertyA] });
  const adminB = await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [propertyB] });
  const staffB = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [propertyB] });
  superToken = superAdmin.token;
  const roomTypeA = (await createRoomType(t.db, propertyA, { totalUnits: 1000 })).id;
  await setup('POST', '/api/inventory/preload/', {
    room_type_id: roomTypeA,
    start_date: night(0),
    end_date: night(364),
  });
  // Rooms booked without a rate plan are priced on A's default plan; A trades on night(1), the
  // arrival of the matrix's reservations, so they can be checked in.
  await createDefaultRatePlan(t.db, propertyA, { start: night(0), end: night(364) });
  await setBusinessDate(propertyA, night(1));
  hooks = await startHookServer();
  simulator = await startSimulator({ dialects: ['acme'], bookings: 8, badRatio: 0.3, seed: 'matrix' });
  world = {
    roomTypeA,
    hookUrl: hooks.url,
    pms: { url: simulator.url, connectionId: '', runId: '', bookingId: '', errorId: '' },
    tokens: {
      superAdmin: superAdmin.token,
      adminA: adminA.token,
      staffA: staffA.token,
      adminB: adminB.token,
      staffB: staffB.token,
    },
    propertyA,
    propertyB,
    async freshPropertyA() {
      const property = await createProperty(t.db);
      // A grant made in SQL reaches each process's user cache by NOTIFY when it commits.
      const evicted = Promise.all([adminA.id, staffA.id].map((id) => t.app.authCache.invalidated(id)));
      await t.db
        .insertInto('user_property')
        .values([adminA.id, staffA.id].map((user_id) => ({ user_id, property_id: property.id })))
        .execute();
      await evicted;
      return property.id;
    },
  };
  const connected = await setup(
    'PUT',
    `/api/integrations/pms/connections/${propertyA}/`,
    connectionBody(world, 'MATRIX'),
  );
  const run = await setup('POST', '/api/integrations/pms/sync/', { property_id: propertyA, wait: true });
  const booking = await t.db
    .selectFrom('reservation')
    .select('id')
    .where('property_id', '=', propertyA)
    .where('source', '=', 'pms:acme')
    .executeTakeFirstOrThrow();
  world.pms = { ...world.pms, connectionId: connected.id, runId: run.id, bookingId: booking.id };
  world.pms.errorId = await quarantinedRecord(world);
});
afterAll(async () => {
  await hooks?.close();
  await t.close();
  await simulator?.close();
});

describe('role matrix', () => {
  for (const testCase of CASES) {
    describe(`${testCase.method} ${testCase.route}`, () => {
      for (const role of ROLES) {
        const expected = testCase.expect[role];
        it(`${role} → ${expected}`, async () => {
          const prepared = await testCase.prepare(world);
          const res = await call(t.app, testCase.method, prepared.url, {
            token: role === 'anonymous' ? undefined : world.tokens[role],
            body: prepared.body,
          });
          expect(res.status, JSON.stringify(res.body)).toBe(expected);
          if (expected >= 400) {
            expect(res.headers['content-type']).toContain('application/problem+json');
            expect(res.body.code).toBe(
              { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' }[expected as 401 | 403 | 404],
            );
          }
          if (prepared.listedId !== undefined && expected === 200) {
            const ids = (res.body.results as Array<{ id: string }>).map((item) => item.id);
            // Lists never 404: a user of property B simply does not see A's data in them.
            const mayReadA = readOfA()[role] === 200;
            expect(ids.includes(prepared.listedId), `${role} sees A's item`).toBe(mayReadA);
          }
        });
      }
    });
  }

  it('a user of property B gets 404, not 403, for anything of property A, admin-only actions included', () => {
    for (const testCase of CASES) {
      const key = `${testCase.method} ${testCase.route}`;
      if (NOT_ABOUT_ONE_PROPERTY.has(key)) continue;
      expect(testCase.expect.adminB, key).toBe(404);
      // Where STAFF may not act at all, the role is checked first: a 403 that says nothing about A.
      if (testCase.expect.staffA === 403) expect([403, 404], key).toContain(testCase.expect.staffB);
      else expect(testCase.expect.staffB, key).toBe(404);
    }
  });

  it('covers every route under /api/ (a new route must be added to the matrix)', () => {
    const routes = listRoutes(t.app).filter((r) => r.url.startsWith('/api/'));
    const covered = new Set(CASES.map((c) => `${c.method} ${c.route}`));
    const missing = routes.map((r) => `${r.method} ${r.url}`).filter((key) => !covered.has(key));
    expect(missing, 'routes missing from the role matrix').toEqual([]);
    const served = new Set(routes.map((r) => `${r.method} ${r.url}`));
    const stale = [...covered].filter((key) => !served.has(key));
    expect(stale, 'matrix cases for routes the app does not serve').toEqual([]);
  });
});

/**
 * The same routes with partners' API keys instead of users' tokens: a key of property A for each
 * scope, a key of property B with every scope, and a SUPER_ADMIN's key for every property with every
 * scope. A key reaches only the routes its scopes name (docs/api.md, "Partner credentials"); every
 * other route answers it 403 INSUFFICIENT_SCOPE, and property A's data is 404 to B's key. A route
 * without an expectation here fails the "every route" test below.
 */
type KeyRole = 'searchA' | 'bookA' | 'readA' | 'eventsA' | 'everyScopeB' | 'everywhere';
const KEY_ROLES: KeyRole[] = ['searchA', 'bookA', 'readA', 'eventsA', 'everyScopeB', 'everywhere'];
type KeyScope = 'search' | 'book' | 'reservations:read' | 'events';
const SCOPE_OF: Record<Exclude<KeyRole, 'everyScopeB' | 'everywhere'>, KeyScope> = {
  searchA: 'search',
  bookA: 'book',
  readA: 'reservations:read',
  eventsA: 'events',
};

interface KeyExpectation {
  status: Record<KeyRole, number>;
  /** A write: each success leaves an audit row naming the key that made it. */
  audited?: boolean;
}

/** Routes keys never reach: user management, configuration, the front desk's operations… */
const userOnly = (): KeyExpectation => ({
  status: { searchA: 403, bookA: 403, readA: 403, eventsA: 403, everyScopeB: 403, everywhere: 403 },
});
/** Routes open to anyone: a key in the header changes nothing. */
const keyIgnored = (ok: number): KeyExpectation => ({
  status: { searchA: ok, bookA: ok, readA: ok, eventsA: ok, everyScopeB: ok, everywhere: ok },
});
/** Property A's data under `scope`: A's key with it and the key for every property; 404 to B's. */
const keyOfA = (scope: KeyScope, ok = 200, audited = false): KeyExpectation => ({
  status: {
    ...(Object.fromEntries(
      Object.entries(SCOPE_OF).map(([role, has]) => [role, has === scope ? ok : 403]),
    ) as Record<keyof typeof SCOPE_OF, number>),
    everyScopeB: 404,
    everywhere: ok,
  },
  audited,
});
/** A list under `scope`: 200 to every key with it, showing A's item only to A's and the global key. */
const keyList = (scope: KeyScope): KeyExpectation => ({
  status: { ...keyOfA(scope).status, everyScopeB: 200 },
});

const KEY_EXPECT: Record<string, KeyExpectation> = {
  'POST /api/auth/token/': keyIgnored(200),
  'POST /api/auth/token/refresh/': keyIgnored(200),
  'POST /api/auth/token/revoke/': keyIgnored(204),
  'GET /api/integrations/pms/configs/schema/': keyIgnored(200),
  'GET /api/properties/': keyList('search'),
  'GET /api/properties/:id/': keyOfA('search'),
  'GET /api/properties/:id/room-types/': keyOfA('search'),
  'GET /api/properties/:id/room-types/:room_type_id/': keyOfA('search'),
  'GET /api/rates/plans/': keyList('search'),
  'GET /api/rates/plans/:id/': keyOfA('search'),
  'GET /api/rates/grid/': keyOfA('search'),
  'GET /api/rates/quote/': keyOfA('search'),
  'POST /api/inventory/check/': keyOfA('search'),
  'GET /api/inventory/calendar/': keyOfA('search'),
  'POST /api/inventory/holds/': keyOfA('book', 201, true),
  'GET /api/inventory/holds/:id/': keyOfA('book'),
  'DELETE /api/inventory/holds/:id/': keyOfA('book', 200, true),
  'POST /api/reservations/create/': keyOfA('book', 201, true),
  'POST /api/reservations/:id/confirm/': keyOfA('book', 200, true),
  'POST /api/reservations/:id/modify/': keyOfA('book', 200, true),
  'PATCH /api/reservations/:id/': keyOfA('book', 200, true),
  'POST /api/reservations/:id/cancel/': keyOfA('book', 200, true),
  'GET /api/reservations/': keyList('reservations:read'),
  'GET /api/reservations/:id/': keyOfA('reservations:read'),
  'GET /api/reservations/by-code/:code/': keyOfA('reservations:read'),
  'GET /api/events/': keyList('events'),
  ...Object.fromEntries(
    [
      'GET /api/auth/me/',
      'GET /api/auth/users/',
      'POST /api/auth/users/',
      'GET /api/auth/users/:id/',
      'PATCH /api/auth/users/:id/',
      'DELETE /api/auth/users/:id/',
      'GET /api/auth/api-keys/',
      'POST /api/auth/api-keys/',
      'GET /api/auth/api-keys/:id/',
      'PATCH /api/auth/api-keys/:id/',
      'POST /api/auth/api-keys/:id/rotate/',
      'POST /api/auth/api-keys/:id/revoke/',
      'GET /api/auth/api-keys/:id/usage/',
      'GET /api/audit/',
      'POST /api/properties/',
      'PATCH /api/properties/:id/',
      'DELETE /api/properties/:id/',
      'POST /api/properties/:id/night-audit/',
      'POST /api/properties/:id/room-types/',
      'PATCH /api/properties/:id/room-types/:room_type_id/',
      'DELETE /api/properties/:id/room-types/:room_type_id/',
      'GET /api/properties/:id/rooms/',
      'POST /api/properties/:id/rooms/',
      'GET /api/properties/:id/rooms/:room_id/',
      'PATCH /api/properties/:id/rooms/:room_id/',
      'DELETE /api/properties/:id/rooms/:room_id/',
      'POST /api/properties/:id/rooms/:room_id/housekeeping/',
      'GET /api/properties/:id/rooms/:room_id/out-of-order/',
      'POST /api/properties/:id/rooms/:room_id/out-of-order/',
      'POST /api/properties/:id/rooms/:room_id/out-of-order/:block_id/return/',
      'POST /api/inventory/preload/',
      'POST /api/inventory/adjust/',
      'POST /api/rates/plans/',
      'PATCH /api/rates/plans/:id/',
      'DELETE /api/rates/plans/:id/',
      'PUT /api/rates/daily/',
      'POST /api/reservations/:id/check-in/',
      'POST /api/reservations/:id/check-out/',
      'POST /api/reservations/:id/no-show/',
      'POST /api/reservations/:id/assign-room/',
      'POST /api/reservations/:id/departure/',
      'POST /api/webhooks/',
      'GET /api/webhooks/',
      'GET /api/webhooks/:id/',
      'PATCH /api/webhooks/:id/',
      'DELETE /api/webhooks/:id/',
      'POST /api/webhooks/:id/rotate-secret/',
      'GET /api/webhooks/:id/deliveries/',
      'POST /api/webhooks/:id/deliveries/:delivery_id/redeliver/',
      'GET /api/integrations/pms/configs/',
      'GET /api/integrations/pms/configs/:pms_type/:version/',
      'POST /api/integrations/pms/configs/',
      'POST /api/integrations/pms/configs/preview/',
      'GET /api/integrations/pms/connections/',
      'GET /api/integrations/pms/connections/:property_id/',
      'PUT /api/integrations/pms/connections/:property_id/',
      'POST /api/integrations/pms/sync/',
      'GET /api/integrations/pms/sync-runs/',
      'GET /api/integrations/pms/sync-runs/:id/',
      'GET /api/integrations/pms/errors/',
      'POST /api/integrations/pms/errors/replay/',
      'GET /api/integrations/pms/bookings/',
      'PATCH /api/integrations/pms/connections/:property_id/value-maps/',
      'GET /api/integrations/pms/vanished/',
      // Guest profiles are personal data: the hotel's own users only.
      'GET /api/guests/',
      'GET /api/guests/:id/',
      'PATCH /api/guests/:id/',
      'POST /api/guests/:id/merge/',
      'POST /api/guests/:id/erase/',
    ].map((route) => [route, userOnly()]),
  ),
};

let keySecrets: Record<KeyRole, string>;

beforeAll(async () => {
  // Check-ins pick a clean, vacant room of A's room type, and check-outs leave it dirty: the key runs
  // prepare those cases again, so the room type gets rooms enough for them.
  for (let i = 0; i < 16; i++) await createRoom(t.db, world.propertyA, world.roomTypeA);
  const issue = async (body: { scopes: KeyScope[]; property_ids?: string[]; all_properties?: boolean }) =>
    (await issueApiKey(t.app, superToken, { ...body, rate_limit_per_minute: 100_000 })).secret;
  const everyScope: KeyScope[] = ['search', 'book', 'reservations:read', 'events'];
  keySecrets = {
    searchA: await issue({ scopes: ['search'], property_ids: [world.propertyA] }),
    bookA: await issue({ scopes: ['book'], property_ids: [world.propertyA] }),
    readA: await issue({ scopes: ['reservations:read'], property_ids: [world.propertyA] }),
    eventsA: await issue({ scopes: ['events'], property_ids: [world.propertyA] }),
    everyScopeB: await issue({ scopes: everyScope, property_ids: [world.propertyB] }),
    everywhere: await issue({ scopes: everyScope, all_properties: true }),
  };
});

describe('role matrix for API keys', () => {
  for (const testCase of CASES) {
    const key = `${testCase.method} ${testCase.route}`;
    const expectation = KEY_EXPECT[key];
    if (!expectation) continue;
    describe(key, () => {
      for (const role of KEY_ROLES) {
        const expected = expectation.status[role];
        it(`${role} key → ${expected}`, async () => {
          const prepared = await testCase.prepare(world);
          const requestId = `matrix-${crypto.randomUUID()}`;
          const res = await call(t.app, testCase.method, prepared.url, {
            token: keySecrets[role],
            body: prepared.body,
            headers: { 'x-request-id': requestId },
          });
          expect(res.status, JSON.stringify(res.body)).toBe(expected);
          if (expected >= 400) {
            expect(res.headers['content-type']).toContain('application/problem+json');
            expect(res.body.code).toBe(
              { 403: 'INSUFFICIENT_SCOPE', 404: 'NOT_FOUND' }[expected as 403 | 404],
            );
          }
          if (prepared.listedId !== undefined && expected === 200 && expectation.status.everyScopeB === 200) {
            const ids = (res.body.results as Array<{ id: string }>).map((item) => item.id);
            expect(ids.includes(prepared.listedId), `${role} sees A's item`).toBe(role !== 'everyScopeB');
          }
          if (expectation.audited && expected < 300) {
            const rows = await t.db
              .selectFrom('audit_log')
              .select(['actor_role', 'actor_name'])
              .where('request_id', '=', requestId)
              .execute();
            expect(rows.length, 'audit rows of the write').toBeGreaterThan(0);
            for (const row of rows) {
              expect(row.actor_role).toBe('API_KEY');
              expect(row.actor_name).toMatch(/^partner-/);
            }
          }
        });
      }
    });
  }

  it("property B's key gets 404 for anything of property A, and 403 where no key may act", () => {
    for (const [key, expectation] of Object.entries(KEY_EXPECT)) {
      const { everyScopeB, everywhere } = expectation.status;
      if (everywhere === 403) expect(everyScopeB, key).toBe(403);
      else if (NOT_ABOUT_ONE_PROPERTY.has(key)) expect(everyScopeB, key).toBe(everywhere);
      else expect(everyScopeB, key).toBe(404);
    }
  });

  it('says what keys get on every route under /api/ (a new route must be added here too)', () => {
    const routes = listRoutes(t.app).filter((r) => r.url.startsWith('/api/'));
    const missing = routes.map((r) => `${r.method} ${r.url}`).filter((key) => !(key in KEY_EXPECT));
    expect(missing, 'routes without an expectation for API keys').toEqual([]);
    const served = new Set(routes.map((r) => `${r.method} ${r.url}`));
    expect(Object.keys(KEY_EXPECT).filter((key) => !served.has(key))).toEqual([]);
  });
});

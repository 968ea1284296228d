import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/modules/integrations/simulator/server.ts';
import { call, createTestContext, type TestContext } from './helpers/context.ts';
import { commitEvent, startHookServer } from './helpers/events.ts';
import {
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

/** A fresh reservation of property A, taken through `steps` (lifecycle actions) first. */
async function reservation(
  w: World,
  options: { status?: string; steps?: string[] } = {},
): Promise<{ id: string; confirmation_code: string }> {
  const created = await setup('POST', '/api/reservations/create/', reservationBody(w, options.status));
  for (const step of options.steps ?? []) await setup('POST', `/api/reservations/${created.id}/${step}/`);
  return created;
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
      url: `/api/rates/grid/?property_id=${w.propertyA}&start=${night(0)}&end=${night(6)}`,
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
      ['no-show', []],
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
];

/** Routes whose target is not one property's data (logins, lists, creating a property or a user). */
const NOT_ABOUT_ONE_PROPERTY = new Set([
  'POST /api/auth/token/',
  'POST /api/auth/token/refresh/',
  'GET /api/auth/me/',
  'GET /api/auth/users/',
  'POST /api/auth/users/',
  'GET /api/properties/',
  'POST /api/properties/',
  'GET /api/rates/plans/',
  'GET /api/reservations/',
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
]);

let world: World;
let hooks: Awaited<ReturnType<typeof startHookServer>> | undefined;
let simulator: Simulator | undefined;

beforeAll(async () => {
  t = await createTestContext();
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

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/app.ts';
import { createDb, type Db } from '../../src/db/database.ts';
import { nightsOf } from '../../src/modules/inventory/inventory.dates.ts';
import { call, createTestContext, type TestContext } from '../helpers/context.ts';
import { createRoomType, userWithToken } from '../helpers/factories.ts';
import { inventoryProblems } from './invariants.ts';
import {
  type BookingWorld,
  bookingWorld,
  calendarNight,
  priceOnDefaultPlan,
  reservationBody,
} from './world.ts';

/**
 * Races over real HTTP connections: two app instances (as two API nodes would be) listen on ports
 * of one database, and 64 fetch clients, spread over both, send at once. Within one instance,
 * bookings of a property are batched; across instances only the database's row locks keep them
 * apart, so these races exercise both. Every count is exact, and every refusal must be a true
 * sell-out (never a 5xx or a busy error). The two pools (30 connections each) are what two API nodes
 * would have; requests beyond them wait for a connection in-process, as they would in production.
 */
const CLIENTS = 64;

let t: TestContext;
let secondApp: FastifyInstance;
let secondDb: Db;
let urls: string[];
let tokens: string[];

function urlOf(app: FastifyInstance): string {
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

beforeAll(async () => {
  t = await createTestContext({ poolSize: 30 });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  secondDb = createDb({ connectionString: t.databaseUrl, max: 30 });
  secondApp = await buildApp({ config: t.config, db: secondDb, jwtKey: t.jwtKey });
  await secondApp.listen({ port: 0, host: '127.0.0.1' });
  urls = [urlOf(t.app), urlOf(secondApp)];
});
afterAll(async () => {
  await secondApp.close();
  await secondDb.destroy();
  await t.close();
});

/** The API node client i talks to. */
const node = (i: number) => urls[i % urls.length]!;

async function staffTokens(world: BookingWorld, count = 8): Promise<string[]> {
  const users = await Promise.all(
    Array.from({ length: count }, () =>
      userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [world.property.id] }),
    ),
  );
  return users.map((user) => user.token);
}

async function post(base: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** Fires all requests at once (each client its own request) and returns the answers in order. */
function race<T>(requests: Array<() => Promise<T>>): Promise<T[]> {
  return Promise.all(requests.map((request) => request()));
}

function tally(results: Array<{ status: number; body: any }>) {
  const created = results.filter((r) => r.status === 201);
  const unavailable = results.filter((r) => r.status === 409 && r.body.code === 'INVENTORY_UNAVAILABLE');
  const other = results.filter(
    (r) => r.status !== 201 && !(r.status === 409 && r.body.code === 'INVENTORY_UNAVAILABLE'),
  );
  return { created, unavailable, other };
}

async function prebook(world: BookingWorld, count: number, overrides: Record<string, unknown>) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await call(t.app, 'POST', '/api/reservations/create/', {
      token: world.staff.token,
      body: reservationBody(world, overrides),
    });
    expect(res.status).toBe(201);
    ids.push(res.body.id);
  }
  return ids;
}

describe('race: 64 clients over real HTTP connections', () => {
  it('book the last 20 units of the same nights: exactly 20 succeed, 44 are told INVENTORY_UNAVAILABLE', async () => {
    const world = await bookingWorld(t, { units: 30 });
    tokens = await staffTokens(world);
    const stay = { check_in: '2031-03-10', check_out: '2031-03-13' };
    await prebook(world, 10, stay);

    const results = await race(
      Array.from(
        { length: CLIENTS },
        (_, i) => () =>
          post(
            node(i),
            '/api/reservations/create/',
            tokens[i % tokens.length]!,
            reservationBody(world, stay),
          ),
      ),
    );
    const { created, unavailable, other } = tally(results);
    expect(other.map((r) => `${r.status} ${r.body.code}`)).toEqual([]);
    expect(created).toHaveLength(20);
    expect(unavailable).toHaveLength(CLIENTS - 20);
    for (const date of nightsOf(stay.check_in, stay.check_out)) {
      expect(await calendarNight(t, world, date)).toMatchObject({ booked_units: 30, available_units: 0 });
    }
    const booked = await t.db
      .selectFrom('reservation')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('property_id', '=', world.property.id)
      .executeTakeFirstOrThrow();
    expect(Number(booked.n)).toBe(30);
    expect(await inventoryProblems(t.db, world.property.id)).toEqual([]);
  });

  it('overlapping multi-night stays that all share one night: exactly 20 succeed, every refusal is a full night', async () => {
    const world = await bookingWorld(t, { units: 20 });
    tokens = await staffTokens(world);
    // Every stay covers 2031-03-15 (from 1–4 nights before to 1–4 nights after), so at most 20 fit.
    const stays = Array.from({ length: CLIENTS }, (_, i) => ({
      check_in: `2031-03-${String(15 - (i % 4)).padStart(2, '0')}`,
      check_out: `2031-03-${String(16 + ((i >> 2) % 4)).padStart(2, '0')}`,
    }));
    const results = await race(
      stays.map(
        (stay, i) => () =>
          post(
            node(i),
            '/api/reservations/create/',
            tokens[i % tokens.length]!,
            reservationBody(world, stay),
          ),
      ),
    );
    const { created, unavailable, other } = tally(results);
    expect(other.map((r) => `${r.status} ${r.body.code}`)).toEqual([]);
    expect(created).toHaveLength(20);
    expect(unavailable).toHaveLength(CLIENTS - 20);
    // Nothing was released, so a night that was full when a request was refused is still full.
    const night = new Map<string, number>();
    for (const date of nightsOf('2031-03-11', '2031-03-20')) {
      night.set(date, (await calendarNight(t, world, date)).booked_units);
    }
    expect(night.get('2031-03-15')).toBe(20);
    for (const refused of unavailable) {
      for (const blocked of refused.body.nights) expect(night.get(blocked.date)).toBe(20);
    }
    for (const [date, booked] of night) {
      const covering = created.filter((r) => r.body.check_in <= date && r.body.check_out > date).length;
      expect(booked, date).toBe(covering);
    }
    expect(await inventoryProblems(t.db, world.property.id)).toEqual([]);
  });

  it('multi-room bookings over two room types: exactly 20 of 64 get their 2 + 1 rooms', async () => {
    const world = await bookingWorld(t, { units: 40 });
    const suite = await createRoomType(t.db, world.property.id, { totalUnits: 100 });
    await call(t.app, 'POST', '/api/inventory/preload/', {
      token: world.admin.token,
      body: { room_type_id: suite.id, start_date: '2031-03-01', end_date: '2031-03-31' },
    });
    await priceOnDefaultPlan(t, world, suite.id);
    tokens = await staffTokens(world);
    const body = reservationBody(world, {
      rooms: [
        { room_type_id: world.roomType.id },
        { room_type_id: suite.id },
        { room_type_id: world.roomType.id },
      ],
    });
    const results = await race(
      Array.from(
        { length: CLIENTS },
        (_, i) => () => post(node(i), '/api/reservations/create/', tokens[i % tokens.length]!, body),
      ),
    );
    const { created, unavailable, other } = tally(results);
    expect(other.map((r) => `${r.status} ${r.body.code}`)).toEqual([]);
    expect(created).toHaveLength(20);
    expect(unavailable).toHaveLength(CLIENTS - 20);
    expect(await calendarNight(t, world, '2031-03-10')).toMatchObject({
      booked_units: 40,
      available_units: 0,
    });
    // A refused booking took nothing on the room type that still had room.
    expect(await calendarNight(t, world, '2031-03-10', suite.id)).toMatchObject({ booked_units: 20 });
    expect(await inventoryProblems(t.db, world.property.id)).toEqual([]);
  });

  it('bookings of 1–3 rooms: the units sold equal the rooms of the bookings that succeeded', async () => {
    const world = await bookingWorld(t, { units: 50 });
    tokens = await staffTokens(world);
    const sizes = Array.from({ length: CLIENTS }, (_, i) => 1 + (i % 3));
    const results = await race(
      sizes.map(
        (size, i) => () =>
          post(
            node(i),
            '/api/reservations/create/',
            tokens[i % tokens.length]!,
            reservationBody(world, {
              rooms: Array.from({ length: size }, () => ({ room_type_id: world.roomType.id })),
            }),
          ),
      ),
    );
    const { created, unavailable, other } = tally(results);
    expect(other).toEqual([]);
    const sold = created.reduce((sum, r) => sum + r.body.rooms.length, 0);
    const night = await calendarNight(t, world, '2031-03-10');
    expect(night.booked_units).toBe(sold);
    expect(sold).toBeLessThanOrEqual(50);
    // Each refusal asked for more rooms than were left at the end (nothing was released).
    for (const refused of unavailable) {
      const asked = sizes[results.indexOf(refused)]!;
      expect(asked).toBeGreaterThan(night.available_units);
    }
    expect(await inventoryProblems(t.db, world.property.id)).toEqual([]);
  });

  it('cancellations racing bookings: every cancel releases once, every booking that fits is sold', async () => {
    const world = await bookingWorld(t, { units: 20 });
    tokens = await staffTokens(world);
    const stay = { check_in: '2031-03-20', check_out: '2031-03-22' };
    const existing = await prebook(world, 20, stay);
    const requests = [
      ...existing.map(
        (id, i) => () => post(node(i), `/api/reservations/${id}/cancel/`, tokens[i % tokens.length]!),
      ),
      ...Array.from(
        { length: CLIENTS - existing.length },
        (_, i) => () =>
          post(
            node(i),
            '/api/reservations/create/',
            tokens[i % tokens.length]!,
            reservationBody(world, stay),
          ),
      ),
    ];
    // Interleave cancels and bookings so they truly overlap in time.
    const order = requests.map((_, i) => i).sort((a, b) => ((a * 37) % 64) - ((b * 37) % 64));
    const shuffled = await race(order.map((i) => requests[i]!));
    const results: Array<{ status: number; body: any }> = new Array(requests.length);
    order.forEach((original, position) => {
      results[original] = shuffled[position]!;
    });
    const cancels = results.slice(0, existing.length);
    const bookings = results.slice(existing.length);
    expect(cancels.map((r) => r.status)).toEqual(Array(existing.length).fill(200));
    const { created, other } = tally(bookings);
    expect(other.map((r) => `${r.status} ${r.body.code}`)).toEqual([]);
    expect(created.length).toBeLessThanOrEqual(20);
    for (const date of nightsOf(stay.check_in, stay.check_out)) {
      expect((await calendarNight(t, world, date)).booked_units).toBe(created.length);
    }
    // Cancelling again releases nothing more.
    const again = await race(
      existing.map(
        (id, i) => () => post(node(i), `/api/reservations/${id}/cancel/`, tokens[i % tokens.length]!),
      ),
    );
    expect(again.map((r) => r.status)).toEqual(Array(existing.length).fill(200));
    expect((await calendarNight(t, world, stay.check_in)).booked_units).toBe(created.length);
    expect(await inventoryProblems(t.db, world.property.id)).toEqual([]);
  });

  it('holds race bookings for the last units: the sum never exceeds capacity', async () => {
    const world = await bookingWorld(t, { units: 10 });
    tokens = await staffTokens(world);
    const stay = { check_in: '2031-03-05', check_out: '2031-03-07' };
    const results = await race(
      Array.from(
        { length: CLIENTS },
        (_, i) => () =>
          i % 2
            ? post(node(i), '/api/inventory/holds/', tokens[i % tokens.length]!, {
                room_type_id: world.roomType.id,
                ...stay,
                units: 1,
              })
            : post(
                node(i),
                '/api/reservations/create/',
                tokens[i % tokens.length]!,
                reservationBody(world, stay),
              ),
      ),
    );
    const { created, other } = tally(results);
    expect(other.map((r) => `${r.status} ${r.body.code}`)).toEqual([]);
    expect(created).toHaveLength(10);
    const night = await calendarNight(t, world, stay.check_in);
    expect(night.booked_units + night.held_units).toBe(10);
    expect(await inventoryProblems(t.db, world.property.id)).toEqual([]);
  });
});

import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/app.ts';
import { createDb, type Db } from '../../src/db/database.ts';
import { appendEvent } from '../../src/modules/events/outbox.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { commitEvent } from '../helpers/events.ts';
import {
  createDefaultRatePlan,
  createProperty,
  createRoomType,
  userWithToken,
} from '../helpers/factories.ts';
import { startServerProcess } from '../helpers/server-process.ts';
import { FeedClient } from '../helpers/ws-client.ts';

function wsUrl(app: FastifyInstance, path: string): string {
  return `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}${path}`;
}

describe('realtime feeds across two app instances (LISTEN/NOTIFY fan-out)', () => {
  let ctx: TestContext;
  let dbB: Db;
  let appB: FastifyInstance;
  let hotel: string;
  let otherHotel: string;
  let staffToken: string;
  const clients: FeedClient[] = [];

  const open = async (app: FastifyInstance, path: string, token?: string) => {
    const client = await FeedClient.open(wsUrl(app, path), { token });
    clients.push(client);
    return client;
  };
  const subscribed = async (app: FastifyInstance, path: string, propertyId: string) => {
    const client = await open(app, path, staffToken);
    client.send({ type: 'subscribe', property_id: propertyId });
    await client.next((f) => f.type === 'snapshot' && f.property_id === propertyId);
    return client;
  };

  beforeAll(async () => {
    ctx = await createTestContext();
    dbB = createDb({ connectionString: ctx.databaseUrl, max: 5 });
    appB = await buildApp({ config: ctx.config, db: dbB, jwtKey: ctx.jwtKey, databaseUrl: ctx.databaseUrl });
    await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    await appB.listen({ port: 0, host: '127.0.0.1' });
    hotel = (await createProperty(ctx.db)).id;
    otherHotel = (await createProperty(ctx.db)).id;
    staffToken = (await userWithToken(ctx.app, ctx.db, { role: 'STAFF', propertyIds: [hotel] })).token;
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await appB?.close();
    await dbB?.destroy();
    await ctx?.close();
  });

  it('streams an event committed through one instance to a client of the other, with seq 1', async () => {
    const client = await subscribed(appB, '/ws/reservations/', hotel);
    const started = Date.now();
    const event = await ctx.db
      .transaction()
      .execute((tx) => appendEvent(tx, 'pms.reservation.created', hotel, { reservation_id: 'r-1' }));
    const frame = await client.next((f) => f.type === 'event');
    console.info(`[realtime.test] commit → client on the other instance: ${Date.now() - started} ms`);
    expect(frame).toEqual({ type: 'event', seq: 1, event });
  });

  it('sends each feed only its own event types, in commit order, numbering frames per connection', async () => {
    const inventory = await subscribed(ctx.app, '/ws/inventory/', hotel);
    const reservations = await subscribed(appB, '/ws/reservations/', hotel);
    const [created, updated] = await ctx.db
      .transaction()
      .execute(async (tx) => [
        await appendEvent(tx, 'pms.reservation.created', hotel, { reservation_id: 'r-2' }),
        await appendEvent(tx, 'pms.inventory.updated', hotel, { nights: [] }),
      ]);
    await commitEvent(ctx.db, 'pms.rates.updated', hotel, {});
    const cancelled = await commitEvent(ctx.db, 'pms.reservation.cancelled', hotel, {
      reservation_id: 'r-2',
    });
    const overbooked = await commitEvent(ctx.db, 'pms.inventory.overbooked', hotel, { nights: [] });

    await reservations.next((f) => f.type === 'event' && f.event.id === cancelled.id);
    await inventory.next((f) => f.type === 'event' && f.event.id === overbooked.id);
    expect(reservations.events()).toEqual([
      { type: 'event', seq: 1, event: created },
      { type: 'event', seq: 2, event: cancelled },
    ]);
    expect(inventory.events()).toEqual([
      { type: 'event', seq: 1, event: updated },
      { type: 'event', seq: 2, event: overbooked },
    ]);
  });

  it('streams an event too large for a notification payload by loading it from the outbox', async () => {
    const client = await subscribed(appB, '/ws/inventory/', hotel);
    const large = await commitEvent(ctx.db, 'pms.inventory.updated', hotel, { note: 'x'.repeat(20_000) });
    const small = await commitEvent(ctx.db, 'pms.inventory.updated', hotel, { nights: [] });
    await client.next((f) => f.type === 'event' && f.event.id === small.id);
    expect(client.events()).toEqual([
      { type: 'event', seq: 1, event: large },
      { type: 'event', seq: 2, event: small },
    ]);
  });

  it('authenticates with a first {"type":"auth"} message', async () => {
    const client = await open(appB, '/ws/inventory/');
    client.send({ type: 'auth', token: staffToken });
    client.send({ type: 'subscribe', property_id: hotel });
    expect(await client.next((f) => f.type === 'ready')).toMatchObject({ type: 'ready' });
    await client.next((f) => f.type === 'snapshot');
    const event = await commitEvent(ctx.db, 'pms.inventory.updated', hotel, { nights: [] });
    expect(await client.next((f) => f.type === 'event')).toEqual({ type: 'event', seq: 1, event });
  });

  it('gives a client without a token an error and closes it before anything streams', async () => {
    const client = await open(appB, '/ws/reservations/');
    client.send({ type: 'subscribe', property_id: hotel });
    expect(await client.next((f) => f.type === 'error')).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await client.closed).code).toBe(4401);
    expect(client.events()).toEqual([]);

    const badToken = await open(appB, '/ws/reservations/', 'not-a-jwt');
    expect(await badToken.next((f) => f.type === 'error')).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await badToken.closed).code).toBe(4401);
  });

  it("never streams another property's events", async () => {
    const client = await open(appB, '/ws/reservations/', staffToken);
    client.send({ type: 'subscribe', property_id: otherHotel });
    expect(await client.next((f) => f.type === 'error')).toMatchObject({ code: 'NOT_FOUND' });
    client.send({ type: 'subscribe', property_id: hotel });
    await client.next((f) => f.type === 'snapshot');
    await commitEvent(ctx.db, 'pms.reservation.created', otherHotel, { reservation_id: 'secret' });
    const mine = await commitEvent(ctx.db, 'pms.reservation.created', hotel, { reservation_id: 'mine' });
    // Commit order: once the later event is here, the other property's one would have been too.
    await client.next((f) => f.type === 'event' && f.event.id === mine.id);
    expect(client.events().map((f) => f.event.subject)).toEqual([hotel]);
    expect(client.frames.some((f) => f.type === 'snapshot' && f.property_id === otherHotel)).toBe(false);
  });

  it('is read-only: other messages get an error frame and write nothing; ping gets pong', async () => {
    const count = async () => {
      const [outbox, audit] = await Promise.all([
        ctx.db
          .selectFrom('outbox_event')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow(),
        ctx.db
          .selectFrom('audit_log')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow(),
      ]);
      return [Number(outbox.n), Number(audit.n)];
    };
    const before = await count();
    const client = await subscribed(appB, '/ws/reservations/', hotel);
    client.send({ type: 'create_reservation', property_id: hotel, guest: { name: 'X' } });
    client.send({ type: 'cancel', reservation_id: crypto.randomUUID() });
    client.send('not json');
    client.send({ type: 'subscribe', property_id: 'nope' });
    client.send({ type: 'ping' });
    await client.next((f) => f.type === 'pong');
    const errors = client.frames.filter((f) => f.type === 'error').map((f) => f.code);
    expect(errors).toEqual([
      'UNSUPPORTED_MESSAGE',
      'UNSUPPORTED_MESSAGE',
      'VALIDATION_ERROR',
      'VALIDATION_ERROR',
    ]);
    expect(await count()).toEqual(before);
  });

  it('stops streaming a property after unsubscribe', async () => {
    const client = await open(appB, '/ws/reservations/', staffToken);
    client.send({ type: 'subscribe', property_id: hotel });
    await client.next((f) => f.type === 'snapshot');
    client.send({ type: 'unsubscribe', property_id: hotel });
    await client.next((f) => f.type === 'unsubscribed');
    await commitEvent(ctx.db, 'pms.reservation.created', hotel, { reservation_id: 'after' });
    // A second connection subscribed throughout proves the event went out.
    const witness = await subscribed(appB, '/ws/reservations/', hotel);
    const marker = await commitEvent(ctx.db, 'pms.reservation.created', hotel, { reservation_id: 'marker' });
    await witness.next((f) => f.type === 'event' && f.event.id === marker.id);
    client.send({ type: 'ping' });
    await client.next((f) => f.type === 'pong');
    expect(client.events()).toEqual([]);
  });

  it('sends a snapshot of the coming nights and of recent reservations on subscribe', async () => {
    const roomType = await createRoomType(ctx.db, hotel, { totalUnits: 8 });
    const today = new Date().toISOString().slice(0, 10);
    await ctx.db
      .insertInto('inventory_calendar')
      .values({ property_id: hotel, room_type_id: roomType.id, date: today, total_units: 8, booked_units: 3 })
      .execute();
    const inventory = await open(ctx.app, '/ws/inventory/', staffToken);
    inventory.send({ type: 'subscribe', property_id: hotel, days: 7 });
    const snapshot = await inventory.next((f) => f.type === 'snapshot');
    expect(snapshot.data.start_date).toBe(today);
    expect(snapshot.data.nights).toEqual([
      expect.objectContaining({
        room_type_id: roomType.id,
        date: today,
        total_units: 8,
        booked_units: 3,
        available_units: 5,
      }),
    ]);

    const reservations = await open(ctx.app, '/ws/reservations/', staffToken);
    reservations.send({ type: 'subscribe', property_id: hotel });
    const recent = await reservations.next((f) => f.type === 'snapshot');
    expect(recent.data).toEqual({ reservations: expect.any(Array) });
  });

  it('streams a booking made through the API of one instance to feeds held on the other', async () => {
    const roomType = await createRoomType(ctx.db, hotel, { totalUnits: 5 });
    await ctx.db
      .insertInto('inventory_calendar')
      .values(
        ['2032-01-10', '2032-01-11'].map((date) => ({
          property_id: hotel,
          room_type_id: roomType.id,
          date,
          total_units: 5,
        })),
      )
      .execute();
    await createDefaultRatePlan(ctx.db, hotel, { start: '2032-01-10', end: '2032-01-11' });
    const reservations = await subscribed(appB, '/ws/reservations/', hotel);
    const inventory = await subscribed(appB, '/ws/inventory/', hotel);

    const booking = await ctx.app.inject({
      method: 'POST',
      url: '/api/reservations/create/',
      headers: { authorization: `Bearer ${staffToken}` },
      payload: {
        property_id: hotel,
        check_in: '2032-01-10',
        check_out: '2032-01-12',
        guest: { full_name: 'Realtime Guest' },
        rooms: [{ room_type_id: roomType.id }],
      },
    });
    expect(booking.statusCode).toBe(201);
    const reservationId = booking.json().id;

    const created = await reservations.next(
      (f) => f.type === 'event' && f.event.type === 'pms.reservation.created',
    );
    expect(created.event.data.reservation.id).toBe(reservationId);
    expect(created.event.subject).toBe(hotel);
    const updated = await inventory.next(
      (f) => f.type === 'event' && f.event.data.room_type_id === roomType.id,
    );
    expect(updated.event.type).toBe('pms.inventory.updated');
    expect(updated.event.data.nights).toEqual([
      expect.objectContaining({ date: '2032-01-10', booked_units: 1, available_units: 4 }),
      expect.objectContaining({ date: '2032-01-11', booked_units: 1, available_units: 4 }),
    ]);
  });
});

describe('pms start --role realtime (a separate process)', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('serves health and the feeds only, and streams what another process commits', async () => {
    const hotel = (await createProperty(ctx.db)).id;
    const { token } = await userWithToken(ctx.app, ctx.db, { role: 'PROPERTY_ADMIN', propertyIds: [hotel] });
    const server = await startServerProcess({ role: 'realtime', env: { DATABASE_URL: ctx.databaseUrl } });
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect(
        (await fetch(`${server.url}/api/auth/me/`, { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(404);
      const client = await FeedClient.open(`ws://127.0.0.1:${server.port}/ws/reservations/`, { token });
      client.send({ type: 'subscribe', property_id: hotel });
      await client.next((f) => f.type === 'snapshot');
      const event = await commitEvent(ctx.db, 'pms.reservation.created', hotel, { reservation_id: 'x' });
      expect(await client.next((f) => f.type === 'event')).toEqual({ type: 'event', seq: 1, event });
      client.close();
    } finally {
      await server.kill('SIGTERM');
    }
  });
});

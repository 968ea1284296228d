import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/app.ts';
import { createDb, type Db } from '../../src/db/database.ts';
import {
  MAX_PENDING_MESSAGES,
  MAX_REFUSED_SUBSCRIBES,
} from '../../src/modules/realtime/realtime.connection.ts';
import { createTestContext, type TestContext, testConfig } from '../helpers/context.ts';
import { commitEvent, waitFor } from '../helpers/events.ts';
import { createProperty, userWithToken } from '../helpers/factories.ts';
import { FeedClient } from '../helpers/ws-client.ts';

/**
 * Issue #17, part 2: one user (or one address) cannot hold any number of sockets, and a flood of
 * subscribes costs a bounded number of snapshots, then closes the socket, while other users'
 * sockets go on. Real sockets on a real app; snapshots counted by the process's own metric.
 */
const USER_CAP = 3;
const SUBSCRIBES_PER_MINUTE = 5;
const ADDRESS_CAP = 4;

async function counter(app: FastifyInstance, name: string, label: Record<string, string>) {
  const metric = app.metrics.getSingleMetric(name) as Counter | undefined;
  const values = (await metric?.get())?.values ?? [];
  return values
    .filter((value) => Object.entries(label).every(([key, wanted]) => value.labels[key] === wanted))
    .reduce((sum, value) => sum + value.value, 0);
}

describe('realtime caps', () => {
  let ctx: TestContext;
  let hotel: string;
  const clients: FeedClient[] = [];

  const url = (app: FastifyInstance, path: string) =>
    `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}${path}`;
  const open = async (app: FastifyInstance, path: string, token?: string) => {
    const client = await FeedClient.open(url(app, path), { token });
    clients.push(client);
    return client;
  };
  const signedIn = async (path: string, token: string) => {
    const client = await open(ctx.app, path, token);
    await client.next((f) => f.type === 'ready' || f.type === 'error');
    return client;
  };

  beforeAll(async () => {
    ctx = await createTestContext({
      env: {
        REALTIME_MAX_SOCKETS_PER_USER: String(USER_CAP),
        REALTIME_SUBSCRIBES_PER_MINUTE: String(SUBSCRIBES_PER_MINUTE),
      },
    });
    await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    hotel = (await createProperty(ctx.db)).id;
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await ctx?.close();
  });

  it('refuses a user’s socket past the cap (both feeds count) with 4429, and not another user’s', async () => {
    const { token } = await userWithToken(ctx.app, ctx.db, { propertyIds: [hotel] });
    const held = [
      await signedIn('/ws/inventory/', token),
      await signedIn('/ws/reservations/', token),
      await signedIn('/ws/inventory/', token),
    ];
    expect(held.map((c) => c.frames[0].type)).toEqual(['ready', 'ready', 'ready']);

    const extra = await signedIn('/ws/reservations/', token);
    expect(extra.frames[0]).toMatchObject({ type: 'error', code: 'TOO_MANY_CONNECTIONS' });
    expect((await extra.closed).code).toBe(4429);
    expect(await counter(ctx.app, 'pms_realtime_refused_total', { reason: 'user_sockets' })).toBe(1);

    const other = await userWithToken(ctx.app, ctx.db, { propertyIds: [hotel] });
    const otherSocket = await signedIn('/ws/reservations/', other.token);
    expect(otherSocket.frames[0].type).toBe('ready');

    // A closed socket frees its place.
    held[0]!.close();
    await held[0]!.closed;
    const again = await waitFor(
      async () => {
        const client = await signedIn('/ws/inventory/', token);
        return client.frames[0].type === 'ready' ? client : undefined;
      },
      { timeoutMs: 2_000, intervalMs: 20, what: 'a place to free up' },
    );
    expect(again.frames[0].type).toBe('ready');
  });

  it('bounds the snapshots a flood of subscribes costs, then closes the socket; others stream on', async () => {
    const flooder = await userWithToken(ctx.app, ctx.db, { propertyIds: [hotel] });
    const bystander = await userWithToken(ctx.app, ctx.db, { propertyIds: [hotel] });
    const calm = await signedIn('/ws/inventory/', bystander.token);
    calm.send({ type: 'subscribe', property_id: hotel });
    await calm.next((f) => f.type === 'snapshot');

    const before = await counter(ctx.app, 'pms_realtime_snapshots_total', { feed: 'inventory' });
    const socket = await signedIn('/ws/inventory/', flooder.token);
    // Each a different window, so none is answered from a live subscription; fewer than the bound
    // on waiting messages, which a larger burst meets first (the next test).
    for (let days = 1; days <= MAX_PENDING_MESSAGES / 2; days++)
      socket.send({ type: 'subscribe', property_id: hotel, days });
    await socket.next((f) => f.type === 'error' && f.code === 'RATE_LIMITED');
    expect((await socket.closedWithin(5_000)).code).toBe(4429);

    const snapshots = socket.frames.filter((f) => f.type === 'snapshot').length;
    const limited = socket.frames.filter((f) => f.type === 'error' && f.code === 'RATE_LIMITED').length;
    const computed = (await counter(ctx.app, 'pms_realtime_snapshots_total', { feed: 'inventory' })) - before;
    // The bucket holds a minute's worth; it refills by less than one during this test.
    expect(snapshots).toBe(SUBSCRIBES_PER_MINUTE);
    expect(computed).toBe(SUBSCRIBES_PER_MINUTE);
    expect(limited).toBe(MAX_REFUSED_SUBSCRIBES);

    // The budget is the user's, not the socket's: a new socket does not get a fresh one.
    const next = await signedIn('/ws/inventory/', flooder.token);
    next.send({ type: 'subscribe', property_id: hotel });
    expect(await next.next((f) => f.type === 'error')).toMatchObject({ code: 'RATE_LIMITED' });

    // Another user is unaffected: it subscribes and events still reach it.
    const fresh = await signedIn('/ws/inventory/', bystander.token);
    fresh.send({ type: 'subscribe', property_id: hotel, days: 3 });
    await fresh.next((f) => f.type === 'snapshot');
    const event = await commitEvent(ctx.db, 'pms.inventory.updated', hotel, { nights: [] });
    await calm.next((f) => f.type === 'event' && f.event.id === event.id);
    await fresh.next((f) => f.type === 'event' && f.event.id === event.id);
  });

  it('answers a burst of pings, and closes a socket flooding more than it can handle with 4429', async () => {
    const steady = await signedIn(
      '/ws/inventory/',
      (await userWithToken(ctx.app, ctx.db, { propertyIds: [hotel] })).token,
    );
    for (let i = 0; i < 100; i++) steady.send({ type: 'ping' });
    await steady.next(() => steady.frames.filter((f) => f.type === 'pong').length === 100);

    const flooder = await signedIn(
      '/ws/inventory/',
      (await userWithToken(ctx.app, ctx.db, { propertyIds: [hotel] })).token,
    );
    const flood = 20 * MAX_PENDING_MESSAGES;
    for (let i = 0; i < flood; i++) flooder.send({ type: 'ping' });
    expect((await flooder.closedWithin(10_000)).code).toBe(4429);
    expect(flooder.frames.some((f) => f.type === 'error' && f.code === 'RATE_LIMITED')).toBe(true);
    expect(flooder.frames.filter((f) => f.type === 'pong').length).toBeLessThan(flood);

    // The well-behaved socket is still served.
    steady.send({ type: 'ping' });
    await steady.next(() => steady.frames.filter((f) => f.type === 'pong').length === 101);
  });

  it('answers a subscribe identical to a live one without computing a snapshot', async () => {
    const { token } = await userWithToken(ctx.app, ctx.db, { propertyIds: [hotel] });
    const socket = await signedIn('/ws/reservations/', token);
    socket.send({ type: 'subscribe', property_id: hotel });
    await socket.next((f) => f.type === 'snapshot');
    const before = await counter(ctx.app, 'pms_realtime_snapshots_total', { feed: 'reservations' });
    socket.send({ type: 'subscribe', property_id: hotel });
    expect(await socket.next((f) => f.type === 'subscribed')).toEqual({
      type: 'subscribed',
      property_id: hotel,
    });
    expect(await counter(ctx.app, 'pms_realtime_snapshots_total', { feed: 'reservations' })).toBe(before);
    expect(socket.frames.filter((f) => f.type === 'snapshot')).toHaveLength(1);
  });
});

describe('realtime cap per client address', () => {
  let ctx: TestContext;
  let db: Db;
  let app: FastifyInstance;
  const clients: FeedClient[] = [];

  beforeAll(async () => {
    ctx = await createTestContext();
    // A second app (a node of its own) with a small per-address cap, on the same database.
    const config = testConfig({ REALTIME_MAX_SOCKETS_PER_ADDRESS: String(ADDRESS_CAP) });
    db = createDb({ connectionString: ctx.databaseUrl, max: 3 });
    app = await buildApp({ config, db, jwtKey: ctx.jwtKey, databaseUrl: ctx.databaseUrl });
    await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await app?.close();
    await db?.destroy();
    await ctx?.close();
  });

  it('refuses the socket past the cap from one address, signed in or not, with 4429', async () => {
    const port = (app.server.address() as AddressInfo).port;
    const open = async (path: string) => {
      const client = await FeedClient.open(`ws://127.0.0.1:${port}${path}`);
      clients.push(client);
      return client;
    };
    const held = [];
    for (let i = 0; i < ADDRESS_CAP; i++)
      held.push(await open(i % 2 ? '/ws/inventory/' : '/ws/reservations/'));
    const extra = await open('/ws/inventory/');
    expect(await extra.next((f) => f.type === 'error')).toMatchObject({ code: 'TOO_MANY_CONNECTIONS' });
    expect((await extra.closed).code).toBe(4429);
    expect(held.every((client) => client.frames.length === 0)).toBe(true);

    held[0]!.close();
    await held[0]!.closed;
    // Admitted, a socket that pings before signing in meets the auth check instead of the cap.
    const answer = await waitFor(
      async () => {
        const client = await open('/ws/reservations/');
        client.send({ type: 'ping' });
        const frame = await client.next((f) => f.type === 'error');
        return frame.code === 'TOO_MANY_CONNECTIONS' ? undefined : frame;
      },
      { timeoutMs: 2_000, intervalMs: 20, what: 'a place to free up' },
    );
    expect(answer.code).toBe('UNAUTHENTICATED');
  });
});

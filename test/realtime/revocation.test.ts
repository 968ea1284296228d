import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/app.ts';
import { createDb, type Db } from '../../src/db/database.ts';
import { call, createTestContext, type TestContext } from '../helpers/context.ts';
import { commitEvent, waitFor } from '../helpers/events.ts';
import { createProperty, createUser, login } from '../helpers/factories.ts';
import { startServerProcess } from '../helpers/server-process.ts';
import { FeedClient } from '../helpers/ws-client.ts';

/**
 * Issue #17: a change to a user made through one node ends or narrows that user's live feeds on
 * another node within a second, and access tokens issued before a new password or a deactivation,
 * or belonging to a revoked sign-in, stop working at once. Node A (ctx.app) makes the changes over
 * HTTP; node B (appB, its own pool, LISTEN connections and hub) holds the sockets.
 */
const WITHIN_MS = 1_000;

describe('live feeds follow user changes made on another node', () => {
  let ctx: TestContext;
  let dbB: Db;
  let appB: FastifyInstance;
  let adminToken: string;
  const clients: FeedClient[] = [];

  const wsUrl = (app: FastifyInstance, path: string) =>
    `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}${path}`;
  const open = async (app: FastifyInstance, token: string, path = '/ws/reservations/') => {
    const client = await FeedClient.open(wsUrl(app, path), { token });
    clients.push(client);
    await client.next((f) => f.type === 'ready');
    return client;
  };
  const subscribe = async (client: FeedClient, propertyId: string) => {
    const from = client.frames.length;
    client.send({ type: 'subscribe', property_id: propertyId });
    await client.next((f) => f.type === 'snapshot' && f.property_id === propertyId, { from });
  };
  const patchUser = async (id: string, body: Record<string, unknown>) => {
    const response = await call(ctx.app, 'PATCH', `/api/auth/users/${id}/`, { token: adminToken, body });
    expect(response.status).toBe(200);
  };
  const status = async (app: FastifyInstance, token: string) =>
    (await call(app, 'GET', '/api/auth/me/', { token })).status;
  /** Node B hears of the change by NOTIFY: polled, never longer than WITHIN_MS. */
  const refusedOnB = (token: string) =>
    waitFor(async () => ((await status(appB, token)) === 401 ? true : undefined), {
      timeoutMs: WITHIN_MS,
      intervalMs: 10,
      what: 'node B to refuse the token',
    });
  const signIn = async (email: string, password: string) => {
    const response = await call(ctx.app, 'POST', '/api/auth/token/', { body: { email, password } });
    expect(response.status).toBe(200);
    return response.body as { access: string; refresh: string };
  };

  beforeAll(async () => {
    ctx = await createTestContext();
    dbB = createDb({ connectionString: ctx.databaseUrl, max: 5 });
    appB = await buildApp({ config: ctx.config, db: dbB, jwtKey: ctx.jwtKey, databaseUrl: ctx.databaseUrl });
    await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    await appB.listen({ port: 0, host: '127.0.0.1' });
    const admin = await createUser(ctx.db, { role: 'SUPER_ADMIN' });
    adminToken = await login(ctx.app, admin.email);
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await appB?.close();
    await dbB?.destroy();
    await ctx?.close();
  });

  it('closes a deactivated user’s socket with 4403, and its token gets 401 on both nodes', async () => {
    const hotel = (await createProperty(ctx.db)).id;
    const user = await createUser(ctx.db, { propertyIds: [hotel] });
    const token = await login(ctx.app, user.email);
    const socket = await open(appB, token);
    await subscribe(socket, hotel);
    expect(await status(appB, token)).toBe(200);

    await patchUser(user.id, { is_active: false });
    expect(await status(ctx.app, token)).toBe(401);
    expect((await socket.closedWithin(WITHIN_MS)).code).toBe(4403);
    expect(socket.frames.at(-1)).toMatchObject({ type: 'error', code: 'ACCESS_REVOKED' });
    await refusedOnB(token);

    // Reactivated, the account signs in again, but the tokens from before stay dead.
    await patchUser(user.id, { is_active: true });
    expect(await status(ctx.app, token)).toBe(401);
    expect(await status(ctx.app, await login(ctx.app, user.email))).toBe(200);
  });

  it('narrows a user who loses one of two properties: that feed ends with a message, the other streams on', async () => {
    const kept = (await createProperty(ctx.db)).id;
    const lost = (await createProperty(ctx.db)).id;
    const user = await createUser(ctx.db, { propertyIds: [kept, lost] });
    const token = await login(ctx.app, user.email);
    const socket = await open(appB, token);
    await subscribe(socket, kept);
    await subscribe(socket, lost);
    const from = socket.frames.length;

    await patchUser(user.id, { property_ids: [kept] });
    expect(await socket.next((f) => f.type === 'unsubscribed', { from, timeoutMs: WITHIN_MS })).toEqual({
      type: 'unsubscribed',
      property_id: lost,
      reason: 'ACCESS_REVOKED',
    });

    const secret = await commitEvent(ctx.db, 'pms.reservation.created', lost, {
      guest: { email: 'guest@example.test', phone: '+100' },
    });
    const visible = await commitEvent(ctx.db, 'pms.reservation.created', kept, { reservation_id: 'kept' });
    // Commit order: once the later event is here, the earlier one would have been too.
    await socket.next((f) => f.type === 'event' && f.event.id === visible.id);
    expect(socket.events().map((f) => f.event.id)).toEqual([visible.id]);
    expect(JSON.stringify(socket.frames)).not.toContain(secret.id);

    const refused = socket.frames.length;
    socket.send({ type: 'subscribe', property_id: lost });
    expect(await socket.next((f) => f.type === 'error', { from: refused })).toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await status(appB, token)).toBe(200);
  });

  it('ends sockets and access tokens from before a new password, and takes the token issued after it', async () => {
    const hotel = (await createProperty(ctx.db)).id;
    const user = await createUser(ctx.db, { propertyIds: [hotel] });
    const before = await signIn(user.email, user.password);
    const socket = await open(appB, before.access);
    await subscribe(socket, hotel);

    await patchUser(user.id, { password: 'a-brand-new-password' });
    const after = await signIn(user.email, 'a-brand-new-password');
    expect(await status(ctx.app, before.access)).toBe(401);
    expect((await socket.closedWithin(WITHIN_MS)).code).toBe(4403);
    await refusedOnB(before.access);
    // The new token works at once on both nodes, before B may have heard of the change.
    expect(await status(ctx.app, after.access)).toBe(200);
    expect(await status(appB, after.access)).toBe(200);

    // A token from before the change issued in the same second as the new one is still refused:
    // the check compares versions, not `iat` (one-second resolution).
    const old = decodeJwt(before.access);
    const sameSecond = await new SignJWT({ role: 'STAFF', token_type: 'access', sv: old.sv, sid: old.sid })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer('pms')
      .setIssuedAt(decodeJwt(after.access).iat!)
      .setJti(crypto.randomUUID())
      .setExpirationTime('10m')
      .sign(ctx.jwtKey);
    expect(await status(ctx.app, sameSecond)).toBe(401);
    expect(await status(appB, sameSecond)).toBe(401);
    // And the refresh token from before the change is revoked with it.
    const refresh = await call(ctx.app, 'POST', '/api/auth/token/refresh/', {
      body: { refresh: before.refresh },
    });
    expect(refresh.status).toBe(401);

    const fresh = await open(appB, after.access);
    await subscribe(fresh, hotel);
  });

  it('ends the sockets and tokens of a revoked sign-in only, not the user’s other sign-ins', async () => {
    const hotel = (await createProperty(ctx.db)).id;
    const user = await createUser(ctx.db, { propertyIds: [hotel] });
    const stolen = await signIn(user.email, user.password);
    const other = await signIn(user.email, user.password);
    const stolenSocket = await open(appB, stolen.access);
    const otherSocket = await open(appB, other.access);
    await subscribe(stolenSocket, hotel);
    await subscribe(otherSocket, hotel);

    // The refresh token is used twice: the server takes it as stolen and revokes that sign-in.
    const first = await call(ctx.app, 'POST', '/api/auth/token/refresh/', {
      body: { refresh: stolen.refresh },
    });
    expect(first.status).toBe(200);
    const reuse = await call(ctx.app, 'POST', '/api/auth/token/refresh/', {
      body: { refresh: stolen.refresh },
    });
    expect(reuse.status).toBe(401);

    expect((await stolenSocket.closedWithin(WITHIN_MS)).code).toBe(4403);
    expect(await status(ctx.app, stolen.access)).toBe(401);
    expect(await status(ctx.app, first.body.access)).toBe(401);
    await refusedOnB(stolen.access);

    expect(await status(appB, other.access)).toBe(200);
    const event = await commitEvent(ctx.db, 'pms.reservation.created', hotel, { reservation_id: 'r' });
    await otherSocket.next((f) => f.type === 'event' && f.event.id === event.id);

    // Signing out is a revocation too.
    const signOut = await call(ctx.app, 'POST', '/api/auth/token/revoke/', {
      body: { refresh: other.refresh },
    });
    expect(signOut.status).toBe(204);
    expect((await otherSocket.closedWithin(WITHIN_MS)).code).toBe(4403);
    await refusedOnB(other.access);
  });

  it('follows a password set outside the API (SQL, a tool) just the same', async () => {
    const hotel = (await createProperty(ctx.db)).id;
    const user = await createUser(ctx.db, { propertyIds: [hotel] });
    const token = await login(ctx.app, user.email);
    const socket = await open(appB, token);
    await subscribe(socket, hotel);

    await ctx.db
      .updateTable('app_user')
      .set({ password_hash: 'reset-by-a-tool' })
      .where('id', '=', user.id)
      .execute();
    expect((await socket.closedWithin(WITHIN_MS)).code).toBe(4403);
    await refusedOnB(token);
    await waitFor(async () => ((await status(ctx.app, token)) === 401 ? true : undefined), {
      timeoutMs: WITHIN_MS,
      intervalMs: 10,
    });
  });
});

describe('a separate `pms start --role realtime` process', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('closes the socket of a user deactivated through the API process within a second', async () => {
    const hotel = (await createProperty(ctx.db)).id;
    const admin = await createUser(ctx.db, { role: 'SUPER_ADMIN' });
    const adminToken = await login(ctx.app, admin.email);
    const user = await createUser(ctx.db, { propertyIds: [hotel] });
    const token = await login(ctx.app, user.email);
    const server = await startServerProcess({ role: 'realtime', env: { DATABASE_URL: ctx.databaseUrl } });
    try {
      const socket = await FeedClient.open(`ws://127.0.0.1:${server.port}/ws/reservations/`, { token });
      socket.send({ type: 'subscribe', property_id: hotel });
      await socket.next((f) => f.type === 'snapshot');

      const patch = await call(ctx.app, 'PATCH', `/api/auth/users/${user.id}/`, {
        token: adminToken,
        body: { is_active: false },
      });
      expect(patch.status).toBe(200);
      expect((await socket.closedWithin(WITHIN_MS)).code).toBe(4403);
      expect(socket.frames.at(-1)).toMatchObject({ type: 'error', code: 'ACCESS_REVOKED' });
    } finally {
      await server.kill('SIGTERM');
    }
  });
});

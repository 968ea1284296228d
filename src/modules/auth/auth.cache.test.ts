import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { createProperty, createUser, login } from '../../../test/helpers/factories.ts';
import { buildApp } from '../../app/app.ts';
import { createDb } from '../../db/database.ts';
import { AuthCache } from './auth.cache.ts';

const actor = (id: string) => ({
  actor: { id, email: `${id}@x.test`, role: 'STAFF' as const, propertyIds: [] },
  tokenVersion: 0,
  liveSessions: new Set<string>(),
  revokedSessions: new Set<string>(),
});

describe('AuthCache', () => {
  it('serves actors only while live', () => {
    const cache = new AuthCache({ actorTtlMs: 60_000 });
    cache.rememberActor(actor('a'), cache.readStarted());
    expect(cache.actor('a')).toBeUndefined();
    cache.setLive(true);
    cache.rememberActor(actor('a'), cache.readStarted());
    expect(cache.actor('a')?.actor.id).toBe('a');
    cache.setLive(false);
    expect(cache.actor('a')).toBeUndefined();
    cache.setLive(true);
    expect(cache.actor('a')).toBeUndefined();
  });

  it('does not store an actor read before an invalidation of it', () => {
    const cache = new AuthCache({ actorTtlMs: 60_000 });
    cache.setLive(true);
    const started = cache.readStarted();
    cache.invalidate('a');
    cache.rememberActor(actor('a'), started);
    expect(cache.actor('a')).toBeUndefined();
  });

  it('never caches actors when its TTL is 0', () => {
    const cache = new AuthCache({ actorTtlMs: 0 });
    cache.setLive(true);
    cache.rememberActor(actor('a'), cache.readStarted());
    expect(cache.actor('a')).toBeUndefined();
    expect(cache.isLive).toBe(false);
  });

  it('forgets a verified token once it expires', () => {
    const cache = new AuthCache({ actorTtlMs: 0 });
    cache.rememberToken('fresh', { sub: 'a', expiresAt: Date.now() + 60_000, tokenVersion: 0 });
    cache.rememberToken('stale', { sub: 'a', expiresAt: Date.now() - 1, tokenVersion: 0 });
    expect(cache.verifiedToken('fresh')?.sub).toBe('a');
    expect(cache.verifiedToken('stale')).toBeUndefined();
  });
});

describe('authenticated users cached across API processes', () => {
  let t: TestContext;
  let other: Awaited<ReturnType<typeof buildApp>>;
  let otherDb: ReturnType<typeof createDb>;

  beforeAll(async () => {
    t = await createTestContext();
    // A second API process on the same database, as a deployment runs several.
    otherDb = createDb({ connectionString: t.databaseUrl, max: 4 });
    other = await buildApp({ config: t.config, db: otherDb, jwtKey: t.jwtKey, databaseUrl: t.databaseUrl });
    await other.ready();
  });
  afterAll(async () => {
    await other.close();
    await otherDb.destroy();
    await t.close();
  });

  it('is live on both processes', () => {
    expect(t.app.authCache.isLive).toBe(true);
    expect(other.authCache.isLive).toBe(true);
  });

  it('serves a cached user without reading it again', async () => {
    const user = await createUser(t.db);
    const token = await login(t.app, user.email);
    expect((await call(other, 'GET', '/api/auth/me/', { token })).status).toBe(200);
    expect(other.authCache.actor(user.id)?.actor.id).toBe(user.id);
  });

  it('a deactivation through one process ends the sessions cached by the other', async () => {
    const admin = await createUser(t.db, { role: 'SUPER_ADMIN' });
    const adminToken = await login(t.app, admin.email);
    const user = await createUser(t.db);
    const token = await login(t.app, user.email);
    expect((await call(other, 'GET', '/api/auth/me/', { token })).status).toBe(200);

    const evicted = other.authCache.invalidated(user.id);
    const patch = await call(t.app, 'PATCH', `/api/auth/users/${user.id}/`, {
      token: adminToken,
      body: { is_active: false },
    });
    expect(patch.status).toBe(200);
    // The process that made the change forgets the user before it answers.
    expect(t.app.authCache.actor(user.id)).toBeUndefined();
    expect((await call(t.app, 'GET', '/api/auth/me/', { token })).status).toBe(401);
    await evicted;
    expect((await call(other, 'GET', '/api/auth/me/', { token })).status).toBe(401);
  });

  it('a property granted or withdrawn in SQL applies once the notification arrives', async () => {
    const property = await createProperty(t.db);
    const user = await createUser(t.db, { role: 'PROPERTY_ADMIN' });
    const token = await login(t.app, user.email);
    const url = `/api/properties/${property.id}/`;
    expect((await call(other, 'GET', url, { token })).status).toBe(404);

    let evicted = other.authCache.invalidated(user.id);
    await t.db.insertInto('user_property').values({ user_id: user.id, property_id: property.id }).execute();
    await evicted;
    expect((await call(other, 'GET', url, { token })).status).toBe(200);

    evicted = other.authCache.invalidated(user.id);
    await t.db.deleteFrom('user_property').where('user_id', '=', user.id).execute();
    await evicted;
    expect((await call(other, 'GET', url, { token })).status).toBe(404);
  });

  it('keeps each user’s token version and checked sign-ins, so a revoked one is refused from memory', async () => {
    const user = await createUser(t.db);
    const [revoked, kept] = await Promise.all([login(t.app, user.email), login(t.app, user.email)]);
    const sid = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sid;
    expect((await call(other, 'GET', '/api/auth/me/', { token: revoked })).status).toBe(200);
    expect((await call(other, 'GET', '/api/auth/me/', { token: kept })).status).toBe(200);
    expect([...other.authCache.actor(user.id)!.liveSessions].sort()).toEqual(
      [sid(revoked), sid(kept)].sort(),
    );

    // A sign-in revoked by any writer notifies like a change to the user.
    const evicted = other.authCache.invalidated(user.id);
    await t.db
      .updateTable('refresh_token')
      .set({ revoked_at: new Date() })
      .where('family_id', '=', sid(revoked))
      .execute();
    await evicted;
    expect((await call(other, 'GET', '/api/auth/me/', { token: revoked })).status).toBe(401);
    expect((await call(other, 'GET', '/api/auth/me/', { token: kept })).status).toBe(200);
    const state = other.authCache.actor(user.id)!;
    expect([...state.revokedSessions]).toEqual([sid(revoked)]);
    expect([...state.liveSessions]).toEqual([sid(kept)]);
    expect(state.tokenVersion).toBe(0);

    const bumped = other.authCache.invalidated(user.id);
    await t.db
      .updateTable('app_user')
      .set({ password_hash: 'set-by-a-tool' })
      .where('id', '=', user.id)
      .execute();
    await bumped;
    expect((await call(other, 'GET', '/api/auth/me/', { token: kept })).status).toBe(401);
  });

  it('stops serving from memory while its LISTEN connection is down, and resumes after', async () => {
    const user = await createUser(t.db);
    const token = await login(t.app, user.email);
    expect((await call(other, 'GET', '/api/auth/me/', { token })).status).toBe(200);
    const lost = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (!other.authCache.isLive) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE application_name = 'pms-auth-cache' AND datname = current_database()`.execute(t.db);
    await lost;
    expect(other.authCache.actor(user.id)).toBeUndefined();
    // While down, a change is seen at once because every request reads the user.
    await t.db.updateTable('app_user').set({ role: 'PROPERTY_ADMIN' }).where('id', '=', user.id).execute();
    const me = await call(other, 'GET', '/api/auth/me/', { token });
    expect(me.status).toBe(200);
    expect(me.body.role).toBe('PROPERTY_ADMIN');
  });
});

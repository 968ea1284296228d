import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookingWorld } from '../../../test/booking/world.ts';
import { issueApiKey } from '../../../test/helpers/api-keys.ts';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { userWithToken } from '../../../test/helpers/factories.ts';
import { buildApp } from '../../app/app.ts';
import { createDb } from '../../db/database.ts';

/**
 * API keys are cached by every API process like users (AuthCache): a change made through one
 * process, or in plain SQL, reaches the others through the `pms_actor` notification at once.
 */
describe('API keys cached across API processes', () => {
  let t: TestContext;
  let other: Awaited<ReturnType<typeof buildApp>>;
  let otherDb: ReturnType<typeof createDb>;
  let rootToken: string;
  let hotel: Awaited<ReturnType<typeof bookingWorld>>;

  beforeAll(async () => {
    t = await createTestContext();
    otherDb = createDb({ connectionString: t.databaseUrl, max: 4 });
    other = await buildApp({ config: t.config, db: otherDb, jwtKey: t.jwtKey, databaseUrl: t.databaseUrl });
    await other.ready();
    rootToken = (await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' })).token;
    hotel = await bookingWorld(t);
  });
  afterAll(async () => {
    await other.close();
    await otherDb.destroy();
    await t.close();
  });

  /** An availability check on the other process, with `secret`. */
  const checkOnOther = async (secret: string) =>
    (
      await call(other, 'POST', '/api/inventory/check/', {
        token: secret,
        body: { room_type_id: hotel.roomType.id, check_in: '2031-03-10', check_out: '2031-03-12' },
      })
    ).status;

  /** The other process answers `status` within two seconds (it would keep its cached key a minute). */
  const settlesTo = (secret: string, status: number) =>
    expect.poll(() => checkOnOther(secret), { timeout: 2_000, interval: 20 }).toBe(status);

  /**
   * Until the other process has heard every notification sent so far (the key's creation is one):
   * notifications arrive in order, so once a marker sent now has arrived, those before it have.
   */
  const otherHasCaughtUp = async () => {
    const marker = crypto.randomUUID();
    const heard = other.authCache.invalidated(marker);
    await sql`SELECT pg_notify('pms_actor', ${marker})`.execute(t.db);
    await heard;
  };

  it('serves a key from memory until the key changes', async () => {
    const key = await issueApiKey(t.app, rootToken, {
      scopes: ['search'],
      property_ids: [hotel.property.id],
    });
    // A check that ran while the key's creation was still on its way would not keep the key.
    await otherHasCaughtUp();
    expect(await checkOnOther(key.secret)).toBe(200);
    expect(other.authCache.apiKey(key.id)).toBeDefined();
    // A change the trigger does not announce is not seen: the key is served from memory.
    await t.db.transaction().execute(async (tx) => {
      await sql`ALTER TABLE api_key DISABLE TRIGGER api_key_actor_changed`.execute(tx);
      await tx
        .updateTable('api_key')
        .set({ scopes: ['events'] })
        .where('id', '=', key.id)
        .execute();
      await sql`ALTER TABLE api_key ENABLE TRIGGER api_key_actor_changed`.execute(tx);
    });
    expect(await checkOnOther(key.secret)).toBe(200);
    // The same change announced (as every writer's is) applies at once.
    await t.db
      .updateTable('api_key')
      .set({ scopes: ['events'] })
      .where('id', '=', key.id)
      .execute();
    await settlesTo(key.secret, 403);
  });

  it('a revocation through one process ends the key on the other at once', async () => {
    const key = await issueApiKey(t.app, rootToken, {
      scopes: ['search'],
      property_ids: [hotel.property.id],
    });
    expect(await checkOnOther(key.secret)).toBe(200);
    const revoked = await call(t.app, 'POST', `/api/auth/api-keys/${key.id}/revoke/`, { token: rootToken });
    expect(revoked.status).toBe(200);
    await settlesTo(key.secret, 401);
  });

  it('a rotation through one process ends the old secret on the other at once', async () => {
    const key = await issueApiKey(t.app, rootToken, {
      scopes: ['search'],
      property_ids: [hotel.property.id],
    });
    expect(await checkOnOther(key.secret)).toBe(200);
    const rotated = await call(t.app, 'POST', `/api/auth/api-keys/${key.id}/rotate/`, { token: rootToken });
    await settlesTo(key.secret, 401);
    expect(await checkOnOther(rotated.body.secret)).toBe(200);
  });

  it('a property withdrawn from a key in SQL is another hotel to it at once', async () => {
    const key = await issueApiKey(t.app, rootToken, {
      scopes: ['search'],
      property_ids: [hotel.property.id],
    });
    expect(await checkOnOther(key.secret)).toBe(200);
    await t.db.deleteFrom('api_key_property').where('api_key_id', '=', key.id).execute();
    await settlesTo(key.secret, 404);
  });
});

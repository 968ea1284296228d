import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookingWorld, reservationBody } from '../../../test/booking/world.ts';
import { type IssuedKey, issueApiKey } from '../../../test/helpers/api-keys.ts';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { databaseFingerprint } from '../../../test/helpers/db-fingerprint.ts';
import { userWithToken } from '../../../test/helpers/factories.ts';
import { FeedClient } from '../../../test/helpers/ws-client.ts';
import { API_KEY_ROUTES } from './api-key.scopes.ts';
import { purgeOldApiKeyUsage } from './api-key.service.ts';

let t: TestContext;
let root: { id: string; token: string };
let hotelA: Awaited<ReturnType<typeof bookingWorld>>;
let hotelB: Awaited<ReturnType<typeof bookingWorld>>;

beforeAll(async () => {
  t = await createTestContext();
  root = await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' });
  hotelA = await bookingWorld(t);
  hotelB = await bookingWorld(t);
});
afterAll(() => t.close());

const KEY_FORMAT = /^pms_key_[0-9a-f]{32}_[0-9A-Za-z]{43}$/;
const stay = { check_in: '2031-03-10', check_out: '2031-03-12' };

/** Everything but the usage counts, which every call of a key adds to by design. */
async function writesFingerprint(): Promise<string> {
  await t.app.apiKeyUsage.flush();
  const all = await databaseFingerprint(t.db);
  return all
    .split(',')
    .filter((part) => !part.startsWith('api_key_usage:'))
    .join(',');
}

const asKey = (key: IssuedKey, method: string, url: string, body?: unknown) =>
  call(t.app, method as 'GET', url, { token: key.secret, body });

describe('creating a key', () => {
  it('shows the key once and stores only its SHA-256', async () => {
    const created = await call(t.app, 'POST', '/api/auth/api-keys/', {
      token: root.token,
      body: { name: 'Booking engine', scopes: ['search', 'book'], property_ids: [hotelA.property.id] },
    });
    expect(created.status).toBe(201);
    const { secret, id } = created.body;
    expect(secret).toMatch(KEY_FORMAT);
    expect(secret.startsWith(`${created.body.key_prefix}_`)).toBe(true);
    expect(created.body).toMatchObject({
      name: 'Booking engine',
      scopes: ['search', 'book'],
      all_properties: false,
      property_ids: [hotelA.property.id],
      rate_limit_per_minute: 600,
      expires_at: null,
      status: 'active',
      last_used_at: null,
      created_by: root.id,
    });

    const read = await call(t.app, 'GET', `/api/auth/api-keys/${id}/`, { token: root.token });
    expect(read.status).toBe(200);
    expect(read.body.secret).toBeUndefined();
    const listed = await call(t.app, 'GET', '/api/auth/api-keys/?limit=500', { token: root.token });
    expect(JSON.stringify(listed.body)).not.toContain(secret.slice(-43));

    const row = await t.db.selectFrom('api_key').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.secret_hash.equals(createHash('sha256').update(secret).digest())).toBe(true);
    // The secret is nowhere in the database, the audit of its creation included.
    const dump = await sql<{ text: string }>`
      SELECT string_agg(t::text, '|') AS text FROM (
        SELECT row_to_json(k)::text AS t FROM api_key k
        UNION ALL SELECT row_to_json(a)::text FROM audit_log a) t`.execute(t.db);
    expect(dump.rows[0]!.text).not.toContain(secret.slice(-43));
    const audit = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('entity_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ action: 'api_key.created', actor_id: root.id, actor_role: 'SUPER_ADMIN' });
  });

  it('refuses an impossible grant with a 400 naming the field, and writes nothing', async () => {
    const before = await writesFingerprint();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'x', scopes: ['search'] }, '/body/property_ids'],
      [{ name: 'x', scopes: ['search'], property_ids: [] }, '/body/property_ids'],
      [{ name: 'x', scopes: ['search'], property_ids: [crypto.randomUUID()] }, '/body/property_ids'],
      [
        { name: 'x', scopes: ['search'], all_properties: true, property_ids: [hotelA.property.id] },
        '/body/property_ids',
      ],
      [{ name: 'x', scopes: [], property_ids: [hotelA.property.id] }, '/body/scopes'],
      [{ name: 'x', scopes: ['admin'], property_ids: [hotelA.property.id] }, '/body/scopes/0'],
      [
        {
          name: 'x',
          scopes: ['search'],
          property_ids: [hotelA.property.id],
          expires_at: '2001-01-01T00:00:00Z',
        },
        '/body/expires_at',
      ],
      [
        { name: 'x', scopes: ['search'], property_ids: [hotelA.property.id], rate_limit_per_minute: 0 },
        '/body/rate_limit_per_minute',
      ],
      [{ name: 'bad\u0000name', scopes: ['search'], property_ids: [hotelA.property.id] }, '/body/name'],
    ];
    for (const [body, pointer] of cases) {
      const res = await call(t.app, 'POST', '/api/auth/api-keys/', { token: root.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    }
    expect(await writesFingerprint()).toBe(before);
  });
});

describe('administering keys', () => {
  it("lets a PROPERTY_ADMIN manage its own properties' keys only, and STAFF none", async () => {
    const adminA = hotelA.admin;
    const ownKey = await issueApiKey(t.app, adminA.token, {
      scopes: ['search'],
      property_ids: [hotelA.property.id],
    });
    const mixed = await issueApiKey(t.app, root.token, {
      scopes: ['search'],
      property_ids: [hotelA.property.id, hotelB.property.id],
    });
    const everywhere = await issueApiKey(t.app, root.token, { scopes: ['search'], all_properties: true });

    const create = (token: string, body: Record<string, unknown>) =>
      call(t.app, 'POST', '/api/auth/api-keys/', { token, body: { name: 'k', scopes: ['search'], ...body } });
    expect((await create(adminA.token, { property_ids: [hotelB.property.id] })).body.code).toBe('FORBIDDEN');
    expect((await create(adminA.token, { property_ids: [crypto.randomUUID()] })).status).toBe(403);
    expect((await create(adminA.token, { all_properties: true })).status).toBe(403);
    expect((await create(hotelA.staff.token, { property_ids: [hotelA.property.id] })).status).toBe(403);

    const listed = await call(t.app, 'GET', '/api/auth/api-keys/?limit=500', { token: adminA.token });
    const ids = listed.body.results.map((k: { id: string }) => k.id);
    expect(ids).toContain(ownKey.id);
    expect(ids).not.toContain(mixed.id);
    expect(ids).not.toContain(everywhere.id);
    const asRoot = await call(
      t.app,
      'GET',
      `/api/auth/api-keys/?limit=500&property_id=${hotelB.property.id}`,
      {
        token: root.token,
      },
    );
    const rootIds = asRoot.body.results.map((k: { id: string }) => k.id);
    expect(rootIds).toEqual(expect.arrayContaining([mixed.id, everywhere.id]));
    expect(rootIds).not.toContain(ownKey.id);

    for (const key of [mixed, everywhere]) {
      expect(
        (await call(t.app, 'GET', `/api/auth/api-keys/${key.id}/`, { token: adminA.token })).status,
      ).toBe(404);
      const revoke = await call(t.app, 'POST', `/api/auth/api-keys/${key.id}/revoke/`, {
        token: adminA.token,
      });
      expect(revoke.status).toBe(404);
    }
    expect(
      (await call(t.app, 'GET', `/api/auth/api-keys/${ownKey.id}/`, { token: hotelB.admin.token })).status,
    ).toBe(404);
    expect((await call(t.app, 'GET', '/api/auth/api-keys/', { token: hotelA.staff.token })).status).toBe(403);
    expect(
      (
        await call(t.app, 'GET', `/api/auth/api-keys/?property_id=${hotelB.property.id}`, {
          token: adminA.token,
        })
      ).status,
    ).toBe(404);

    const renamed = await call(t.app, 'PATCH', `/api/auth/api-keys/${ownKey.id}/`, {
      token: adminA.token,
      body: { name: 'Channel manager', rate_limit_per_minute: 120 },
    });
    expect(renamed.body).toMatchObject({ name: 'Channel manager', rate_limit_per_minute: 120 });
  });
});

describe('a deleted property', () => {
  it('is taken off its keys, which then see nothing of it', async () => {
    const hotel = await bookingWorld(t, { defaultPlan: false });
    const key = await issueApiKey(t.app, root.token, {
      scopes: ['search'],
      property_ids: [hotel.property.id, hotelA.property.id],
    });
    await t.db.deleteFrom('inventory_calendar').where('property_id', '=', hotel.property.id).execute();
    const deleted = await call(t.app, 'DELETE', `/api/properties/${hotel.property.id}/`, {
      token: root.token,
    });
    expect(deleted.status).toBe(204);
    const read = await call(t.app, 'GET', `/api/auth/api-keys/${key.id}/`, { token: root.token });
    expect(read.body.property_ids).toEqual([hotelA.property.id]);
    const listed = await asKey(key, 'GET', '/api/properties/?limit=500');
    expect(listed.body.results.map((p: { id: string }) => p.id)).toEqual([hotelA.property.id]);
  });
});

describe('calling the API with a key', () => {
  it('acts with its scopes on its properties: 403 INSUFFICIENT_SCOPE outside them, 404 for other hotels', async () => {
    const search = await issueApiKey(t.app, root.token, {
      scopes: ['search'],
      property_ids: [hotelA.property.id],
    });
    const check = { room_type_id: hotelA.roomType.id, ...stay };
    const ok = await asKey(search, 'POST', '/api/inventory/check/', check);
    expect(ok.status).toBe(200);
    expect(ok.headers['x-ratelimit-limit']).toBe('600');

    const book = await asKey(search, 'POST', '/api/reservations/create/', reservationBody(hotelA));
    expect(book.status).toBe(403);
    expect(book.body).toMatchObject({ code: 'INSUFFICIENT_SCOPE', required_scope: 'book' });
    // User-only routes say so before reading the request: no field details.
    for (const [method, url] of [
      ['GET', '/api/auth/users/'],
      ['GET', '/api/auth/me/'],
      ['POST', '/api/auth/api-keys/'],
      ['POST', '/api/webhooks/'],
      ['GET', '/api/audit/'],
      ['POST', '/api/reservations/00000000-0000-0000-0000-000000000000/check-in/'],
    ]) {
      const res = await asKey(search, method!, url!, { unexpected: true });
      expect(res.status, url).toBe(403);
      expect(res.body, url).toMatchObject({ code: 'INSUFFICIENT_SCOPE', required_scope: null });
      expect(res.body.errors, url).toBeUndefined();
    }
    const other = await asKey(search, 'POST', '/api/inventory/check/', {
      room_type_id: hotelB.roomType.id,
      ...stay,
    });
    expect(other.status).toBe(404);
    const properties = await asKey(search, 'GET', '/api/properties/?limit=500');
    expect(properties.body.results.map((p: { id: string }) => p.id)).toEqual([hotelA.property.id]);
  });

  it('a key for all properties sees every hotel, created later ones included', async () => {
    const everywhere = await issueApiKey(t.app, root.token, {
      scopes: ['search', 'reservations:read'],
      all_properties: true,
    });
    const later = await bookingWorld(t);
    const res = await asKey(everywhere, 'POST', '/api/inventory/check/', {
      room_type_id: later.roomType.id,
      ...stay,
    });
    expect(res.status).toBe(200);
    const listed = await asKey(everywhere, 'GET', '/api/properties/?limit=500');
    expect(listed.body.results.map((p: { id: string }) => p.id)).toEqual(
      expect.arrayContaining([hotelA.property.id, hotelB.property.id, later.property.id]),
    );
  });

  it('every write made with a key is audited with the key, by name', async () => {
    const key = await issueApiKey(t.app, hotelA.admin.token, {
      name: 'Acme booking engine',
      scopes: ['book', 'reservations:read'],
      property_ids: [hotelA.property.id],
    });
    const hold = await asKey(key, 'POST', '/api/inventory/holds/', {
      room_type_id: hotelA.roomType.id,
      ...stay,
      units: 1,
    });
    expect(hold.status).toBe(201);
    expect((await asKey(key, 'DELETE', `/api/inventory/holds/${hold.body.id}/`)).status).toBe(200);
    const created = await asKey(key, 'POST', '/api/reservations/create/', reservationBody(hotelA));
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body.created_by).toBe(key.id);
    expect(
      (await asKey(key, 'POST', `/api/reservations/${id}/modify/`, { check_out: '2031-03-13' })).status,
    ).toBe(200);
    expect((await asKey(key, 'POST', `/api/reservations/${id}/cancel/`)).status).toBe(200);

    const rows = await t.db
      .selectFrom('audit_log')
      .select(['action', 'actor_id', 'actor_role', 'actor_name'])
      .where('actor_id', '=', key.id)
      .orderBy('id')
      .execute();
    expect(rows.map((r) => r.action)).toEqual([
      'hold.created',
      'hold.released',
      'reservation.created',
      'reservation.modified',
      'reservation.cancelled',
    ]);
    for (const row of rows)
      expect(row).toMatchObject({ actor_role: 'API_KEY', actor_name: 'Acme booking engine' });
    const visible = await call(t.app, 'GET', `/api/audit/?actor_id=${key.id}`, { token: hotelA.admin.token });
    expect(visible.body.results).toHaveLength(5);
    expect(visible.body.results[0]).toMatchObject({
      actor_role: 'API_KEY',
      actor_name: 'Acme booking engine',
    });
  });

  it('refuses junk, unknown, wrong, revoked and expired keys with 401, writing nothing', async () => {
    const key = await issueApiKey(t.app, root.token, {
      scopes: ['book'],
      property_ids: [hotelA.property.id],
    });
    const revoked = await issueApiKey(t.app, root.token, {
      scopes: ['book'],
      property_ids: [hotelA.property.id],
    });
    expect(
      (await call(t.app, 'POST', `/api/auth/api-keys/${revoked.id}/revoke/`, { token: root.token })).status,
    ).toBe(200);
    const expired = await issueApiKey(t.app, root.token, {
      scopes: ['book'],
      property_ids: [hotelA.property.id],
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await t.db
      .updateTable('api_key')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', expired.id)
      .execute();
    const secretOf = (k: IssuedKey) => k.secret.slice(-43);
    const flipped = `${key.secret.slice(0, -1)}${key.secret.endsWith('a') ? 'b' : 'a'}`;
    const refused: Array<[string, string]> = [
      ['pms_key_', 'not valid'],
      [`${key.secret}\u0000`, 'not valid'],
      [`${key.secret.slice(0, 20)}\u0000${key.secret.slice(21)}`, 'not valid'],
      [`${key.secret}x`, 'not valid'],
      // Not a key at all (the prefix is lower case): taken for a token, refused as one.
      [key.secret.toUpperCase(), 'not a valid access token'],
      [`pms_key_${'0'.repeat(32)}_${secretOf(key)}`, 'not valid'],
      [flipped, 'not valid'],
      [`pms_key_${key.id.replaceAll('-', '')}_${secretOf(revoked)}`, 'not valid'],
      [revoked.secret, 'revoked'],
      [expired.secret, 'expired'],
    ];
    const before = await writesFingerprint();
    for (const [credential, reason] of refused) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/reservations/create/',
        headers: { authorization: `Bearer ${credential}` },
        payload: reservationBody(hotelA),
      });
      expect(res.statusCode, JSON.stringify(credential)).toBe(401);
      expect(res.json().code).toBe('UNAUTHENTICATED');
      expect(res.json().detail).toContain(reason);
    }
    expect(await writesFingerprint()).toBe(before);
    // None of them counted as a call of the key they imitate.
    const counted = await t.db
      .selectFrom('api_key_usage')
      .select('api_key_id')
      .where('api_key_id', 'in', [key.id, revoked.id, expired.id])
      .execute();
    expect(counted).toEqual([]);
  });

  it("answers 429 RATE_LIMITED with Retry-After over the key's limit, writing nothing, other keys unaffected", async () => {
    const key = await issueApiKey(t.app, root.token, {
      scopes: ['book'],
      property_ids: [hotelA.property.id],
      rate_limit_per_minute: 3,
    });
    const other = await issueApiKey(t.app, root.token, {
      scopes: ['book'],
      property_ids: [hotelA.property.id],
    });
    const holdBody = { room_type_id: hotelA.roomType.id, ...stay, units: 1 };
    for (let i = 0; i < 3; i++) {
      const res = await asKey(key, 'POST', '/api/inventory/holds/', holdBody);
      expect(res.status).toBe(201);
      expect(res.headers['x-ratelimit-remaining']).toBe(String(2 - i));
    }
    const before = await writesFingerprint();
    const over = await asKey(key, 'POST', '/api/inventory/holds/', holdBody);
    expect(over.status).toBe(429);
    expect(over.body.code).toBe('RATE_LIMITED');
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(await writesFingerprint()).toBe(before);
    expect((await asKey(other, 'POST', '/api/inventory/holds/', holdBody)).status).toBe(201);
    // Raising the limit applies to the next call.
    await call(t.app, 'PATCH', `/api/auth/api-keys/${key.id}/`, {
      token: root.token,
      body: { rate_limit_per_minute: 100 },
    });
    expect((await asKey(key, 'POST', '/api/inventory/holds/', holdBody)).status).toBe(201);
  });

  it('counts every call per key and minute, refused ones as errors, and shows when the key was last used', async () => {
    const key = await issueApiKey(t.app, root.token, {
      scopes: ['search'],
      property_ids: [hotelA.property.id],
    });
    const started = Date.now();
    for (let i = 0; i < 4; i++) {
      expect(
        (await asKey(key, 'POST', '/api/inventory/check/', { room_type_id: hotelA.roomType.id, ...stay }))
          .status,
      ).toBe(200);
    }
    expect((await asKey(key, 'GET', '/api/reservations/')).status).toBe(403);
    expect((await asKey(key, 'GET', `/api/properties/${hotelB.property.id}/`)).status).toBe(404);
    await t.app.apiKeyUsage.flush();
    const usage = await call(t.app, 'GET', `/api/auth/api-keys/${key.id}/usage/?hours=1`, {
      token: root.token,
    });
    expect(usage.status).toBe(200);
    expect(usage.body).toMatchObject({ requests: 6, errors: 2 });
    const read = await call(t.app, 'GET', `/api/auth/api-keys/${key.id}/`, { token: root.token });
    expect(new Date(read.body.last_used_at).getTime()).toBeGreaterThanOrEqual(started - 1);
  });
});

describe('usage retention', () => {
  it("deletes counts older than the cut-off, except each key's latest, which keeps its last use", async () => {
    const old = await issueApiKey(t.app, root.token, {
      scopes: ['search'],
      property_ids: [hotelA.property.id],
    });
    const busy = await issueApiKey(t.app, root.token, {
      scopes: ['search'],
      property_ids: [hotelA.property.id],
    });
    const at = (days: number) => new Date(Date.UTC(2020, 0, 1 + days));
    const row = (keyId: string, days: number) => ({
      api_key_id: keyId,
      minute: at(days),
      requests: 1,
      errors: 0,
      last_at: at(days),
    });
    await t.db
      .insertInto('api_key_usage')
      .values([row(old.id, 0), row(old.id, 1), row(busy.id, 0), row(busy.id, 5), row(busy.id, 20)])
      .execute();
    expect(await purgeOldApiKeyUsage(t.db, at(10), 1)).toBe(3);
    const left = await t.db
      .selectFrom('api_key_usage')
      .select(['api_key_id', 'minute'])
      .where('api_key_id', 'in', [old.id, busy.id])
      .orderBy('minute')
      .execute();
    expect(left).toEqual([
      { api_key_id: old.id, minute: at(1) },
      { api_key_id: busy.id, minute: at(20) },
    ]);
    const read = await call(t.app, 'GET', `/api/auth/api-keys/${old.id}/`, { token: root.token });
    expect(read.body.last_used_at).toBe(at(1).toISOString());
  });
});

describe('live feeds', () => {
  it('are for signed-in users: a key is refused like a bad token', async () => {
    const key = await issueApiKey(t.app, root.token, {
      scopes: ['search', 'book', 'reservations:read', 'events'],
      all_properties: true,
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const client = await FeedClient.open(`ws://127.0.0.1:${port}/ws/reservations/`, { token: key.secret });
    client.send({ type: 'subscribe', property_id: hotelA.property.id });
    expect(await client.next((f) => f.type === 'error')).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await client.closedWithin(5_000)).code).toBe(4401);
  });
});

describe("routes outside a key's scopes", () => {
  it('are refused 403 INSUFFICIENT_SCOPE before their body or query is validated, so no field details leak', async () => {
    const key = await issueApiKey(t.app, root.token, { scopes: ['events'], all_properties: true });
    const document = t.app.swagger() as {
      paths: Record<string, Record<string, { security?: unknown[]; description?: string }>>;
    };
    let checked = 0;
    for (const [path, item] of Object.entries(document.paths)) {
      if (!path.startsWith('/api/')) continue;
      for (const [method, operation] of Object.entries(item)) {
        if (Array.isArray(operation.security) && operation.security.length === 0) continue;
        const needed = API_KEY_ROUTES[`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`];
        // The API reference names the scope an operation needs, and only there.
        if (needed) expect(operation.description, path).toContain(`API keys: needs the scope \`${needed}\`.`);
        else expect(operation.description ?? '', path).not.toContain('API keys: needs');
        if (needed === 'events') continue;
        const response = await t.app.inject({
          method: method.toUpperCase() as 'GET',
          url: `${path.replace(/\{\w+\}/g, 'not-an-id')}?unexpected_field=1`,
          headers: { authorization: `Bearer ${key.secret}` },
          ...(['post', 'put', 'patch'].includes(method)
            ? { payload: { unexpected_field: 'x', email: 42 } }
            : {}),
        });
        const label = `${method.toUpperCase()} ${path} → ${response.statusCode} ${response.body.slice(0, 200)}`;
        expect(response.statusCode, label).toBe(403);
        expect(response.json(), label).toMatchObject({
          code: 'INSUFFICIENT_SCOPE',
          required_scope: needed ?? null,
        });
        expect(response.json().errors, label).toBeUndefined();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});

describe('rotating and revoking', () => {
  it('a rotation gives a new secret at once; the old one stops at once, or after the grace period', async () => {
    const key = await issueApiKey(t.app, root.token, {
      scopes: ['search'],
      property_ids: [hotelA.property.id],
    });
    const check = (secret: string) =>
      call(t.app, 'POST', '/api/inventory/check/', {
        token: secret,
        body: { room_type_id: hotelA.roomType.id, ...stay },
      });
    expect((await check(key.secret)).status).toBe(200);

    const rotated = await call(t.app, 'POST', `/api/auth/api-keys/${key.id}/rotate/`, { token: root.token });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(KEY_FORMAT);
    expect(rotated.body.secret).not.toBe(key.secret);
    expect(rotated.body.previous_secret_expires_at).toBeNull();
    expect((await check(key.secret)).status).toBe(401);
    expect((await check(rotated.body.secret)).status).toBe(200);

    const graceful = await call(t.app, 'POST', `/api/auth/api-keys/${key.id}/rotate/`, {
      token: root.token,
      body: { grace_seconds: 3600 },
    });
    const until = new Date(graceful.body.previous_secret_expires_at).getTime();
    expect(until - Date.now()).toBeGreaterThan(3590_000);
    expect((await check(rotated.body.secret)).status).toBe(200);
    expect((await check(graceful.body.secret)).status).toBe(200);
    // The grace period over (moved into the past in SQL), the replaced secret is refused once the
    // change's notification reaches this process's cache.
    const evicted = t.app.authCache.invalidated(key.id);
    await t.db
      .updateTable('api_key')
      .set({ previous_secret_expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', key.id)
      .execute();
    await evicted;
    expect((await check(rotated.body.secret)).status).toBe(401);
    expect((await check(graceful.body.secret)).status).toBe(200);

    const audit = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('entity_id', '=', key.id)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['api_key.created', 'api_key.rotated', 'api_key.rotated']);
  });

  it('a revocation ends the key at once, grace secrets included; it cannot be rotated or changed again', async () => {
    const key = await issueApiKey(t.app, root.token, {
      scopes: ['search'],
      property_ids: [hotelA.property.id],
    });
    const rotated = await call(t.app, 'POST', `/api/auth/api-keys/${key.id}/rotate/`, {
      token: root.token,
      body: { grace_seconds: 600 },
    });
    const check = (secret: string) =>
      call(t.app, 'POST', '/api/inventory/check/', {
        token: secret,
        body: { room_type_id: hotelA.roomType.id, ...stay },
      });
    expect((await check(key.secret)).status).toBe(200);
    const revoked = await call(t.app, 'POST', `/api/auth/api-keys/${key.id}/revoke/`, { token: root.token });
    expect(revoked.body).toMatchObject({ status: 'revoked', previous_secret_expires_at: null });
    expect((await check(key.secret)).status).toBe(401);
    expect((await check(rotated.body.secret)).status).toBe(401);
    const again = await call(t.app, 'POST', `/api/auth/api-keys/${key.id}/revoke/`, { token: root.token });
    expect(again.body.revoked_at).toBe(revoked.body.revoked_at);
    const rotate = await call(t.app, 'POST', `/api/auth/api-keys/${key.id}/rotate/`, { token: root.token });
    expect(rotate.status).toBe(409);
    expect(rotate.body.code).toBe('API_KEY_REVOKED');
    const patch = await call(t.app, 'PATCH', `/api/auth/api-keys/${key.id}/`, {
      token: root.token,
      body: { name: 'x' },
    });
    expect(patch.body.code).toBe('API_KEY_REVOKED');
  });
});

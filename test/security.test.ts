import { Writable } from 'node:stream';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app/app.ts';
import { createLogger } from '../src/app/logger.ts';
import { createDb, type Db } from '../src/db/database.ts';
import { createTestDatabase, testConfig } from './helpers/context.ts';
import { createProperty, createUser, login } from './helpers/factories.ts';

/**
 * Secrets never leave the process: no password, password hash, signing key or refresh token appears in
 * any response body or log line, even at trace level. Security headers are set on every response.
 */
const logLines: string[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    logLines.push(String(chunk));
    done();
  },
});

let db: Db;
let drop: () => Promise<void>;
let app: Awaited<ReturnType<typeof buildApp>>;
const config = testConfig({ LOG_LEVEL: 'trace' });

beforeAll(async () => {
  const database = await createTestDatabase();
  drop = database.drop;
  db = createDb({ connectionString: database.url, max: 4 });
  app = await buildApp({
    config,
    db,
    jwtKey: new TextEncoder().encode(config.jwtSecret),
    logger: createLogger(config, sink),
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await db.destroy();
  await drop();
});

describe('secrets', () => {
  it('never appear in responses or logs', async () => {
    const admin = await createUser(db, { role: 'SUPER_ADMIN' });
    const responses: string[] = [];
    const send = async (options: InjectOptions) => {
      const response = await app.inject(options);
      responses.push(JSON.stringify(response.headers) + response.body);
      return response;
    };
    const login = await send({
      method: 'POST',
      url: '/api/auth/token/',
      payload: { email: admin.email, password: admin.password },
    });
    const { access, refresh } = JSON.parse(login.body);
    const auth = { authorization: `Bearer ${access}` };
    const newPassword = 'a-brand-new-secret-password';
    const created = await send({
      method: 'POST',
      url: '/api/auth/users/',
      headers: auth,
      payload: { email: 'staff.secret@example.test', password: newPassword, role: 'STAFF' },
    });
    expect(created.statusCode).toBe(201);
    const userId = JSON.parse(created.body).id;
    await send({
      method: 'PATCH',
      url: `/api/auth/users/${userId}/`,
      headers: auth,
      payload: { password: `${newPassword}-2` },
    });
    await send({ method: 'GET', url: '/api/auth/users/', headers: auth });
    await send({ method: 'GET', url: `/api/auth/users/${userId}/`, headers: auth });
    await send({ method: 'GET', url: '/api/auth/me/', headers: auth });
    await send({
      method: 'POST',
      url: '/api/auth/token/',
      payload: { email: admin.email, password: 'wrong-password!' },
    });
    const refreshed = await send({ method: 'POST', url: '/api/auth/token/refresh/', payload: { refresh } });
    expect(refreshed.statusCode).toBe(200);

    const hashes = await db.selectFrom('app_user').select('password_hash').execute();
    const forbidden = [
      admin.password,
      newPassword,
      'wrong-password!',
      config.jwtSecret!,
      ...hashes.map((h) => h.password_hash),
      '$argon2id$',
    ];
    const logs = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(10);
    for (const secret of forbidden) {
      for (const body of responses)
        expect(body.includes(secret), `response leaks ${secret.slice(0, 12)}…`).toBe(false);
      expect(logs.includes(secret), `logs leak ${secret.slice(0, 12)}…`).toBe(false);
    }
    // Tokens are returned to their owner, but never written to the logs.
    expect(logs.includes(access)).toBe(false);
    expect(logs.includes(refresh)).toBe(false);
  });
});

describe('API key secrets', () => {
  it('appear only in the answer that creates or rotates the key: never in other responses, logs or the database', async () => {
    const admin = await createUser(db, { role: 'SUPER_ADMIN' });
    const property = await createProperty(db);
    const token = await login(app, admin.email, admin.password);
    const auth = { authorization: `Bearer ${token}` };
    const issued: string[] = [];
    const others: string[] = [];
    const send = async (options: InjectOptions, issues = false) => {
      const response = await app.inject(options);
      (issues ? issued : others).push(JSON.stringify(response.headers) + response.body);
      return response;
    };
    const created = await send(
      {
        method: 'POST',
        url: '/api/auth/api-keys/',
        headers: auth,
        payload: { name: 'Partner', scopes: ['search'], property_ids: [property.id] },
      },
      true,
    );
    const { id, secret: first } = created.json();
    const rotated = await send(
      {
        method: 'POST',
        url: `/api/auth/api-keys/${id}/rotate/`,
        headers: auth,
        payload: { grace_seconds: 60 },
      },
      true,
    );
    const second = rotated.json().secret;
    for (const key of [first, second, `${first.slice(0, -1)}0`]) {
      await send({ method: 'GET', url: '/api/properties/', headers: { authorization: `Bearer ${key}` } });
      await send({ method: 'GET', url: '/api/auth/users/', headers: { authorization: `Bearer ${key}` } });
    }
    await send({ method: 'GET', url: '/api/auth/api-keys/', headers: auth });
    await send({ method: 'GET', url: `/api/auth/api-keys/${id}/`, headers: auth });
    await send({ method: 'PATCH', url: `/api/auth/api-keys/${id}/`, headers: auth, payload: { name: 'P2' } });
    await send({ method: 'POST', url: `/api/auth/api-keys/${id}/revoke/`, headers: auth });
    await send({ method: 'GET', url: `/api/audit/?entity_id=${id}`, headers: auth });
    await send({ method: 'GET', url: '/api/properties/', headers: { authorization: `Bearer ${second}` } });

    const row = await db.selectFrom('api_key').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const stored =
      JSON.stringify(await db.selectFrom('api_key').selectAll().execute()) +
      JSON.stringify(await db.selectFrom('audit_log').selectAll().execute());
    const logs = logLines.join('\n');
    expect(issued.join()).toContain(second);
    for (const key of [first, second]) {
      // The secret part alone is what must not leak; the id part before it names the key openly.
      const secretPart = key.slice(-43);
      expect(logs.includes(secretPart), 'logs leak a key').toBe(false);
      expect(stored.includes(secretPart), 'the database keeps a key').toBe(false);
      for (const body of others) expect(body.includes(secretPart), 'a response leaks a key').toBe(false);
    }
    for (const hash of [row.secret_hash.toString('hex'), row.secret_hash.toString('base64')]) {
      for (const body of [...issued, ...others]) expect(body.includes(hash)).toBe(false);
      expect(logs.includes(hash)).toBe(false);
    }
  });
});

describe('security headers', () => {
  it('are set on API responses', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['strict-transport-security']).toBeDefined();
    expect(response.headers['x-request-id']).toBeDefined();
  });
});

describe('personal data in request logs', () => {
  it('leaves out query values that may be personal, and keeps ids and dates', async () => {
    const admin = await createUser(db, { role: 'SUPER_ADMIN' });
    const login = await app.inject({
      method: 'POST',
      url: '/api/auth/token/',
      payload: { email: admin.email, password: admin.password },
    });
    const propertyId = crypto.randomUUID();
    const before = logLines.length;
    const search = await app.inject({
      method: 'GET',
      url: `/api/reservations/?property_id=${propertyId}&guest=jane.doe%40example.test&arrival_from=2031-03-01`,
      headers: { authorization: `Bearer ${login.json().access}` },
    });
    expect(search.statusCode).toBeLessThan(500);
    const logged = logLines.slice(before).join('\n');
    expect(logged).toContain('guest=[redacted]');
    expect(logged).toContain(`property_id=${propertyId}`);
    expect(logged).toContain('arrival_from=2031-03-01');
    expect(logged).not.toContain('jane.doe');

    // A phone number searched as bare digits is personal too; a page size is not.
    const digits = logLines.length;
    await app.inject({
      method: 'GET',
      url: `/api/reservations/?property_id=${propertyId}&guest=0612345678&limit=20`,
      headers: { authorization: `Bearer ${login.json().access}` },
    });
    const loggedDigits = logLines.slice(digits).join('\n');
    expect(loggedDigits).toContain('guest=[redacted]');
    expect(loggedDigits).toContain('limit=20');
    expect(loggedDigits).not.toContain('0612345678');
  });
});

describe('anonymous requests', () => {
  it('are refused 401 before their body or query is validated, so no field details leak', async () => {
    const document = app.swagger() as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    let checked = 0;
    for (const [path, item] of Object.entries(document.paths)) {
      if (!path.startsWith('/api/')) continue;
      for (const [method, operation] of Object.entries(item)) {
        // Operations open to anonymous callers say so with an empty security list.
        if (Array.isArray(operation.security) && operation.security.length === 0) continue;
        const url = `${path.replace(/\{\w+\}/g, 'not-an-id')}?unexpected_field=1`;
        const response = await app.inject({
          method: method.toUpperCase() as 'GET',
          url,
          ...(['post', 'put', 'patch'].includes(method)
            ? { payload: { unexpected_field: 'x', email: 42 } }
            : {}),
        });
        const label = `${method.toUpperCase()} ${path} → ${response.statusCode} ${response.body.slice(0, 200)}`;
        expect(response.statusCode, label).toBe(401);
        expect(response.json().code, label).toBe('UNAUTHENTICATED');
        expect(response.json().errors, label).toBeUndefined();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});

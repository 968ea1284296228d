import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/app.ts';
import { type Simulator, startSimulator } from '../../src/modules/integrations/simulator/server.ts';
import { call, createTestContext, LOOPBACK_EGRESS, type TestContext } from '../helpers/context.ts';
import { createProperty, createRoomType, userWithToken } from '../helpers/factories.ts';
import { pmsHotel, syncNow } from './pms.helpers.ts';

let t: TestContext;
let sim: Simulator;
let superToken: string;
const acme = () =>
  JSON.parse(readFileSync(new URL('../../pms-configs/acme-2.1.json', import.meta.url), 'utf8'));

beforeAll(async () => {
  t = await createTestContext({ env: LOOPBACK_EGRESS });
  sim = await startSimulator({ baseDate: '2031-03-01', seed: 'pms-api-test' });
  superToken = (await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' })).token;
});
afterAll(async () => {
  await sim?.close();
  await t?.close();
});

const count = async (table: 'reservation' | 'ingestion_error' | 'audit_log' | 'guest' | 'sync_run') =>
  Number(
    (
      await t.db
        .selectFrom(table)
        .select(({ fn }) => fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('PMS configs', () => {
  it('serves the JSON Schema of the format to anyone', async () => {
    const res = await call(t.app, 'GET', '/api/integrations/pms/configs/schema/');
    expect(res.status).toBe(200);
    expect(res.body.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(res.body.required).toEqual(['pms_type', 'version', 'source', 'field_mappings']);
  });

  it('loads the shipped configs at start and lists them for administrators only', async () => {
    const list = await call(t.app, 'GET', '/api/integrations/pms/configs/', { token: superToken });
    expect(list.status).toBe(200);
    const shipped = list.body.results
      .filter((c: any) => c.origin === 'shipped')
      .map((c: any) => `${c.pms_type}-${c.version}`);
    expect(shipped).toEqual(expect.arrayContaining(['acme-2.1', 'acme-3.0', 'flatline-1.0', 'quickstay-3']));
    const one = await call(t.app, 'GET', '/api/integrations/pms/configs/acme/2.1/', { token: superToken });
    expect(one.body.document).toEqual(acme());
    const staff = await userWithToken(t.app, t.db, { role: 'STAFF' });
    expect((await call(t.app, 'GET', '/api/integrations/pms/configs/', { token: staff.token })).status).toBe(
      403,
    );
  });

  it('lets only a SUPER_ADMIN upload; creates, then replaces by (pms_type, version)', async () => {
    const doc = { ...acme(), pms_type: 'acme-upload', description: 'first' };
    const property = await createProperty(t.db);
    for (const role of ['STAFF', 'PROPERTY_ADMIN'] as const) {
      const user = await userWithToken(t.app, t.db, { role, propertyIds: [property.id] });
      const res = await call(t.app, 'POST', '/api/integrations/pms/configs/', {
        token: user.token,
        body: doc,
      });
      expect(res.status, role).toBe(403);
    }
    const created = await call(t.app, 'POST', '/api/integrations/pms/configs/', {
      token: superToken,
      body: doc,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ pms_type: 'acme-upload', version: '2.1', origin: 'upload' });
    const same = await call(t.app, 'POST', '/api/integrations/pms/configs/', {
      token: superToken,
      body: doc,
    });
    expect(same.status).toBe(200);
    expect(same.body.checksum).toBe(created.body.checksum);
    const replaced = await call(t.app, 'POST', '/api/integrations/pms/configs/', {
      token: superToken,
      body: { ...doc, description: 'second' },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.id).toBe(created.body.id);
    expect(replaced.body.checksum).not.toBe(created.body.checksum);
  });

  it('refuses an invalid config with every problem by JSON pointer, storing nothing', async () => {
    const doc = acme();
    doc.pms_type = 'acme-invalid';
    doc.source.pagination = { type: 'cursor' };
    doc.field_mappings.check_in.transform = { name: 'parse_date', format: 'yyyy' };
    doc.field_mappings.adults.transform = 'to_integer';
    doc.status_mappings.HOLD = 'on_hold';
    doc.validation_rules.required.push('room_number_x');
    const before = await count('audit_log');
    const res = await call(t.app, 'POST', '/api/integrations/pms/configs/', { token: superToken, body: doc });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(res.body.errors.map((e: any) => e.pointer).sort()).toEqual(
      [
        '/body/source/pagination/next_path',
        '/body/source/pagination/param',
        '/body/field_mappings/check_in/transform/format',
        '/body/field_mappings/adults/transform',
        '/body/status_mappings/HOLD',
        '/body/validation_rules/required/5',
      ].sort(),
    );
    expect(await count('audit_log')).toBe(before);
    const list = await call(t.app, 'GET', '/api/integrations/pms/configs/', { token: superToken });
    expect(list.body.results.map((c: any) => c.pms_type)).not.toContain('acme-invalid');
  });

  it('refuses a config that carries a script expression in a JSONPath', async () => {
    const doc = acme();
    doc.pms_type = 'acme-script';
    doc.field_mappings.external_id.path = "$..[?(@.constructor.constructor('return process')().exit())]";
    const res = await call(t.app, 'POST', '/api/integrations/pms/configs/', { token: superToken, body: doc });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      {
        pointer: '/body/field_mappings/external_id/path',
        message: expect.stringMatching(
          /^is not a usable JSONPath: functions, scripts and \.\. are not allowed in a filter/,
        ),
      },
    ]);
  });

  it('answers a body that is not an object with 400', async () => {
    const res = await call(t.app, 'POST', '/api/integrations/pms/configs/', {
      token: superToken,
      body: [1, 2],
    });
    expect(res.status).toBe(400);
  });

  it('previews mapped records and errors, writing nothing', async () => {
    const property = await createProperty(t.db);
    await createRoomType(t.db, property.id, { code: 'DBL' });
    const doc = acme();
    doc.validation_rules.business_rules.push({ rule: 'room_type_known' });
    const records = [
      {
        id: 1,
        state: 'BOOKED',
        arrival: '2031-05-01',
        departure: '2031-05-03',
        room: { category: 'dbl' },
        updated: '2031-01-01T00:00:00Z',
      },
      {
        id: 2,
        state: 'BOOKED',
        arrival: '2031-05-01',
        departure: '2031-05-03',
        room: { category: 'xxl' },
        updated: '2031-01-01T00:00:00Z',
      },
      {
        id: 3,
        state: 'NOPE',
        arrival: '2031-05-01',
        departure: '2031-05-03',
        updated: '2031-01-01T00:00:00Z',
      },
    ];
    const before = await Promise.all(
      (['reservation', 'ingestion_error', 'audit_log', 'guest'] as const).map(count),
    );
    const res = await call(t.app, 'POST', '/api/integrations/pms/configs/preview/', {
      token: superToken,
      body: { config: doc, records, property_id: property.id },
    });
    expect(res.status).toBe(200);
    expect(res.body.mapped).toBe(1);
    expect(res.body.failed).toBe(2);
    expect(res.body.results[0].booking).toMatchObject({ external_id: '1', room_type_code: 'DBL', adults: 1 });
    expect(res.body.results[1].error).toMatchObject({
      stage: 'business_rules',
      error_type: 'PMSBusinessRuleError',
      field: 'room_type_code',
      external_id: '2',
    });
    expect(res.body.results[2].error).toMatchObject({
      stage: 'mapping',
      error_type: 'PMSMappingError',
      field: 'status',
    });
    expect(
      await Promise.all((['reservation', 'ingestion_error', 'audit_log', 'guest'] as const).map(count)),
    ).toEqual(before);

    const bad = await call(t.app, 'POST', '/api/integrations/pms/configs/preview/', {
      token: superToken,
      body: { config: { ...doc, source: { ...doc.source, records: '$.data[?(@.x =~ /a/)]' } }, records },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].pointer).toBe('/body/config/source/records');
  });
});

describe('PMS connections', () => {
  it('validates the config, the base URL and the secrets the config needs', async () => {
    const property = await createProperty(t.db);
    const url = `/api/integrations/pms/connections/${property.id}/`;
    const body = { pms_type: 'acme', version: '2.1', base_url: sim.url, hotel_external_id: 'H1' };
    const unknown = await call(t.app, 'PUT', url, {
      token: superToken,
      body: { ...body, version: '9.9', secrets: { api_token: 'abcd' } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([
      { pointer: '/body/version', message: expect.stringMatching(/no PMS config acme 9.9/) },
    ]);
    const missing = await call(t.app, 'PUT', url, { token: superToken, body });
    expect(missing.body.errors).toEqual([
      { pointer: '/body/secrets/api_token', message: 'is required by the PMS config' },
    ]);
    const creds = await call(t.app, 'PUT', url, {
      token: superToken,
      body: { ...body, base_url: 'https://user:pw@pms.example', secrets: { api_token: 'abcd' } },
    });
    expect(creds.body.errors[0].pointer).toBe('/body/base_url');
    // The cloud metadata endpoint is never a PMS, whatever PMS_ALLOWED_NETWORKS says.
    const metadata = await call(t.app, 'PUT', url, {
      token: superToken,
      body: { ...body, base_url: 'http://169.254.169.254/latest', secrets: { api_token: 'abcd' } },
    });
    expect(metadata.status).toBe(400);
    expect(metadata.body.errors).toEqual([
      {
        pointer: '/body/base_url',
        message:
          'must not target 169.254.169.254, which PMS_ALLOWED_NETWORKS (external,loopback) does not allow',
      },
    ]);
    const short = await call(t.app, 'PUT', url, {
      token: superToken,
      body: { ...body, secrets: { api_token: 'x' } },
    });
    expect(short.status).toBe(400);
    expect(
      await t.db.selectFrom('pms_connection').selectAll().where('property_id', '=', property.id).execute(),
    ).toEqual([]);
  });

  it('is managed by the property admin of that property only', async () => {
    const mine = await createProperty(t.db);
    const other = await createProperty(t.db);
    const admin = await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [mine.id] });
    const staff = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [mine.id] });
    const body = {
      pms_type: 'flatline',
      version: '1.0',
      base_url: sim.url,
      hotel_external_id: 'H2',
      secrets: { api_key: sim.credentials.flatline },
    };
    expect(
      (
        await call(t.app, 'PUT', `/api/integrations/pms/connections/${mine.id}/`, {
          token: admin.token,
          body,
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call(t.app, 'PUT', `/api/integrations/pms/connections/${other.id}/`, {
          token: admin.token,
          body,
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await call(t.app, 'PUT', `/api/integrations/pms/connections/${mine.id}/`, {
          token: staff.token,
          body,
        })
      ).status,
    ).toBe(403);
    expect(
      (await call(t.app, 'GET', '/api/integrations/pms/connections/', { token: staff.token })).status,
    ).toBe(403);
    const list = await call(t.app, 'GET', '/api/integrations/pms/connections/', { token: admin.token });
    expect(list.body.results.map((c: any) => c.property_id)).toEqual([mine.id]);
    expect(
      (
        await call(t.app, 'POST', '/api/integrations/pms/sync/', {
          token: staff.token,
          body: { property_id: mine.id },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await call(t.app, 'POST', '/api/integrations/pms/sync/', {
          token: admin.token,
          body: { property_id: other.id },
        })
      ).status,
    ).toBe(404);
    const unconnected = await createProperty(t.db);
    const none = await call(t.app, 'POST', '/api/integrations/pms/sync/', {
      token: superToken,
      body: { property_id: unconnected.id },
    });
    expect(none.status).toBe(404);
  });

  it('queues an on-demand sync (202) that a waiting request joins (200)', async () => {
    const h = await pmsHotel(t, sim, 'acme', { bookings: 40 });
    const queued = await call(t.app, 'POST', '/api/integrations/pms/sync/', {
      token: h.token,
      body: { property_id: h.property.id },
    });
    expect(queued.status).toBe(202);
    expect(queued.body.status).toBe('queued');
    const waited = await call(t.app, 'POST', '/api/integrations/pms/sync/', {
      token: h.token,
      body: { property_id: h.property.id, wait: true },
    });
    expect(waited.status).toBe(200);
    expect(waited.body).toMatchObject({ id: queued.body.id, status: 'succeeded', created: 40 });
  });
});

describe('secrets', () => {
  let app: FastifyInstance;
  const lines: string[] = [];
  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'trace' }, stream) as unknown as FastifyBaseLogger;
    app = await buildApp({ config: t.config, db: t.db, jwtKey: t.jwtKey, logger });
    await app.ready();
  });
  afterAll(() => app?.close());

  it('are never in a response, a log line, a run, a quarantine record or the stored row', async () => {
    const secrets = ['quickstay-secret-for-log-test', 'acme-secret-for-log-test'];
    const own = await startSimulator({
      baseDate: '2031-03-01',
      credentials: { quickstay: secrets[0], acme: secrets[1] },
    });
    const bodies: string[] = [];
    const send = async (method: 'GET' | 'PUT' | 'POST', url: string, body?: unknown) => {
      const res = await call(app, method, url, { token: superToken, body });
      bodies.push(JSON.stringify(res.body));
      return res;
    };
    try {
      const hotels = [];
      for (const [dialect, secret] of [
        ['quickstay', secrets[0]],
        ['acme', secrets[1]],
      ] as const) {
        const property = await createProperty(t.db);
        for (const code of ['STD', 'DBL', 'STE']) await createRoomType(t.db, property.id, { code });
        own.defineHotel(`S${dialect}`, { bookings: 30, badRatio: 0.2 });
        const put = await send('PUT', `/api/integrations/pms/connections/${property.id}/`, {
          pms_type: dialect === 'acme' ? 'acme' : 'quickstay',
          version: dialect === 'acme' ? '2.1' : '3',
          base_url: own.url,
          hotel_external_id: `S${dialect}`,
          secrets: { [dialect === 'acme' ? 'api_token' : 'api_key']: secret },
        });
        expect(put.body.secret_names).toEqual([dialect === 'acme' ? 'api_token' : 'api_key']);
        hotels.push(property.id);
      }
      // Retries and a failure put the request URL (which carries the quickstay key) in messages and logs.
      own.injectFaults({ status: 500 }, { status: 429, retryAfter: '0' });
      for (const id of hotels)
        await send('POST', '/api/integrations/pms/sync/', { property_id: id, wait: true });
      own.injectFaults({ status: 503, times: 20 });
      const failed = await send('POST', '/api/integrations/pms/sync/', {
        property_id: hotels[0],
        wait: true,
      });
      expect(failed.body.status).toBe('failed');
      expect(failed.body.error).toContain('key=[redacted]');
      for (const id of hotels) {
        await send('GET', `/api/integrations/pms/connections/${id}/`);
        await send('GET', `/api/integrations/pms/sync-runs/?property_id=${id}`);
        await send('GET', `/api/integrations/pms/errors/?property_id=${id}&limit=100`);
        await send('GET', `/api/integrations/pms/bookings/?property_id=${id}&limit=100`);
      }
      await send('GET', '/api/integrations/pms/connections/');
      expect(lines.some((l) => l.includes('retrying a PMS request'))).toBe(true);
      const stored = await t.db
        .selectFrom('pms_connection')
        .select('secrets_ciphertext')
        .where('property_id', 'in', hotels)
        .execute();
      const audit = await t.db
        .selectFrom('audit_log')
        .select('diff')
        .where('entity_type', '=', 'pms_connection')
        .execute();
      const runs = await t.db
        .selectFrom('sync_run')
        .select(['error', 'cursor_before', 'cursor_after'])
        .execute();
      const everything = [
        ...bodies,
        ...lines,
        ...stored.map((s) => s.secrets_ciphertext!.toString('latin1')),
        JSON.stringify(audit),
        JSON.stringify(runs),
      ];
      for (const secret of secrets) {
        for (const text of everything) expect(text).not.toContain(secret);
      }
    } finally {
      await own.close();
    }
  });
});

describe('GET /api/integrations/pms/bookings/', () => {
  it('lists ingested bookings with filters and cursor pagination, scoped to the user', async () => {
    const h = await pmsHotel(t, sim, 'flatline', { bookings: 75 });
    const other = await pmsHotel(t, sim, 'acme', { bookings: 10 });
    await syncNow(t, h);
    await syncNow(t, other);
    const staff = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [h.property.id] });
    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const page = await call(t.app, 'GET', `/api/integrations/pms/bookings/?limit=20${query}`, {
        token: staff.token,
      });
      expect(page.status).toBe(200);
      seen.push(...page.body.results);
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(75);
    expect(new Set(seen.map((b) => b.id)).size).toBe(75);
    expect(new Set(seen.map((b) => b.property_id))).toEqual(new Set([h.property.id]));
    const sample = seen.find((b) => b.external_id === 'FL100000');
    const source = sim.bookings(h.hotel)[0]!;
    expect(sample).toMatchObject({
      source: 'pms:flatline',
      pms_type: 'flatline',
      status: source.status,
      check_in: source.checkIn,
      check_out: source.checkOut,
      room_type_code: source.roomType,
      room_type_id: h.roomTypes[source.roomType]!.id,
      adults: source.adults,
      total_amount: (source.amountCents / 100).toFixed(2),
      holds_inventory: !['cancelled', 'no_show'].includes(source.status),
    });
    expect(sample.confirmation_code).toMatch(/^[A-Z2-9]{12}$/);

    const cancelled = await call(
      t.app,
      'GET',
      `/api/integrations/pms/bookings/?property_id=${h.property.id}&status=cancelled&limit=500`,
      {
        token: staff.token,
      },
    );
    expect(cancelled.body.results.length).toBe(
      sim.bookings(h.hotel).filter((b) => b.status === 'cancelled').length,
    );
    expect(cancelled.body.results.every((b: any) => b.status === 'cancelled' && !b.holds_inventory)).toBe(
      true,
    );

    const future = await call(
      t.app,
      'GET',
      `/api/integrations/pms/bookings/?updated_since=2999-01-01T00:00:00Z`,
      {
        token: staff.token,
      },
    );
    expect(future.body.results).toEqual([]);
    const foreign = await call(
      t.app,
      'GET',
      `/api/integrations/pms/bookings/?property_id=${other.property.id}`,
      {
        token: staff.token,
      },
    );
    expect(foreign.status).toBe(404);
  });
});

import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as configs from '../../src/modules/integrations/config/config.repository.ts';
import type { PmsConfigDocument } from '../../src/modules/integrations/config/config.types.ts';
import { configChecksum } from '../../src/modules/integrations/config/config.validate.ts';
import { type Simulator, startSimulator } from '../../src/modules/integrations/simulator/server.ts';
import { call, createTestContext, LOOPBACK_EGRESS, type TestContext } from '../helpers/context.ts';
import { createProperty, createRoomType, unique, userWithToken } from '../helpers/factories.ts';

/**
 * Issue #17: a property admin who re-points its PMS connection at a host it controls must not
 * receive the secrets stored for the old one. Real HTTP throughout: the simulator is the PMS the
 * secrets were given for, and a second server (another origin) records whatever reaches it.
 */
let t: TestContext;
let sim: Simulator;
let collector: Awaited<ReturnType<typeof startCollector>>;
const OLD_SECRET = 'stored-secret-for-the-simulator';

async function startCollector() {
  const received: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  const server = createServer((request, response) => {
    received.push({ url: request.url ?? '', headers: request.headers });
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"data": []}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    /** Everything that reached it, as text, to search for a secret. */
    seen: () => JSON.stringify(received),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const acme = (): PmsConfigDocument =>
  JSON.parse(readFileSync(new URL('../../pms-configs/acme-2.1.json', import.meta.url), 'utf8'));

beforeAll(async () => {
  t = await createTestContext({ env: LOOPBACK_EGRESS });
  sim = await startSimulator({
    baseDate: '2031-03-01',
    seed: 'pms-secrets-origin',
    credentials: { acme: OLD_SECRET, acme3: OLD_SECRET },
  });
  collector = await startCollector();
});
afterAll(async () => {
  await collector?.close();
  await sim?.close();
  await t?.close();
});

/** A hotel connected to the simulator by its own PROPERTY_ADMIN, with the secret stored. */
async function connectedHotel() {
  const property = await createProperty(t.db);
  for (const code of ['STD', 'DBL', 'STE'])
    await createRoomType(t.db, property.id, { code, totalUnits: 500 });
  const admin = await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [property.id] });
  const hotel = unique('H');
  sim.defineHotel(hotel, { bookings: 12, badRatio: 0 });
  const url = `/api/integrations/pms/connections/${property.id}/`;
  const body = { pms_type: 'acme', version: '2.1', base_url: sim.url, hotel_external_id: hotel };
  const created = await call(t.app, 'PUT', url, {
    token: admin.token,
    body: { ...body, secrets: { api_token: OLD_SECRET } },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const put = (changes: Record<string, unknown>) =>
    call(t.app, 'PUT', url, { token: admin.token, body: { ...body, ...changes } });
  const sync = async () => {
    const res = await call(t.app, 'POST', '/api/integrations/pms/sync/', {
      token: admin.token,
      body: { property_id: property.id, wait: true },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  return { property, admin, hotel, body, put, sync };
}

const connectionRow = (propertyId: string) =>
  t.db
    .selectFrom('pms_connection')
    .selectAll()
    .where('property_id', '=', propertyId)
    .executeTakeFirstOrThrow();
const auditCount = async (propertyId: string) =>
  (await t.db.selectFrom('audit_log').select('id').where('property_id', '=', propertyId).execute()).length;

describe('stored PMS secrets never leave for a new origin without being given again', () => {
  it('refuses to move base_url to another origin without the secrets, changing nothing', async () => {
    const h = await connectedHotel();
    const before = await connectionRow(h.property.id);
    const audits = await auditCount(h.property.id);
    const simPort = new URL(sim.url).port;
    for (const base_url of [
      collector.url, // another port
      `http://localhost:${simPort}`, // the same server under another host name
      `https://127.0.0.1:${simPort}`, // another scheme
    ]) {
      const res = await h.put({ base_url });
      expect(res.status, base_url).toBe(400);
      expect(res.body.code).toBe('SECRETS_REQUIRED');
      expect(res.body.detail).toContain(`from ${new URL(sim.url).origin} to ${new URL(base_url).origin}`);
      expect(res.body.errors).toEqual([
        { pointer: '/body/secrets', message: expect.stringMatching(/^is required: base_url moves from/) },
      ]);
    }
    // Nothing moved: the row (secrets, cursor, updated_at) and the audit log are as they were.
    expect(await connectionRow(h.property.id)).toEqual(before);
    expect(await auditCount(h.property.id)).toBe(audits);
    const run = await h.sync();
    expect(run).toMatchObject({ status: 'succeeded', created: 12 });
    expect(collector.seen()).not.toContain(OLD_SECRET);
  });

  it('accepts the new origin with its secrets given again: only the new secret goes there', async () => {
    const h = await connectedHotel();
    await h.sync();
    const newSecret = `secret-for-the-collector-${h.hotel}`;
    const res = await h.put({ base_url: collector.url, secrets: { api_token: newSecret } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ base_url: collector.url, secret_names: ['api_token'], cursor: null });
    const arrived = collector.received.length;
    const run = await h.sync();
    expect(run.status).toBe('succeeded');
    const requests = collector.received.slice(arrived);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => r.headers.authorization === `Bearer ${newSecret}`)).toBe(true);
    expect(requests[0]!.url).toMatch(new RegExp(`^/v2/hotels/${h.hotel}/bookings\\?`));
    expect(collector.seen()).not.toContain(OLD_SECRET);
  });

  it('keeps the secrets for a change within the origin: a path, a config version', async () => {
    const h = await connectedHotel();
    const samePath = await h.put({ base_url: `${sim.url}/` });
    expect(samePath.status, JSON.stringify(samePath.body)).toBe(200);
    expect(samePath.body.secret_names).toEqual(['api_token']);
    // The simulator answers only its credential: a succeeded run proves the stored secret was kept.
    expect(await h.sync()).toMatchObject({ status: 'succeeded', created: 12 });
    const otherConfig = await h.put({ base_url: `${sim.url}/`, version: '3.0' });
    expect(otherConfig.status, JSON.stringify(otherConfig.body)).toBe(200);
    expect(await h.sync()).toMatchObject({ status: 'succeeded', fetched: 12 });
    expect(collector.seen()).not.toContain(OLD_SECRET);
  });

  it('a config whose request path leaves base_url is refused, and never sends a request there', async () => {
    const h = await connectedHotel();
    const superAdmin = await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' });
    const escaping = acme();
    escaping.version = unique('esc');
    escaping.source.request.path = `/http://127.0.0.1:${collector.port}/v2/hotels/{hotel.external_id}/bookings`;
    const upload = await call(t.app, 'POST', '/api/integrations/pms/configs/', {
      token: superAdmin.token,
      body: escaping,
    });
    expect(upload.status).toBe(400);
    expect(upload.body.errors).toEqual([
      {
        pointer: '/body/source/request/path',
        message: expect.stringMatching(/^must be a path under the connection's base_url/),
      },
    ]);

    // Stored without the lint (as one stored before it existed would be): the connector refuses it.
    await t.db
      .transaction()
      .execute((tx) => configs.upsertConfig(tx, escaping, configChecksum(escaping), 'upload', null));
    const moved = await h.put({ version: escaping.version });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    const arrived = collector.received.length;
    const run = await h.sync();
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(
      new RegExp(
        `request path leads to http://127\\.0\\.0\\.1:${collector.port}, outside the connection's base_url`,
      ),
    );
    expect(collector.received.length).toBe(arrived);
    expect(collector.seen()).not.toContain(OLD_SECRET);
  });
});

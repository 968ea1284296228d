import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/database.ts';
import {
  type Fault,
  type Simulator,
  startSimulator,
} from '../../src/modules/integrations/simulator/server.ts';
import { createTestDatabase, LOOPBACK_EGRESS } from '../helpers/context.ts';
import { createProperty, createUser } from '../helpers/factories.ts';
import {
  callProcess,
  loginOverHttp,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.ts';

/**
 * A PMS that misbehaves (hangs past the timeout, answers garbage or JSON of the wrong shape, drops
 * the connection in the middle of a page, sends 10 MB of junk) against a real `pms start` process:
 * the run ends `failed` (or `partial` when only records are bad) with the reason recorded, a failed
 * run leaves the cursor where it was so the next run fetches what was missed, and the process stays
 * healthy and keeps serving other requests throughout.
 */

const PMS_TYPE = 'faultacme';
/** Two versions of one config: a short timeout for the hanging PMS, a roomy one for the rest. */
const SHORT_TIMEOUT = { version: '1.0', timeoutMs: 500 };
const ROOMY_TIMEOUT = { version: '1.1', timeoutMs: 15_000 };
const TIMEOUT_MS = SHORT_TIMEOUT.timeoutMs;
const ATTEMPTS = 2;
const BOOKINGS = 12;

let database: { url: string; drop: () => Promise<void> };
let db: Db;
let api: ServerProcess;
let simulator: Simulator;
let proxy: FaultProxy;
let token: string;
let hotelCount = 0;

/**
 * Stands between the API and the simulator: passes every request through, or (when `dropPages`
 * is on) cuts the connection half-way through the body of any page after the first.
 */
interface FaultProxy {
  url: string;
  dropPages: boolean;
  close(): Promise<void>;
}

async function startProxy(target: string): Promise<FaultProxy> {
  const state = { dropPages: false };
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', target);
    const upstream = await fetch(url, {
      headers: { authorization: String(request.headers.authorization ?? '') },
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    const page = Number(url.searchParams.get('page') ?? '1');
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const retryAfter = upstream.headers.get('retry-after');
    if (retryAfter) headers['retry-after'] = retryAfter;
    if (state.dropPages && page >= 2) {
      response.writeHead(upstream.status, { ...headers, 'content-length': String(body.length) });
      response.write(body.subarray(0, Math.floor(body.length / 2)), () => response.socket?.destroy());
      return;
    }
    response.writeHead(upstream.status, headers).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get dropPages() {
      return state.dropPages;
    },
    set dropPages(value: boolean) {
      state.dropPages = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An authenticated call to the API process, as the super administrator. */
const callApi = (method: string, path: string, body?: unknown) => callProcess(api, token, method, path, body);

/**
 * The shipped ACME 2.1 config with small pages and few retries, so faults show fast. Only the
 * timeout test gets the short timeout: 10 MB through a busy machine may take longer than that, and
 * a retried attempt would then meet a PMS that is well again.
 */
function faultConfig({ version, timeoutMs }: { version: string; timeoutMs: number }) {
  const shipped = JSON.parse(
    readFileSync(new URL('../../pms-configs/acme-2.1.json', import.meta.url), 'utf8'),
  );
  const { $schema: _, ...document } = shipped;
  document.pms_type = PMS_TYPE;
  document.version = version;
  document.source.request.query.per_page = '5';
  document.source.request.timeout_ms = timeoutMs;
  document.source.retry = { max_attempts: ATTEMPTS, backoff_ms: 20, on_status: [429, 500, 502, 503, 504] };
  return document;
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ connectionString: database.url, max: 2 });
  const admin = await createUser(db, { role: 'SUPER_ADMIN' });
  simulator = await startSimulator({ dialects: ['acme'], bookings: BOOKINGS, seed: 'pms-faults' });
  proxy = await startProxy(simulator.url);
  api = await startServerProcess({
    env: {
      DATABASE_URL: database.url,
      LOGIN_RATE_LIMIT_PER_MINUTE: '1000',
      KAFKA_BROKERS: '',
      NATS_URL: '',
      // The simulated PMS and its faulty proxy listen on 127.0.0.1.
      ...LOOPBACK_EGRESS,
    },
  });
  token = await loginOverHttp(api.url, admin);
  for (const variant of [SHORT_TIMEOUT, ROOMY_TIMEOUT]) {
    const uploaded = await callApi('POST', '/api/integrations/pms/configs/', faultConfig(variant));
    if (uploaded.status !== 201)
      throw new Error(`config upload: ${uploaded.status} ${JSON.stringify(uploaded.body)}`);
  }
});

afterAll(async () => {
  await api?.kill('SIGKILL');
  await proxy?.close();
  await simulator?.close();
  await db?.destroy();
  await database?.drop();
});

/** A fresh hotel connected through the proxy, synced once so it has a cursor, then changed at the PMS. */
async function connectedHotel(changed: number, config = ROOMY_TIMEOUT) {
  const property = await createProperty(db);
  const hotel = `FAULT${++hotelCount}`;
  const put = await callApi('PUT', `/api/integrations/pms/connections/${property.id}/`, {
    pms_type: PMS_TYPE,
    version: config.version,
    base_url: proxy.url,
    hotel_external_id: hotel,
    secrets: { api_token: simulator.credentials.acme },
  });
  expect(put.status, JSON.stringify(put.body)).toBe(201);
  const first = await sync(property.id);
  expect(first.status, JSON.stringify(first)).toBe('succeeded');
  expect(first.fetched).toBe(BOOKINGS);
  const cursor = await cursorOf(property.id);
  expect(cursor).not.toBeNull();
  simulator.mutate(hotel, changed);
  return { propertyId: property.id, hotel, cursor };
}

async function sync(propertyId: string) {
  const res = await callApi('POST', '/api/integrations/pms/sync/', { property_id: propertyId, wait: true });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as {
    id: string;
    status: string;
    error: string | null;
    fetched: number;
    quarantined: number;
    cursor_before: string | null;
    cursor_after: string | null;
  };
}

async function cursorOf(propertyId: string): Promise<string | null> {
  const res = await callApi('GET', `/api/integrations/pms/connections/${propertyId}/`);
  expect(res.status).toBe(200);
  return res.body.cursor;
}

/** The process is up and serves: health, readiness and an ordinary authenticated read. */
async function expectHealthy() {
  expect(api.child.exitCode, api.output()).toBeNull();
  expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
  expect((await callApi('GET', '/api/properties/?limit=1')).status).toBe(200);
}

/**
 * Runs a sync under a fault: it must fail with a reason matching `reason`, keep the cursor, leave
 * the process healthy (also while the run is going on), and the next run must fetch what was missed.
 */
async function expectFailedRun(
  hotel: { propertyId: string; hotel: string; cursor: string | null },
  reason: RegExp,
  changed: number,
) {
  const running = sync(hotel.propertyId);
  // Served while the run waits on the PMS: the run does not block the process.
  await expectHealthy();
  const run = await running;
  expect(run.status, JSON.stringify(run)).toBe('failed');
  expect(run.error).toMatch(reason);
  expect(run.cursor_before).toBe(hotel.cursor);
  expect(run.cursor_after).toBe(hotel.cursor);
  expect(await cursorOf(hotel.propertyId)).toBe(hotel.cursor);
  await expectHealthy();

  const recovered = await sync(hotel.propertyId);
  expect(recovered.status, JSON.stringify(recovered)).toBe('succeeded');
  expect(recovered.fetched, 'the next run fetches the changes the failed run missed').toBe(changed);
  expect(await cursorOf(hotel.propertyId)).not.toBe(hotel.cursor);
}

/**
 * A fault for every attempt of the run's first request, so the next run finds the PMS well again:
 * timeouts and dropped connections are retried, a 200 with an unreadable body is not.
 */
function fault(hotel: string, fields: Omit<Fault, 'hotel' | 'times'>): Fault {
  return { hotel, times: fields.hangMs ? ATTEMPTS : 1, ...fields };
}

describe('a misbehaving PMS', () => {
  it('that hangs past the timeout: the run fails with no HTTP answer (as for a closed port), the cursor stays', async () => {
    const hotel = await connectedHotel(3, SHORT_TIMEOUT);
    simulator.injectFaults(fault(hotel.hotel, { hangMs: TIMEOUT_MS * 4 }));
    await expectFailedRun(
      hotel,
      new RegExp(
        `: no HTTP answer \\(the connection failed, timed out or did not speak HTTP\\) \\(after ${ATTEMPTS} attempts\\)$`,
      ),
      3,
    );
  });

  it('that answers with a body that is not JSON: the run fails saying so', async () => {
    const hotel = await connectedHotel(3);
    simulator.injectFaults(fault(hotel.hotel, { body: '<html><body>502 Bad Gateway</body></html>' }));
    await expectFailedRun(hotel, /not JSON/, 3);
  });

  it('that answers JSON that is not an object or a list: the run fails saying so', async () => {
    const hotel = await connectedHotel(3);
    simulator.injectFaults(fault(hotel.hotel, { body: '"maintenance"' }));
    await expectFailedRun(hotel, /not an object or a list/, 3);
  });

  it('that answers records of the wrong shape: they are quarantined with their reason, the run is partial', async () => {
    const hotel = await connectedHotel(3);
    const junk = [42, 'text', null, { id: 'x' }, { data: [] }];
    simulator.injectFaults({ hotel: hotel.hotel, times: 1, body: JSON.stringify({ data: junk }) });
    const run = await sync(hotel.propertyId);
    expect(run.status, JSON.stringify(run)).toBe('partial');
    expect(run.quarantined).toBe(junk.length);
    const errors = await callApi('GET', `/api/integrations/pms/errors/?sync_run_id=${run.id}&limit=100`);
    expect(errors.status).toBe(200);
    expect(errors.body.results).toHaveLength(junk.length);
    for (const error of errors.body.results) {
      expect(error.error_type).toBe('PMSDataValidationError');
      expect(error.message.length).toBeGreaterThan(0);
    }
    await expectHealthy();
  });

  it('that drops the connection in the middle of a page: the run fails, the pages before it are not committed', async () => {
    // Seven changes: a full first page of five, then the second page is cut off half-way.
    const hotel = await connectedHotel(7);
    const before = await db
      .selectFrom('reservation')
      .select(['id', 'version'])
      .where('property_id', '=', hotel.propertyId)
      .orderBy('id')
      .execute();
    proxy.dropPages = true;
    const running = sync(hotel.propertyId);
    await expectHealthy();
    const run = await running;
    proxy.dropPages = false;
    expect(run.status, JSON.stringify(run)).toBe('failed');
    expect(run.error).toMatch(/page=2/);
    expect(run.error).toMatch(new RegExp(`after ${ATTEMPTS} attempts`));
    expect(await cursorOf(hotel.propertyId)).toBe(hotel.cursor);
    const after = await db
      .selectFrom('reservation')
      .select(['id', 'version'])
      .where('property_id', '=', hotel.propertyId)
      .orderBy('id')
      .execute();
    expect(after, 'a failed run leaves the ledger as it was').toEqual(before);
    await expectHealthy();
    const recovered = await sync(hotel.propertyId);
    expect(recovered.status).toBe('succeeded');
    expect(recovered.fetched).toBe(7);
  });

  it('that sends 10 MB of junk: the run fails, the process stays healthy', async () => {
    const hotel = await connectedHotel(3);
    const junk = randomBytes(7_500_000).toString('base64');
    expect(junk.length).toBeGreaterThanOrEqual(10_000_000);
    simulator.injectFaults(fault(hotel.hotel, { body: junk }));
    await expectFailedRun(hotel, /not JSON/, 3);
    // The error message names the problem without echoing the junk.
    const runs = await callApi(
      'GET',
      `/api/integrations/pms/sync-runs/?property_id=${hotel.propertyId}&limit=10`,
    );
    for (const run of runs.body.results) expect((run.error ?? '').length).toBeLessThan(2000);
  });

  it('that answers JSON without the list of records: the run fails naming the missing list', async () => {
    // Each of these matches no record through `$.data[*]`, exactly like an empty last page would.
    for (const body of ['{"unexpected": true}', '{"data": "oops"}', '{"data": null}', '[]', '[1, 2]']) {
      const hotel = await connectedHotel(3);
      simulator.injectFaults(fault(hotel.hotel, { body }));
      await expectFailedRun(hotel, /without a list at \$\.data/, 3);
    }
  });

  it('that answers records without a single field: they are quarantined, the run is partial', async () => {
    const hotel = await connectedHotel(3);
    simulator.injectFaults({ hotel: hotel.hotel, times: 1, body: JSON.stringify({ data: { only: 7 } }) });
    const run = await sync(hotel.propertyId);
    expect(run.status, JSON.stringify(run)).toBe('partial');
    expect(run.quarantined).toBe(1);
    await expectHealthy();
  });

  it('keeps the process up through all of it', async () => {
    await expectHealthy();
    expect(api.output()).not.toMatch(/unhandled|uncaught/i);
  });
});

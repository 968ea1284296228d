import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/database.ts';
import { type Simulator, startSimulator } from '../../src/modules/integrations/simulator/server.ts';
import { inventoryProblems } from '../booking/invariants.ts';
import { createTestDatabase, LOOPBACK_EGRESS } from '../helpers/context.ts';
import { createProperty, createUser } from '../helpers/factories.ts';
import {
  callProcess,
  loginOverHttp,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.ts';

/**
 * A PMS sync run whose API process is killed (`SIGKILL`) while it commits a batch: the batch rolls
 * back, the run is failed as abandoned once its heartbeat stops (not after a fixed ten minutes,
 * and without a worker's sweep), the hotel can sync again at once, and the next run brings exactly
 * the PMS's bookings, none twice. A live run that waits on a slow PMS keeps beating and is never
 * taken for abandoned.
 */
const BOOKINGS = 6_000;
const ABANDONED_SECONDS = 4;

let database: { url: string; drop: () => Promise<void> };
let db: Db;
let simulator: Simulator;
let api: ServerProcess;
let adminLogin: { email: string; password: string };
let token: string;

async function startApi() {
  api = await startServerProcess({
    env: {
      DATABASE_URL: database.url,
      PMS_SYNC_ABANDONED_SECONDS: String(ABANDONED_SECONDS),
      KAFKA_BROKERS: '',
      NATS_URL: '',
      // The simulated PMS listens on 127.0.0.1.
      ...LOOPBACK_EGRESS,
    },
  });
  token = await loginOverHttp(api.url, adminLogin);
}

const callApi = (method: string, path: string, body?: unknown) => callProcess(api, token, method, path, body);

interface Run {
  id: string;
  status: string;
  error: string | null;
  fetched: number;
  created: number;
  unchanged: number;
  cursor_after: string | null;
}

async function sync(propertyId: string, wait: boolean): Promise<Run> {
  const res = await callApi('POST', '/api/integrations/pms/sync/', { property_id: propertyId, wait });
  expect([200, 202], JSON.stringify(res.body)).toContain(res.status);
  return res.body as Run;
}

async function runOf(id: string): Promise<Run> {
  const res = await callApi('GET', `/api/integrations/pms/sync-runs/${id}/`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Run;
}

async function connectedHotel(hotel: string, bookings: number) {
  simulator.defineHotel(hotel, { bookings, badRatio: 0 });
  const property = await createProperty(db);
  const put = await callApi('PUT', `/api/integrations/pms/connections/${property.id}/`, {
    pms_type: 'acme',
    version: '2.1',
    base_url: simulator.url,
    hotel_external_id: hotel,
    secrets: { api_token: simulator.credentials.acme },
  });
  expect(put.status, JSON.stringify(put.body)).toBe(201);
  return property.id;
}

async function importedBookings(propertyId: string) {
  const row = await db
    .selectFrom('reservation')
    .select([
      sql<number>`count(*)::int`.as('rows'),
      sql<number>`count(DISTINCT external_id)::int`.as('distinct_ids'),
    ])
    .where('property_id', '=', propertyId)
    .where('source', 'like', 'pms:%')
    .executeTakeFirstOrThrow();
  return row;
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ connectionString: database.url, max: 2 });
  const admin = await createUser(db, { role: 'SUPER_ADMIN' });
  adminLogin = { email: admin.email, password: admin.password };
  simulator = await startSimulator({ dialects: ['acme'], bookings: 10, seed: 'sync-kill' });
  await startApi();
});

afterAll(async () => {
  await api?.kill('SIGKILL');
  await simulator?.close();
  await db?.destroy();
  await database?.drop();
});

describe('the API killed while a PMS sync run commits', () => {
  it('fails the run as abandoned, lets the hotel sync again at once, and ends with every booking exactly once', async () => {
    const propertyId = await connectedHotel('KILLED', BOOKINGS);
    const started = await sync(propertyId, false);

    // Kill the process the moment one of its connections is inside the batch's transaction.
    let inBatch = false;
    for (let i = 0; i < 1_500 && !inBatch; i++) {
      const busy = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'pms-api'
          AND xact_start IS NOT NULL AND query ILIKE '%reservation%'`.execute(db);
      inBatch = busy.rows[0]!.n > 0;
      if (!inBatch) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(inBatch, 'the run reached a batch transaction').toBe(true);
    await api.kill('SIGKILL');

    const left = await db
      .selectFrom('sync_run')
      .select(['status', 'fetched'])
      .where('id', '=', started.id)
      .executeTakeFirstOrThrow();
    expect(left.status).toBe('running');
    // Whatever the batch had written went with its transaction; the cursor never moved.
    expect((await importedBookings(propertyId)).rows).toBe(left.fetched);
    const connection = await db
      .selectFrom('pms_connection')
      .select('cursor')
      .where('property_id', '=', propertyId)
      .executeTakeFirstOrThrow();
    expect(connection.cursor).toBeNull();

    // A new process: asking to sync either waits on the dead run until it falls silent, or finds it
    // silent already; either way the dead run ends failed as abandoned, and a new run succeeds.
    await startApi();
    let run = await sync(propertyId, true);
    if (run.id === started.id) run = await sync(propertyId, true);
    const abandoned = await runOf(started.id);
    expect(abandoned.status).toBe('failed');
    expect(abandoned.error).toMatch(/abandoned/);

    expect(run.id).not.toBe(started.id);
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    expect(run.fetched).toBe(BOOKINGS);
    expect(run.created + run.unchanged).toBe(BOOKINGS);
    expect(run.cursor_after).not.toBeNull();
    expect(await importedBookings(propertyId)).toEqual({ rows: BOOKINGS, distinct_ids: BOOKINGS });
    expect(await inventoryProblems(db, propertyId)).toEqual([]);
  });

  it('keeps a live run that waits on a slow PMS: it beats, and a second request waits for it', async () => {
    const propertyId = await connectedHotel('SLOW', 20);
    // Each page takes longer than the silence after which a run counts as abandoned.
    simulator.injectFaults({ hotel: 'SLOW', hangMs: (ABANDONED_SECONDS + 2) * 1000, times: 1 });
    const first = await sync(propertyId, false);
    const joined = await sync(propertyId, true);
    expect(joined.id).toBe(first.id);
    expect(joined.status, JSON.stringify(joined)).toBe('succeeded');
    expect(joined.fetched).toBe(20);
  });
});

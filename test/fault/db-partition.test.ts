import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/database.ts';
import { inventoryProblems } from '../booking/invariants.ts';
import { createTestDatabase } from '../helpers/context.ts';
import { createDefaultRatePlan, createProperty, createRoomType, createUser } from '../helpers/factories.ts';
import { type PgProxy, startPgProxy } from '../helpers/pg-proxy.ts';
import { loginOverHttp, type ServerProcess, startServerProcess } from '../helpers/server-process.ts';

/**
 * One API process loses its network to PostgreSQL in the middle of a booking, right after its
 * transaction locked the nights: nothing it sends arrives, nothing arrives back, no connection
 * closes. Another API process, whose network is fine, books the same nights meanwhile.
 *
 * - The server ends the cut-off transaction after DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS, which
 *   releases the nights: the healthy process's booking gets them (without the limit it would fail
 *   with INVENTORY_BUSY after LOCK_TIMEOUT_MS, and every later one with it, for as long as the
 *   partition lasts).
 * - The cut-off process stops waiting after DATABASE_STATEMENT_TIMEOUT_MS plus 5 s and answers
 *   503 (without the limit it would wait about 15 minutes, as long as TCP retransmits).
 * - Its booking did not happen; retried with the same Idempotency-Key once the network is back,
 *   it is booked once. Calendar and ledger agree throughout.
 */
const NIGHTS = { check_in: '2031-09-01', check_out: '2031-09-04' };

let database: { url: string; drop: () => Promise<void> };
let db: Db;
let proxy: PgProxy;
let partitioned: ServerProcess;
let healthy: ServerProcess;
let token: string;
let propertyId: string;
let roomTypeId: string;

const limits = {
  // Each session of the API ends a transaction left waiting this long.
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '1000',
  // Statements must be allowed longer than a lock wait.
  LOCK_TIMEOUT_MS: '2000',
  DATABASE_STATEMENT_TIMEOUT_MS: '3000',
};

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ connectionString: database.url, max: 2 });
  const target = new URL(database.url);
  proxy = await startPgProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const admin = await createUser(db, { role: 'SUPER_ADMIN' });
  const property = await createProperty(db);
  propertyId = property.id;
  roomTypeId = (await createRoomType(db, property.id, { totalUnits: 2 })).id;
  await createDefaultRatePlan(db, property.id, { start: '2031-09-01', end: '2031-09-10' });
  [partitioned, healthy] = await Promise.all([
    startServerProcess({ env: { DATABASE_URL: proxy.urlFor(database.url), ...limits } }),
    startServerProcess({ env: { DATABASE_URL: database.url, ...limits } }),
  ]);
  token = await loginOverHttp(healthy.url, admin);
  const preload = await fetch(`${healthy.url}/api/inventory/preload/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ property_id: propertyId, start_date: '2031-09-01', end_date: '2031-09-10' }),
  });
  expect(preload.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await partitioned?.kill('SIGKILL');
  await healthy?.kill('SIGKILL');
  await proxy?.close();
  await db?.destroy();
  await database?.drop();
});

async function book(server: ServerProcess, key: string) {
  const response = await fetch(`${server.url}/api/reservations/create/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': key },
    body: JSON.stringify({
      property_id: propertyId,
      ...NIGHTS,
      guest: { full_name: `Guest ${key}`, email: `${key}@example.test` },
      rooms: [{ room_type_id: roomTypeId }],
    }),
    // Far beyond the API's own limit (3 s + 5 s): a hang fails the test instead of stalling it.
    signal: AbortSignal.timeout(40_000),
  });
  const body = (await response.json()) as { code?: string; id?: string };
  return {
    status: response.status,
    code: body.code,
    retryAfter: response.headers.get('retry-after'),
    at: performance.now(),
  };
}

const bookedUnits = async () =>
  (
    await db
      .selectFrom('inventory_calendar')
      .select('booked_units')
      .where('room_type_id', '=', roomTypeId)
      .where('date', '>=', NIGHTS.check_in)
      .where('date', '<', NIGHTS.check_out)
      .orderBy('date')
      .execute()
  ).map((row) => row.booked_units);

/** A fail-fast lock on the stay's nights from outside the API: true when another session holds them. */
async function nightsLocked(): Promise<boolean> {
  try {
    await db.transaction().execute(async (tx) => {
      await sql`SELECT 1 FROM inventory_calendar WHERE room_type_id = ${roomTypeId}
        AND date >= ${NIGHTS.check_in} AND date < ${NIGHTS.check_out} FOR UPDATE NOWAIT`.execute(tx);
    });
    return false;
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') return true;
    throw error;
  }
}

describe('a network partition between one API process and PostgreSQL, in the middle of a booking', () => {
  it('frees the locked nights for the other processes, answers 503 instead of hanging, and books nothing twice', async () => {
    const cut = proxy.freezeInTransactionAfter('FOR UPDATE');
    const first = book(partitioned, 'partition-first');
    const answeredFirst = first.then((answer) => {
      throw new Error(`the booking answered ${answer.status} before its transaction was cut off`);
    });
    answeredFirst.catch(() => {});
    await Promise.race([cut, answeredFirst]);
    // The cut-off transaction holds the nights.
    expect(await nightsLocked()).toBe(true);

    // The healthy process books the same nights: it waits for the lock until the server ends the
    // cut-off transaction, well inside its own lock wait.
    const second = await book(healthy, 'partition-second');
    expect(second.status).toBe(201);
    expect(await nightsLocked()).toBe(false);

    const answer = await first;
    expect(answer.status).toBe(503);
    expect(answer.code).toBe('SERVICE_UNAVAILABLE');
    expect(Number(answer.retryAfter)).toBeGreaterThan(0);
    expect(answer.at).toBeGreaterThan(second.at);
    // Only the healthy process's booking is there.
    expect(await bookedUnits()).toEqual([1, 1, 1]);
    expect(await inventoryProblems(db, propertyId)).toEqual([]);

    // The network comes back: the cut-off process serves again by itself, and the refused booking,
    // retried with its key, is booked once.
    proxy.thaw();
    const retried = await book(partitioned, 'partition-first');
    expect(retried.status).toBe(201);
    const replayed = await book(partitioned, 'partition-first');
    expect(replayed.status).toBe(201);
    expect(await bookedUnits()).toEqual([2, 2, 2]);
    expect(await inventoryProblems(db, propertyId)).toEqual([]);
    expect(partitioned.child.exitCode).toBeNull();
  }, 60_000);
});

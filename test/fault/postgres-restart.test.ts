import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/database.ts';
import {
  bootEmbeddedPostgres,
  type EmbeddedServer,
  ensureDatabase,
  freePort,
} from '../../src/db/embedded.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { inventoryProblems } from '../booking/invariants.ts';
import { createDefaultRatePlan, createProperty, createRoomType, createUser } from '../helpers/factories.ts';
import { loginOverHttp, type ServerProcess, startServerProcess } from '../helpers/server-process.ts';

/**
 * PostgreSQL restarts under the API: while it is down the API answers 503 with Retry-After (never a
 * 500, never a hang), and it recovers by itself once the database is back.
 */
let dataDir: string;
let pgPort: number;
let postgres: EmbeddedServer;
let server: ServerProcess;
let databaseUrl: string;
let token: string;

async function bootPostgres() {
  return bootEmbeddedPostgres({ dataDir, port: pgPort });
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'pms-fault-pg-'));
  chmodSync(dataDir, 0o755);
  pgPort = await freePort();
  postgres = await bootPostgres();
  databaseUrl = await ensureDatabase(postgres.adminUrl, 'pms');
  const db = createDb({ connectionString: databaseUrl, max: 2 });
  await migrateToLatest(db);
  const admin = await createUser(db, { role: 'SUPER_ADMIN' });
  await db.destroy();
  server = await startServerProcess({ env: { DATABASE_URL: databaseUrl } });
  token = await loginOverHttp(server.url, admin);
});

afterAll(async () => {
  await server?.kill('SIGKILL');
  await postgres?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function me() {
  const response = await fetch(`${server.url}/api/auth/me/`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: await response.json(),
  };
}

describe('PostgreSQL restart during load', () => {
  it('answers 503 with Retry-After while the database is down, then recovers by itself', async () => {
    expect((await me()).status).toBe(200);

    await postgres.stop();
    const whileDown = await Promise.all(Array.from({ length: 16 }, () => me()));
    for (const response of whileDown) {
      expect(response.status).toBe(503);
      expect(response.body.code).toBe('SERVICE_UNAVAILABLE');
      expect(Number(response.retryAfter)).toBeGreaterThan(0);
    }
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    postgres = await bootPostgres();
    // The pool reconnects on its own: poll (bounded) until requests succeed again.
    let recovered = false;
    for (let attempt = 0; attempt < 100 && !recovered; attempt++) {
      recovered = (await me()).status === 200;
      if (!recovered) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(recovered).toBe(true);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  });
});

interface BookingAttempt {
  key: string;
  email: string;
  body: string;
  status?: number;
  code?: string;
}

async function book(attempt: BookingAttempt) {
  const response = await fetch(`${server.url}/api/reservations/create/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      'idempotency-key': attempt.key,
    },
    body: attempt.body,
  });
  const body = (await response.json()) as { code?: string };
  return { status: response.status, code: body.code };
}

/** A property of its own per load, so each load's bookings are counted apart. */
async function freshRoomType(): Promise<{ propertyId: string; roomTypeId: string }> {
  const db = createDb({ connectionString: databaseUrl, max: 2 });
  let property: { id: string };
  let roomType: { id: string };
  try {
    property = await createProperty(db);
    roomType = await createRoomType(db, property.id, { totalUnits: 12 });
    await createDefaultRatePlan(db, property.id, { start: '2031-05-01', end: '2031-05-10' });
  } finally {
    await db.destroy();
  }
  const preload = await fetch(`${server.url}/api/inventory/preload/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ property_id: property.id, start_date: '2031-05-01', end_date: '2031-05-10' }),
  });
  expect(preload.status).toBe(200);
  return { propertyId: property.id, roomTypeId: roomType.id };
}

/**
 * 240 bookings from 12 clients over 8 nights of 12 units; the database goes away after 60 answers
 * and comes back after 60 more. Then every request refused by the outage is retried with its key,
 * and the database must hold exactly the bookings answered 201, with a consistent calendar.
 */
async function bookingLoadAcrossOutage(name: string, outage: { down(): Promise<void>; up(): Promise<void> }) {
  const { propertyId: property, roomTypeId: roomType } = await freshRoomType();
  const attempts: BookingAttempt[] = Array.from({ length: 240 }, (_, i) => {
    const night = 1 + (i % 8);
    const email = `${name}-${i}@example.test`;
    return {
      key: `${name}-${i}`,
      email,
      body: JSON.stringify({
        property_id: property,
        check_in: `2031-05-0${night}`,
        check_out: `2031-05-0${night + 1}`,
        guest: { full_name: `Guest ${i}`, email },
        rooms: [{ room_type_id: roomType }],
      }),
    };
  });
  let answered = 0;
  const load = { phase: 'up' as 'up' | 'stopping' | 'down' | 'starting' | 'back' };
  let restart: Promise<void> = Promise.resolve();
  let next = 0;
  const client = async () => {
    while (next < attempts.length) {
      const attempt = attempts[next++]!;
      Object.assign(attempt, await book(attempt));
      answered++;
      if (load.phase === 'up' && answered >= 60) {
        load.phase = 'stopping';
        restart = outage.down().then(() => {
          load.phase = 'down';
        });
      } else if (load.phase === 'down' && answered >= 120) {
        load.phase = 'starting';
        restart = outage.up().then(() => {
          load.phase = 'back';
        });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: 12 }, client));
  } catch (error) {
    throw new Error(
      `the load failed (server exit ${server.child.exitCode}):\n${server.output().slice(-3000)}`,
      { cause: error },
    );
  }
  await restart;
  // Refused at once while the server is gone, the last requests can all be answered before the
  // 120th answer's trigger ran: the database comes back either way.
  if (load.phase === 'down') await outage.up();

  const statuses = new Set(attempts.map((a) => `${a.status} ${a.code ?? ''}`.trim()));
  for (const status of statuses)
    expect(['201', '409 INVENTORY_UNAVAILABLE', '503 SERVICE_UNAVAILABLE']).toContain(status);
  expect(attempts.some((a) => a.status === 503)).toBe(true);

  // Retry every refused-by-outage request with its key: a commit that happened just before the
  // connection broke is replayed, never booked twice.
  for (const attempt of attempts.filter((a) => a.status === 503)) {
    let retried = await book(attempt);
    for (let i = 0; i < 100 && retried.status === 503; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      retried = await book(attempt);
    }
    Object.assign(attempt, retried);
    expect([201, 409]).toContain(attempt.status);
  }

  const db = createDb({ connectionString: databaseUrl, max: 2 });
  try {
    const rows = await db
      .selectFrom('reservation')
      .innerJoin('guest', 'guest.id', 'reservation.guest_id')
      .select(['guest.email'])
      .where('reservation.property_id', '=', property)
      .execute();
    const booked = rows.map((r) => r.email).sort();
    const accepted = attempts
      .filter((a) => a.status === 201)
      .map((a) => a.email)
      .sort();
    expect(booked).toEqual(accepted);
    // 8 nights × 12 units: the load asks for 30 per night, so every night sells out exactly.
    expect(accepted).toHaveLength(96);
    expect(await inventoryProblems(db, property)).toEqual([]);
  } finally {
    await db.destroy();
  }
}

/** Every process of the server (the postmaster and its backends) killed at once, as an OOM kill would. */
async function crashPostgres() {
  const postmaster = Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const processes = [postmaster, ...childrenOf(postmaster)];
  for (const pid of processes) process.kill(pid, 'SIGKILL');
  // Bounded: a new server cannot start while the old one's processes still hold its shared memory.
  for (let i = 0; i < 200 && processes.some(isRunning); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  expect(processes.filter(isRunning)).toEqual([]);
}

function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        // The parent pid is the fourth field, after the command in parentheses.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('PostgreSQL going away during a booking load', () => {
  it('a clean restart: 503 while down, never 500, and nothing half-written', async () => {
    await bookingLoadAcrossOutage('restart', {
      down: () => postgres.stop(),
      up: async () => {
        postgres = await bootPostgres();
      },
    });
  });

  it('a crash (every server process killed): every booking answered 201 survives recovery, nothing else is there', async () => {
    await bookingLoadAcrossOutage('crash', {
      down: crashPostgres,
      up: async () => {
        postgres = await bootPostgres();
      },
    });
  });
});

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
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
import { createProperty, createRoomType, createUser } from '../helpers/factories.ts';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.ts';

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
let propertyId: string;
let roomTypeId: string;

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
  propertyId = (await createProperty(db)).id;
  roomTypeId = (await createRoomType(db, propertyId, { totalUnits: 12 })).id;
  await db.destroy();
  server = await startServerProcess({ env: { DATABASE_URL: databaseUrl } });
  const login = await fetch(`${server.url}/api/auth/token/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: admin.email, password: admin.password }),
  });
  token = ((await login.json()) as { access: string }).access;
  const preload = await fetch(`${server.url}/api/inventory/preload/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ property_id: propertyId, start_date: '2031-05-01', end_date: '2031-05-10' }),
  });
  if (preload.status !== 200) throw new Error(`preload failed: ${await preload.text()}`);
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

describe('PostgreSQL restart during a booking load', () => {
  it('answers 503 while down, never 500, and leaves nothing half-written', async () => {
    const attempts: BookingAttempt[] = Array.from({ length: 240 }, (_, i) => {
      const night = 1 + (i % 8);
      const email = `restart-${i}@example.test`;
      return {
        key: `restart-${i}`,
        email,
        body: JSON.stringify({
          property_id: propertyId,
          check_in: `2031-05-0${night}`,
          check_out: `2031-05-0${night + 1}`,
          guest: { full_name: `Guest ${i}`, email },
          rooms: [{ room_type_id: roomTypeId }],
        }),
      };
    });
    // 12 clients; PostgreSQL is stopped after 60 answers and started again after 60 more.
    let answered = 0;
    let phase: 'up' | 'stopping' | 'down' | 'starting' | 'back' = 'up';
    let restart: Promise<void> = Promise.resolve();
    let next = 0;
    const client = async () => {
      while (next < attempts.length) {
        const attempt = attempts[next++]!;
        Object.assign(attempt, await book(attempt));
        answered++;
        if (phase === 'up' && answered >= 60) {
          phase = 'stopping';
          restart = postgres.stop().then(() => {
            phase = 'down';
          });
        } else if (phase === 'down' && answered >= 120) {
          phase = 'starting';
          restart = bootPostgres().then((started) => {
            postgres = started;
            phase = 'back';
          });
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: 12 }, client));
    } catch (error) {
      throw new Error(
        `the load failed (server exit ${server.child.exitCode}):\n${server.output().slice(-3000)}`,
        {
          cause: error,
        },
      );
    }
    await restart;

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
        .where('reservation.property_id', '=', propertyId)
        .execute();
      const booked = rows.map((r) => r.email).sort();
      const accepted = attempts
        .filter((a) => a.status === 201)
        .map((a) => a.email)
        .sort();
      expect(booked).toEqual(accepted);
      expect(await inventoryProblems(db, propertyId)).toEqual([]);
    } finally {
      await db.destroy();
    }
  });
});

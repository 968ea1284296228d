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
import { createUser } from '../helpers/factories.ts';
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
  const login = await fetch(`${server.url}/api/auth/token/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: admin.email, password: admin.password }),
  });
  token = ((await login.json()) as { access: string }).access;
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

import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../src/app/app.ts';
import { createDb, type Db } from '../src/db/database.ts';
import { freePort } from '../src/db/embedded.ts';
import { createMigrator, migrateToLatest, migrationsCurrent } from '../src/db/migrate.ts';
import { testConfig } from './helpers/context.ts';

/**
 * Migrations from an empty database: every table of the schema appears, a second run is a
 * no-op, and /readyz reports ready only while the database is reachable and fully migrated.
 */

/** The tables the code expects: the keys of the `Database` interface in src/db/schema.ts. */
function expectedTables(): string[] {
  const source = readFileSync(new URL('../src/db/schema.ts', import.meta.url), 'utf8');
  const body = /export interface Database \{([^}]*)\}/.exec(source)?.[1];
  if (!body) throw new Error('src/db/schema.ts has no `export interface Database { … }`');
  return [...body.matchAll(/^\s*(\w+)\s*:/gm)].map((m) => m[1]!);
}

const adminUrl = () => inject('pgAdminUrl');
const name = `pms_t_migrations_${process.pid}_${Date.now().toString(36)}`;
let db: Db;
let app: FastifyInstance;

async function admin(statement: string) {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function appOn(database: Db, url: string): Promise<FastifyInstance> {
  const config = testConfig();
  return buildApp({
    config,
    db: database,
    jwtKey: new TextEncoder().encode(config.jwtSecret),
    databaseUrl: url,
  });
}

beforeAll(async () => {
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  db = createDb({ connectionString: url.toString(), max: 4 });
  app = await appOn(db, url.toString());
});

afterAll(async () => {
  await app?.close();
  await db?.destroy();
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

async function tablesInDatabase(): Promise<string[]> {
  const result = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`.execute(db);
  return result.rows.map((r) => r.table_name);
}

describe('migrations from an empty database', () => {
  it('reports not ready before the first migration', async () => {
    expect(await tablesInDatabase()).toEqual([]);
    const res = await app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('SERVICE_UNAVAILABLE');
    expect(res.json().detail).toMatch(/migrations are pending/);
  });

  it('applies every migration and creates every table of the schema', async () => {
    const shipped = (await createMigrator(db).getMigrations()).map((m) => m.name);
    expect(shipped.length).toBeGreaterThan(0);
    const applied = await migrateToLatest(db);
    expect([...applied].sort()).toEqual([...shipped].sort());
    const tables = await tablesInDatabase();
    const missing = expectedTables().filter((table) => !tables.includes(table));
    expect(missing, 'tables in src/db/schema.ts that no migration creates').toEqual([]);
    expect(await migrationsCurrent(db)).toBe(true);
  });

  it('is a no-op when run again', async () => {
    const before = await tablesInDatabase();
    expect(await migrateToLatest(db)).toEqual([]);
    expect((await tablesInDatabase()).sort()).toEqual(before.sort());
  });

  it('keeps autovacuum from analysing guest and reservation before their first 1,000 rows', async () => {
    // Analysed at a page or two, the foreign-key checks of every booking would scan them whole
    // while they grow (migration 0046).
    const result = await sql<{ relname: string; reloptions: string[] | null }>`
      SELECT relname, reloptions FROM pg_class
      WHERE relname IN ('guest', 'reservation') AND relkind = 'r' ORDER BY relname`.execute(db);
    expect(result.rows).toEqual([
      { relname: 'guest', reloptions: ['autovacuum_analyze_threshold=1000'] },
      { relname: 'reservation', reloptions: ['autovacuum_analyze_threshold=1000'] },
    ]);
  });

  it('reports ready on the migrated database', async () => {
    const res = await app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'current' } });
  });

  it('reports 503 while a shipped migration is not applied', async () => {
    const last = await sql<{ name: string; timestamp: string }>`
      SELECT name, timestamp FROM schema_migration ORDER BY name DESC LIMIT 1`.execute(db);
    const { name: migration, timestamp } = last.rows[0]!;
    // As if a newer release shipped a migration this database has not seen yet.
    await sql`DELETE FROM schema_migration WHERE name = ${migration}`.execute(db);
    try {
      const res = await app.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        detail: expect.stringMatching(/pending/),
      });
    } finally {
      await sql`INSERT INTO schema_migration (name, timestamp) VALUES (${migration}, ${timestamp})`.execute(
        db,
      );
    }
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });
});

describe('readiness without a database', () => {
  it('reports 503 when the database is unreachable, and /healthz stays 200', async () => {
    // A port nothing listens on: the connection is refused at once.
    const port = await freePort();
    const url = `postgres://postgres:x@127.0.0.1:${port}/nothing`;
    const unreachable = createDb({ connectionString: url, max: 1 });
    const offline = await appOn(unreachable, url);
    try {
      const res = await offline.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        detail: expect.stringMatching(/not reachable/),
      });
      expect((await offline.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await offline.close();
      await unreachable.destroy();
    }
  });
});

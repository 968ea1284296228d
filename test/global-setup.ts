import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createDb } from '../src/db/database.ts';
import { bootEmbeddedPostgres, type EmbeddedServer } from '../src/db/embedded.ts';
import { migrateToLatest } from '../src/db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplate: string;
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * One PostgreSQL for the whole run (embedded unless DATABASE_URL is set) and one migrated template;
 * every test file clones its own database from the template, so files run in parallel.
 */
export default async function setup(project: TestProject) {
  let embedded: EmbeddedServer | undefined;
  let dataDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (adminUrl) {
    console.log(`[tests] using PostgreSQL at DATABASE_URL (${new URL(adminUrl).host})`);
  } else {
    dataDir = mkdtempSync(path.join(tmpdir(), 'pms-test-pg-'));
    // The server runs as the postgres user when we are root; it must reach its directory.
    chmodSync(dataDir, 0o755);
    embedded = await bootEmbeddedPostgres({ dataDir, ephemeral: true });
    adminUrl = embedded.adminUrl;
    console.log('[tests] using an embedded PostgreSQL (DATABASE_URL is unset)');
  }
  const template = `pms_tpl_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  const db = createDb({ connectionString: withDatabase(adminUrl, template), max: 2 });
  await migrateToLatest(db);
  await db.destroy();

  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplate', template);

  return async () => {
    // Drop what this run made (per-file databases carry the template's name as prefix).
    const leftovers = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'pms_t_%' OR datname = $1",
      [template],
    );
    for (const { datname } of leftovers.rows) {
      await admin
        .query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`)
        .catch(() => {});
    }
    await admin.end();
    await embedded?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
}

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDb, type Db } from '../src/db/database.ts';
import { bootEmbeddedPostgres } from '../src/db/embedded.ts';
import { migrateToLatest } from '../src/db/migrate.ts';

/** One measured figure of a benchmark, with its goal when the issues set one. */
export interface Figure {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  /** Human-readable goal, e.g. "≥ 0.5". */
  goal?: string;
  /** Whether the goal is met (undefined when the figure has no goal). */
  met?: boolean;
}

export interface BenchDatabase {
  url: string;
  db: Db;
  close(): Promise<void>;
}

/**
 * A fresh, migrated database for one benchmark: on DATABASE_URL's server when set, else on an
 * embedded PostgreSQL started for the run (and removed afterwards).
 */
export async function freshDatabase(
  name: string,
  options: { poolSize?: number } = {},
): Promise<BenchDatabase> {
  let adminUrl = process.env.DATABASE_URL;
  let stopServer = async () => {};
  if (!adminUrl) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pms-bench-pg-'));
    chmodSync(dataDir, 0o755);
    const server = await bootEmbeddedPostgres({ dataDir, ephemeral: true });
    adminUrl = server.adminUrl;
    stopServer = async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    };
  }
  const database = `pms_bench_${name}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const db = createDb({ connectionString: url.toString(), max: options.poolSize ?? 80 });
  await migrateToLatest(db);
  return {
    url: url.toString(),
    db,
    async close() {
      await db.destroy();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await client.end();
      await stopServer();
    },
  };
}

export function percentile(sortedOrNot: number[], p: number): number {
  if (sortedOrNot.length === 0) return Number.NaN;
  const sorted = [...sortedOrNot].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function atLeast(value: number, goal: number): { goal: string; met: boolean } {
  return { goal: `≥ ${Number(goal.toFixed(2))}`, met: value >= goal };
}

export function atMost(value: number, goal: number): { goal: string; met: boolean } {
  return { goal: `≤ ${Number(goal.toFixed(2))}`, met: value <= goal };
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

import type { FastifyInstance, InjectOptions } from 'fastify';
import pg from 'pg';
import { inject } from 'vitest';
import { buildApp } from '../../src/app/app.ts';
import { type AppConfig, loadConfig } from '../../src/app/config.ts';
import { parseEgressPolicy } from '../../src/app/egress.ts';
import { createJobQueue } from '../../src/app/jobs.ts';
import type { WorkerDeps } from '../../src/app/workers.ts';
import { timeLimitsOf } from '../../src/db/connect.ts';
import { createDb, type Db } from '../../src/db/database.ts';

export interface TestContext {
  app: FastifyInstance;
  db: Db;
  /** Connection URL of this file's own database. */
  databaseUrl: string;
  config: AppConfig;
  jwtKey: Uint8Array;
  close(): Promise<void>;
}

let counter = 0;

/** What tests send to scrape /metrics (`authorization: Bearer …`). */
export const TEST_METRICS_TOKEN = 'test-metrics-token-0123456789abcdef';

export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  return loadConfig(
    {
      PMS_DATA_DIR: '/tmp/pms-test-data',
      JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
      PMS_SECRETS_KEY: 'a'.repeat(64),
      LOGIN_RATE_LIMIT_PER_MINUTE: '1000',
      LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000',
      LOG_LEVEL: 'silent',
      METRICS_TOKEN: TEST_METRICS_TOKEN,
      ...overrides,
    },
    { dotenv: false },
  );
}

/**
 * For a test whose webhook receivers or simulated PMSs listen on 127.0.0.1: by default the server
 * reaches public addresses only, so such a test opts loopback in, as settings or as a policy.
 */
export const LOOPBACK_EGRESS = {
  WEBHOOK_ALLOWED_NETWORKS: 'external,loopback',
  PMS_ALLOWED_NETWORKS: 'external,loopback',
} as const;
export const LOOPBACK_POLICY = parseEgressPolicy(LOOPBACK_EGRESS.PMS_ALLOWED_NETWORKS).policy;

/**
 * What a worker starter takes, on this context's database, with a job queue of its own: stop it
 * with `jobs.stop()` once the worker is stopped (a queue never used needs no stop).
 */
export function workerDeps(t: TestContext, config: AppConfig = t.config): WorkerDeps {
  return {
    config,
    db: t.db,
    logger: t.app.log,
    databaseUrl: t.databaseUrl,
    jobs: createJobQueue(config, t.databaseUrl, t.app.log),
  };
}

/** Creates a fresh database for this test file, cloned from the migrated template. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = inject('pgAdminUrl');
  const template = inject('pgTemplate');
  const name = `pms_t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await client.end();
    },
  };
}

/**
 * Files share one PostgreSQL, and a machine's server allows few connections (100 by default) while
 * three files run at once. A file whose pools may open more than {@link LIGHT_FILE_CONNECTIONS}
 * connections holds this lease for its whole run: a session advisory lock on the admin database, so
 * only one such file runs at a time and the server's limit is never the reason a request fails.
 * The lock ends with its session, also when the worker dies.
 */
const LIGHT_FILE_CONNECTIONS = 14;
const HEAVY_FILE_LOCK = 'pms-tests:connection-heavy-file';

/** This worker's hold on the lease, shared by its contexts (a second lock would wait on the first). */
let held: { client: Promise<pg.Client>; holders: number } | undefined;

async function holdConnectionLease(): Promise<{ release: () => Promise<void> }> {
  if (!held) {
    const client = new pg.Client({
      connectionString: inject('pgAdminUrl'),
      application_name: 'pms-test-lease',
    });
    held = {
      holders: 0,
      client: client
        .connect()
        .then(() => client.query('SELECT pg_advisory_lock(hashtext($1))', [HEAVY_FILE_LOCK]))
        .then(() => client)
        .catch(async (error) => {
          held = undefined;
          await client.end().catch(() => {});
          throw error;
        }),
    };
  }
  const lease = held;
  lease.holders++;
  await lease.client;
  return {
    release: async () => {
      if (--lease.holders > 0) return;
      if (held === lease) held = undefined;
      await (await lease.client).end();
    },
  };
}

/**
 * A real app on a real database of its own; call `close()` in afterAll. A pool larger than
 * {@link LIGHT_FILE_CONNECTIONS} holds the connection lease until `close()`.
 */
export async function createTestContext(
  options: { env?: Record<string, string>; poolSize?: number } = {},
): Promise<TestContext> {
  const poolSize = options.poolSize ?? 10;
  const lease = poolSize > LIGHT_FILE_CONNECTIONS ? await holdConnectionLease() : undefined;
  const database = await createTestDatabase();
  const config = testConfig(options.env);
  const db = createDb({
    connectionString: database.url,
    max: poolSize,
    ...timeLimitsOf(config),
  });
  const jwtKey = new TextEncoder().encode(config.jwtSecret);
  const app = await buildApp({ config, db, jwtKey, databaseUrl: database.url });
  await app.ready();
  return {
    app,
    db,
    databaseUrl: database.url,
    config,
    jwtKey,
    async close() {
      try {
        await app.close();
        await db.destroy();
        await database.drop();
      } finally {
        await lease?.release();
      }
    },
  };
}

/** `app.inject` with a bearer token and a JSON body. */
export async function call(
  app: FastifyInstance,
  method: InjectOptions['method'],
  url: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const response = await app.inject({
    method,
    url,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { payload: options.body as never } : {}),
  });
  return {
    status: response.statusCode,
    body: response.body ? safeJson(response.body) : undefined,
    headers: response.headers,
  };
}

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

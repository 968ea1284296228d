import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { DEFAULT_SHARED_DIR } from '../db/embedded-root.ts';
import { DEFAULT_EGRESS, type EgressPolicy, parseEgressPolicy } from './egress.ts';

export type LockPolicy = 'wait' | 'nowait';
export type Role = 'api' | 'realtime' | 'worker' | 'all';

/** The one typed configuration object, validated once at boot. */
export interface AppConfig {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  /** Most connections one process's pool opens (DATABASE_POOL_SIZE); docs/deploy.md sizes the server for it. */
  databasePoolSize: number;
  /**
   * Longest one statement runs (DATABASE_STATEMENT_TIMEOUT_MS; 0 = no limit); the client gives up 5 s
   * later and closes the connection. Migrations run without it.
   */
  databaseStatementTimeoutMs: number;
  /** Longest a transaction may wait for its process (DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS; 0 = no limit). */
  databaseIdleInTransactionTimeoutMs: number;
  dataDir: string;
  /** As root: where the embedded PostgreSQL goes when the postgres user cannot reach dataDir (PMS_EMBEDDED_SHARED_DIR). */
  embeddedSharedDir: string;
  jwtSecret: string | undefined;
  secretsKey: string | undefined;
  kafkaBrokers: string[];
  natsUrl: string | undefined;
  logLevel: string;
  allowedHosts: string[];
  lockPolicy: LockPolicy;
  lockTimeoutMs: number;
  /** Most bookings of one property decided in one transaction (1 = one booking per transaction). */
  bookingBatchMax: number;
  /** Nights kept loaded ahead of each hotel's business date (INVENTORY_HORIZON_DAYS; the night audit extends it). */
  inventoryHorizonDays: number;
  loginRateLimitPerMinute: number;
  /** Sign-in attempts per client address across all accounts, per minute and per process. */
  loginRateLimitPerAddressPerMinute: number;
  accessTokenTtlSeconds: number;
  /** Longest an authenticated user is served from memory (changes evict it at once); 0 = off. */
  authCacheTtlMs: number;
  refreshTokenTtlSeconds: number;
  /** Where webhook deliveries may connect (WEBHOOK_ALLOWED_NETWORKS, `external` by default; docs/events.md). */
  webhookAllowedNetworks: EgressPolicy;
  /** Where PMS pulls may connect, redirects included (PMS_ALLOWED_NETWORKS, `external` by default; docs/integrations.md). */
  pmsAllowedNetworks: EgressPolicy;
  /**
   * A running sync run silent this long (PMS_SYNC_ABANDONED_SECONDS) lost its process: it is failed and
   * the hotel can sync again. A live run beats four times as often.
   */
  syncAbandonedSeconds: number;
  /** Days an event stays in the outbox (the replay history) once every sink has it; 0 = forever. */
  eventRetentionDays: number;
  /** Most live-feed sockets one user holds open on one process, both feeds together (docs/realtime.md). */
  realtimeMaxSocketsPerUser: number;
  /** Most live-feed sockets open from one client address on one process; 0 = no cap. */
  realtimeMaxSocketsPerAddress: number;
  /** Live-feed subscribes per user, minute and process (a token bucket holding a minute's worth). */
  realtimeSubscribesPerMinute: number;
  /** Bearer token a scraper must send to GET /metrics (METRICS_TOKEN); unset = /metrics is off. */
  metricsToken: string | undefined;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export type Env = Record<string, string | undefined>;

export function intSetting(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name}: expected an integer from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return value;
}

function listSetting(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Accepts the seed's DB_* variables when DATABASE_URL is not set, so its .env works unchanged. */
function seedDatabaseUrl(env: Env): string | undefined {
  if (!env.DB_NAME && !env.DB_HOST) return undefined;
  const user = encodeURIComponent(env.DB_USER ?? 'postgres');
  const password = env.DB_PASSWORD ? `:${encodeURIComponent(env.DB_PASSWORD)}` : '';
  const host = env.DB_HOST ?? 'localhost';
  const port = env.DB_PORT ?? '5432';
  return `postgres://${user}${password}@${host}:${port}/${env.DB_NAME ?? 'postgres'}`;
}

/**
 * Reads settings from the environment (and `.env` when present), naming every bad value
 * in one error rather than failing on the first.
 */
export function loadConfig(env: Env = process.env, options: { dotenv?: boolean } = {}): AppConfig {
  if (options.dotenv !== false && env === process.env) dotenv.config({ quiet: true });
  const problems: string[] = [];

  const databaseUrl = env.DATABASE_URL || seedDatabaseUrl(env);
  // A problem is named after the variable the operator actually set (the seed's names included).
  const databaseSource = env.DATABASE_URL ? 'DATABASE_URL' : 'DB_HOST/DB_PORT/DB_NAME';
  if (!env.DATABASE_URL && env.DB_PORT && !/^\d{1,5}$/.test(env.DB_PORT)) {
    problems.push(`DB_PORT: expected a port number, got "${env.DB_PORT}"`);
  } else if (databaseUrl !== undefined) {
    try {
      const url = new URL(databaseUrl);
      if (!['postgres:', 'postgresql:'].includes(url.protocol)) {
        problems.push(`DATABASE_URL: expected a postgres:// URL, got protocol "${url.protocol}"`);
      }
    } catch {
      problems.push(`${databaseSource}: not a valid database URL`);
    }
  }

  const logLevel = env.LOG_LEVEL || (env.DEBUG === 'True' || env.DEBUG === 'true' ? 'debug' : 'info');
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }

  const lockPolicy = (env.LOCK_POLICY || 'wait') as LockPolicy;
  if (lockPolicy !== 'wait' && lockPolicy !== 'nowait') {
    problems.push(`LOCK_POLICY: expected "wait" or "nowait", got "${env.LOCK_POLICY}"`);
  }

  const jwtSecret = env.JWT_SECRET || env.SECRET_KEY || undefined;
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    problems.push(`${env.JWT_SECRET ? 'JWT_SECRET' : 'SECRET_KEY'}: must be at least 32 characters long`);
  }
  const secretsKey = env.PMS_SECRETS_KEY || undefined;
  if (secretsKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(secretsKey)) {
    problems.push('PMS_SECRETS_KEY: expected 64 hex characters (a 256-bit key)');
  }

  const metricsToken = env.METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && !/^[\x21-\x7e]{24,512}$/.test(metricsToken)) {
    problems.push('METRICS_TOKEN: expected 24 to 512 printable characters without spaces');
  }

  const kafkaSource = env.KAFKA_BROKERS ? 'KAFKA_BROKERS' : 'KAFKA_BOOTSTRAP_SERVERS';
  const kafkaBrokers = listSetting(env.KAFKA_BROKERS || env.KAFKA_BOOTSTRAP_SERVERS);
  for (const broker of kafkaBrokers) {
    if (!/^[^\s:]+:\d+$/.test(broker)) problems.push(`${kafkaSource}: "${broker}" is not host:port`);
  }
  const natsUrl = env.NATS_URL || undefined;
  if (natsUrl !== undefined && !/^(nats|tls|ws|wss):\/\/|^[^\s:/]+:\d+$/.test(natsUrl)) {
    problems.push(`NATS_URL: expected nats://host:port, got "${natsUrl}"`);
  }

  const networks = (name: string) => {
    const { policy, problem } = parseEgressPolicy(env[name] || DEFAULT_EGRESS);
    if (problem) problems.push(`${name}: ${problem}`);
    return policy;
  };

  const config: AppConfig = {
    port: intSetting(env, 'PORT', 8000, 0, 65535, problems),
    host: env.HOST || '0.0.0.0',
    databaseUrl,
    databasePoolSize: intSetting(env, 'DATABASE_POOL_SIZE', 20, 1, 1000, problems),
    databaseStatementTimeoutMs: intSetting(
      env,
      'DATABASE_STATEMENT_TIMEOUT_MS',
      30_000,
      0,
      86_400_000,
      problems,
    ),
    databaseIdleInTransactionTimeoutMs: intSetting(
      env,
      'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS',
      10_000,
      0,
      86_400_000,
      problems,
    ),
    dataDir: path.resolve(env.PMS_DATA_DIR || './.pms'),
    embeddedSharedDir: path.resolve(env.PMS_EMBEDDED_SHARED_DIR || DEFAULT_SHARED_DIR),
    jwtSecret,
    secretsKey,
    kafkaBrokers,
    natsUrl,
    logLevel,
    allowedHosts: listSetting(env.ALLOWED_HOSTS),
    lockPolicy,
    lockTimeoutMs: intSetting(env, 'LOCK_TIMEOUT_MS', 5000, 10, 600000, problems),
    bookingBatchMax: intSetting(env, 'BOOKING_BATCH_MAX', 128, 1, 1000, problems),
    inventoryHorizonDays: intSetting(env, 'INVENTORY_HORIZON_DAYS', 365, 1, 1096, problems),
    loginRateLimitPerMinute: intSetting(env, 'LOGIN_RATE_LIMIT_PER_MINUTE', 10, 1, 100000, problems),
    loginRateLimitPerAddressPerMinute: intSetting(
      env,
      'LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE',
      30,
      1,
      100000,
      problems,
    ),
    accessTokenTtlSeconds: intSetting(env, 'ACCESS_TOKEN_TTL_SECONDS', 900, 10, 86400, problems),
    authCacheTtlMs: intSetting(env, 'AUTH_CACHE_TTL_MS', 60_000, 0, 3_600_000, problems),
    refreshTokenTtlSeconds: intSetting(env, 'REFRESH_TOKEN_TTL_SECONDS', 1209600, 60, 31536000, problems),
    webhookAllowedNetworks: networks('WEBHOOK_ALLOWED_NETWORKS'),
    pmsAllowedNetworks: networks('PMS_ALLOWED_NETWORKS'),
    syncAbandonedSeconds: intSetting(env, 'PMS_SYNC_ABANDONED_SECONDS', 60, 4, 86_400, problems),
    eventRetentionDays: intSetting(env, 'EVENT_RETENTION_DAYS', 90, 0, 36500, problems),
    realtimeMaxSocketsPerUser: intSetting(env, 'REALTIME_MAX_SOCKETS_PER_USER', 20, 1, 100_000, problems),
    realtimeMaxSocketsPerAddress: intSetting(
      env,
      'REALTIME_MAX_SOCKETS_PER_ADDRESS',
      200,
      0,
      1_000_000,
      problems,
    ),
    realtimeSubscribesPerMinute: intSetting(env, 'REALTIME_SUBSCRIBES_PER_MINUTE', 60, 1, 100_000, problems),
    metricsToken,
  };
  // A booking waits for its locks inside one statement: the statement's limit must leave it that wait.
  if (config.databaseStatementTimeoutMs > 0 && config.databaseStatementTimeoutMs <= config.lockTimeoutMs) {
    problems.push(
      `DATABASE_STATEMENT_TIMEOUT_MS: must be 0 or longer than LOCK_TIMEOUT_MS (${config.lockTimeoutMs}), got ${config.databaseStatementTimeoutMs}`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * Returns a secret kept in a file under the data dir, generating it on first use, so a
 * zero-config install keeps its tokens and encrypted secrets valid across restarts.
 */
export function persistentSecret(dataDir: string, name: string, bytes = 32): string {
  const file = path.join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(bytes).toString('hex');
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw error;
  }
}

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const load = (env: Record<string, string>) => loadConfig(env, { dotenv: false });

function problemsOf(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('starts with no settings at all, on the documented defaults', () => {
    const config = load({});
    expect(config).toMatchObject({
      port: 8000,
      host: '0.0.0.0',
      databaseUrl: undefined,
      databasePoolSize: 20,
      databaseStatementTimeoutMs: 30_000,
      databaseIdleInTransactionTimeoutMs: 10_000,
      dataDir: path.resolve('./.pms'),
      jwtSecret: undefined,
      kafkaBrokers: [],
      natsUrl: undefined,
      logLevel: 'info',
      allowedHosts: [],
      lockPolicy: 'wait',
      eventRetentionDays: 90,
    });
  });

  it('names every bad value in one error, not just the first', () => {
    const bad = {
      PORT: 'eighty',
      DATABASE_URL: 'mysql://db/pms',
      LOG_LEVEL: 'loud',
      LOCK_POLICY: 'maybe',
      LOCK_TIMEOUT_MS: '1',
      DATABASE_POOL_SIZE: '0',
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '-5',
      PMS_SYNC_ABANDONED_SECONDS: '1',
      JWT_SECRET: 'short',
      PMS_SECRETS_KEY: 'not-hex',
      KAFKA_BROKERS: 'broker-without-port',
      NATS_URL: 'http://nats',
      LOGIN_RATE_LIMIT_PER_MINUTE: '0',
      LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: 'many',
      ACCESS_TOKEN_TTL_SECONDS: '1.5',
      REFRESH_TOKEN_TTL_SECONDS: '-1',
      WEBHOOK_ALLOWED_NETWORKS: 'intranet',
      EVENT_RETENTION_DAYS: '-1',
    };
    let error: unknown;
    try {
      load(bad);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems).toHaveLength(Object.keys(bad).length);
    for (const name of Object.keys(bad)) {
      expect(
        problems.filter((p) => p.startsWith(`${name}:`)),
        name,
      ).toHaveLength(1);
      expect(message).toContain(name);
    }
    // The offending value is quoted back where it is not a secret, so the fix is obvious.
    expect(message).toContain('"eighty"');
    expect(message).toContain('"loud"');
    expect(message).toContain('"intranet"');
    expect(message).not.toContain('short');
  });

  it('wants a statement limit longer than the lock wait it contains, or none', () => {
    expect(problemsOf({ LOCK_TIMEOUT_MS: '5000', DATABASE_STATEMENT_TIMEOUT_MS: '5000' })).toEqual([
      'DATABASE_STATEMENT_TIMEOUT_MS: must be 0 or longer than LOCK_TIMEOUT_MS (5000), got 5000',
    ]);
    expect(
      load({ LOCK_TIMEOUT_MS: '5000', DATABASE_STATEMENT_TIMEOUT_MS: '0' }).databaseStatementTimeoutMs,
    ).toBe(0);
    expect(load({ DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '0' }).databaseIdleInTransactionTimeoutMs).toBe(0);
  });

  it('rejects a DATABASE_URL that is not a URL', () => {
    expect(problemsOf({ DATABASE_URL: 'not a url' })).toEqual(['DATABASE_URL: not a valid database URL']);
  });

  it('treats empty values as unset', () => {
    const config = load({
      PORT: '',
      LOG_LEVEL: '',
      LOCK_POLICY: '',
      JWT_SECRET: '',
      KAFKA_BROKERS: '',
      NATS_URL: '',
    });
    expect(config).toMatchObject({ port: 8000, logLevel: 'info', lockPolicy: 'wait', jwtSecret: undefined });
    expect(config.kafkaBrokers).toEqual([]);
  });

  it('reads lists and numbers', () => {
    const config = load({
      PORT: '9000',
      KAFKA_BROKERS: 'k1:9092, k2:9093',
      ALLOWED_HOSTS: 'a.example, b.example',
      LOCK_POLICY: 'nowait',
      NATS_URL: 'nats://127.0.0.1:4222',
      EVENT_RETENTION_DAYS: '0',
    });
    expect(config).toMatchObject({
      eventRetentionDays: 0,
      port: 9000,
      kafkaBrokers: ['k1:9092', 'k2:9093'],
      allowedHosts: ['a.example', 'b.example'],
      lockPolicy: 'nowait',
      natsUrl: 'nats://127.0.0.1:4222',
    });
  });
});

describe("the seed's variable names", () => {
  it('builds the database URL from DB_NAME/DB_USER/DB_PASSWORD/DB_HOST/DB_PORT, escaping the password', () => {
    const config = load({
      DB_NAME: 'hotel',
      DB_USER: 'pms',
      DB_PASSWORD: 'p@ss:w/rd',
      DB_HOST: 'db.internal',
      DB_PORT: '6543',
    });
    const url = new URL(config.databaseUrl!);
    expect(url.protocol).toBe('postgres:');
    expect(url.hostname).toBe('db.internal');
    expect(url.port).toBe('6543');
    expect(url.pathname).toBe('/hotel');
    expect(decodeURIComponent(url.username)).toBe('pms');
    expect(decodeURIComponent(url.password)).toBe('p@ss:w/rd');
  });

  it('fills in the usual defaults when only some DB_* variables are set', () => {
    const url = new URL(load({ DB_NAME: 'hotel' }).databaseUrl!);
    expect(url.hostname).toBe('localhost');
    expect(url.port).toBe('5432');
    expect(decodeURIComponent(url.username)).toBe('postgres');
  });

  it('prefers DATABASE_URL over the DB_* variables', () => {
    const config = load({ DATABASE_URL: 'postgres://a@b:1/c', DB_NAME: 'ignored', DB_HOST: 'ignored' });
    expect(config.databaseUrl).toBe('postgres://a@b:1/c');
  });

  it('accepts SECRET_KEY as the JWT secret, and JWT_SECRET wins when both are set', () => {
    const seedKey = 'django-insecure-0123456789abcdefghijklmnopqrstuvwxyz';
    expect(load({ SECRET_KEY: seedKey }).jwtSecret).toBe(seedKey);
    expect(load({ SECRET_KEY: seedKey, JWT_SECRET: 'j'.repeat(40) }).jwtSecret).toBe('j'.repeat(40));
  });

  it('accepts KAFKA_BOOTSTRAP_SERVERS as the broker list', () => {
    expect(load({ KAFKA_BOOTSTRAP_SERVERS: 'kafka:9092,kafka2:9092' }).kafkaBrokers).toEqual([
      'kafka:9092',
      'kafka2:9092',
    ]);
  });

  it('turns DEBUG=True into debug logging unless LOG_LEVEL says otherwise', () => {
    expect(load({ DEBUG: 'True' }).logLevel).toBe('debug');
    expect(load({ DEBUG: 'False' }).logLevel).toBe('info');
    expect(load({ DEBUG: 'True', LOG_LEVEL: 'warn' }).logLevel).toBe('warn');
  });

  it('names the seed variable that holds a bad value', () => {
    expect(problemsOf({ SECRET_KEY: 'too-short' })).toEqual([
      'SECRET_KEY: must be at least 32 characters long',
    ]);
    expect(problemsOf({ KAFKA_BOOTSTRAP_SERVERS: 'kafka' })).toEqual([
      'KAFKA_BOOTSTRAP_SERVERS: "kafka" is not host:port',
    ]);
    expect(problemsOf({ DB_NAME: 'hotel', DB_PORT: 'fivefourthreetwo' })).toEqual([
      'DB_PORT: expected a port number, got "fivefourthreetwo"',
    ]);
  });
});

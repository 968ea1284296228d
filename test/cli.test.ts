import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/db/embedded.ts';

/**
 * The README's first command, as a user runs it: `npm start` with no DATABASE_URL boots an embedded
 * PostgreSQL under PMS_DATA_DIR and serves; `npm run pms -- createsuperuser` run meanwhile attaches to
 * that server instead of starting another, and the new user can log in.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let dataDir: string;
let port: number;
let server: ChildProcess;
let output = '';
let exited: Promise<unknown>;

function env(): NodeJS.ProcessEnv {
  const { DATABASE_URL: _external, ...rest } = process.env;
  return { ...rest, PORT: String(port), HOST: '127.0.0.1', PMS_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'pms-cli-'));
  chmodSync(dataDir, 0o755);
  port = await freePort();
  server = spawn('npm', ['start'], {
    cwd: root,
    env: env(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  server.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  server.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  exited = new Promise((resolve) => server.on('exit', resolve));
  // Bounded wait for readiness: the first start initialises a PostgreSQL cluster.
  for (let attempt = 0; attempt < 600; attempt++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (server.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`npm start did not become ready:\n${output}`);
}, 120_000);

afterAll(async () => {
  // npm runs the server as its child: stop the whole process group.
  if (server?.pid && server.exitCode === null) process.kill(-server.pid, 'SIGTERM');
  await exited;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start on an embedded PostgreSQL', () => {
  it('serves the API, the OpenAPI document and the admin', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/openapi.json`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/admin/`)).status).toBe(200);
    expect(existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
  });

  it('lets createsuperuser attach to the running server, and the user logs in', async () => {
    const state = readFileSync(path.join(dataDir, 'postgres.json'), 'utf8');
    const result = spawnSync(
      'npm',
      [
        'run',
        '--silent',
        'pms',
        '--',
        'createsuperuser',
        '--email',
        'owner@example.test',
        '--password',
        'a-long-password',
      ],
      { cwd: root, env: env(), encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('Superuser owner@example.test created.');
    // Attaching leaves the recorded server as it was: no second cluster was started.
    expect(readFileSync(path.join(dataDir, 'postgres.json'), 'utf8')).toBe(state);
    const login = await fetch(`http://127.0.0.1:${port}/api/auth/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'owner@example.test', password: 'a-long-password' }),
    });
    expect(login.status).toBe(200);
  });
});

describe('pms start on DATABASE_URL', () => {
  it('shuts down gracefully on SIGTERM (exit code 0, not killed by the signal)', async () => {
    const { createTestDatabase } = await import('./helpers/context.ts');
    const { startServerProcess } = await import('./helpers/server-process.ts');
    const database = await createTestDatabase();
    const api = await startServerProcess({ env: { DATABASE_URL: database.url } });
    try {
      expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
      expect(await api.kill('SIGTERM')).toBe(0);
    } finally {
      await api.kill('SIGKILL');
      await database.drop();
    }
  });
});

describe('pms start --workers', () => {
  it('serves one port from several API processes and stops them all on SIGTERM', async () => {
    const { createTestDatabase } = await import('./helpers/context.ts');
    const { startServerProcess } = await import('./helpers/server-process.ts');
    const database = await createTestDatabase();
    const api = await startServerProcess({ env: { DATABASE_URL: database.url }, args: ['--workers', '2'] });
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${api.url}/readyz`)));
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      expect(await api.kill('SIGTERM')).toBe(0);
      await expect(fetch(`${api.url}/healthz`)).rejects.toThrow();
    } finally {
      await api.kill('SIGKILL');
      await database.drop();
    }
  });

  it('refuses --workers for the worker role', () => {
    const result = spawnSync(
      process.execPath,
      ['bin/pms.js', 'start', '--role', 'worker', '--workers', '2'],
      {
        cwd: root,
        env: env(),
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('--workers applies to --role api or realtime');
  });
});

describe('configuration checked at boot', () => {
  it("refuses to start with exit code 2, listing every bad setting, the relay's included", () => {
    const result = spawnSync('npm', ['run', '--silent', 'pms', '--', 'start', '--role', 'api'], {
      cwd: root,
      env: {
        ...env(),
        PORT: 'eighty',
        NATS_STREAM: 'has spaces',
        PMS_RELAY_POLL_MS: '5',
        WEBHOOK_DELIVERY_LOG_DAYS: '0',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Invalid configuration');
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).toContain('NATS_STREAM');
    expect(result.stderr).toContain('PMS_RELAY_POLL_MS');
    expect(result.stderr).toContain('WEBHOOK_DELIVERY_LOG_DAYS');
  });
});

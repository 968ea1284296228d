import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/db/embedded.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code or signal once the process has ended. */
  exited: Promise<number | string | null>;
  kill(signal?: NodeJS.Signals): Promise<number | string | null>;
}

/**
 * Runs `pms start` as a real child process (the same Node that runs the tests) and resolves once
 * it answers /readyz, or rejects with its output when it does not within `timeoutMs`.
 */
export async function startServerProcess(options: {
  env: Record<string, string>;
  role?: 'api' | 'realtime' | 'worker' | 'all';
  port?: number;
  timeoutMs?: number;
  waitReady?: boolean;
  /** More `pms start` arguments, e.g. ['--workers', '2']. */
  args?: string[];
  /** The project to run (its bin/pms.js, and the working directory): this checkout by default. */
  projectDir?: string;
}): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  let log = '';
  const child = spawn(
    process.execPath,
    [
      path.join(options.projectDir ?? root, 'bin/pms.js'),
      'start',
      '--role',
      options.role ?? 'api',
      ...(options.args ?? []),
    ],
    {
      cwd: options.projectDir ?? root,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        // Files share one server (the machine's allows 100 connections): a process of ours keeps to a few.
        DATABASE_POOL_SIZE: '6',
        JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
        PMS_SECRETS_KEY: 'a'.repeat(64),
        // Every test signs in from 127.0.0.1: the per-address limit would count the whole file.
        LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (chunk) => {
    log += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    log += String(chunk);
  });
  const exited = new Promise<number | string | null>((resolve) => {
    child.on('exit', (code, signal) => resolve(signal ?? code));
  });
  const url = `http://127.0.0.1:${port}`;
  const server: ServerProcess = {
    url,
    port,
    child,
    output: () => log,
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  if (options.waitReady === false || options.role === 'worker') return server;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  while (Date.now() < deadline && !ended) {
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await server.kill('SIGKILL');
  throw new Error(`pms start did not become ready:\n${log}`);
}

/** An authenticated JSON call to a server process; the body parsed when there is one. */
export async function callProcess(
  server: ServerProcess,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Signs in over HTTP, as a client of a spawned server does, and returns the access token. */
export async function loginOverHttp(baseUrl: string, credentials: { email: string; password: string }) {
  const response = await fetch(`${baseUrl}/api/auth/token/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: credentials.email, password: credentials.password }),
  });
  if (response.status !== 200)
    throw new Error(`sign-in answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { access: string }).access;
}

import type { FastifyInstance } from 'fastify';

export class DemoRequestError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown, what: string) {
    super(`${what}: HTTP ${status} ${JSON.stringify(body).slice(0, 300)}`);
    this.status = status;
    this.body = body;
  }
}

/**
 * The demo drives the API in-process (app.inject), exactly as a client would: every seed and
 * every booking goes through the routes, the services and their transactions.
 */
export function createDemoClient(app: FastifyInstance, credentials: { email: string; password: string }) {
  let token: string | null = null;

  async function login(): Promise<string> {
    const response = await app.inject({ method: 'POST', url: '/api/auth/token/', payload: credentials });
    if (response.statusCode !== 200)
      throw new DemoRequestError(response.statusCode, response.json(), 'login');
    token = (response.json() as { access: string }).access;
    return token;
  }

  async function request<T = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T }> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token ?? (await login())}`, ...headers },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      // Access tokens are short-lived; the demo runs for hours.
      if (response.statusCode === 401 && attempt === 0) {
        await login();
        continue;
      }
      return { status: response.statusCode, body: (response.body ? response.json() : undefined) as T };
    }
    throw new Error('unreachable');
  }

  /** A request that must succeed (2xx), or the demo says what failed. */
  async function must<T = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<T> {
    const response = await request<T>(method, url, body, headers);
    if (response.status >= 300)
      throw new DemoRequestError(response.status, response.body, `${method} ${url}`);
    return response.body;
  }

  return { login, request, must };
}

export type DemoClient = ReturnType<typeof createDemoClient>;

/** The admin's one door to the API: JSON, bearer tokens, one refresh on 401, problem+json errors. */

export interface FieldProblem {
  pointer: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: FieldProblem[];
  readonly body: Record<string, unknown>;

  constructor(status: number, body: Record<string, unknown>) {
    const detail = typeof body.detail === 'string' ? body.detail : `The server answered ${status}.`;
    super(detail);
    this.status = status;
    this.code = typeof body.code === 'string' ? body.code : 'HTTP_ERROR';
    this.errors = Array.isArray(body.errors) ? (body.errors as FieldProblem[]) : [];
    this.body = body;
  }
}

/** Shows an API problem on the form that made the request; anything else is a bug and propagates. */
export function showProblem(error: unknown, setProblem: (problem: ApiError) => void): void {
  if (error instanceof ApiError) setProblem(error);
  else throw error;
}

/**
 * The fields of an edit form's `body` that differ from the record being edited (compared as JSON,
 * a missing value as null), so a PATCH sends only what the user changed.
 */
export function changedFields(existing: object, body: Record<string, unknown>): Record<string, unknown> {
  const before = existing as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(body).filter(
      ([key, value]) => JSON.stringify(before[key] ?? null) !== JSON.stringify(value ?? null),
    ),
  );
}

export interface Page<T> {
  results: T[];
  next_cursor: string | null;
}

/**
 * The access token lives in this page's memory only. The refresh token is an HttpOnly cookie
 * (`X-Refresh-Token: cookie`, docs/api.md) that no script of the page can read, scoped to the token
 * endpoints; a reload gets a new access token through it.
 */
const COOKIE_TRANSPORT = { 'x-refresh-token': 'cookie' } as const;
/** Where older versions of the admin kept both tokens; removed on sight. */
const LEGACY_STORAGE_KEY = 'pms.admin.tokens';

let access: string | null = null;
const sessionListeners = new Set<() => void>();

try {
  localStorage.removeItem(LEGACY_STORAGE_KEY);
} catch {
  // Storage may be switched off; there is nothing to remove then.
}

function setAccess(next: string | null): void {
  access = next;
  for (const listener of sessionListeners) listener();
}

export function accessToken(): string | null {
  return access;
}

export function hasSession(): boolean {
  return access !== null;
}

/** Called when the session starts or ends (sign-in, logout, or a refresh the server refuses). */
export function onSessionChange(listener: () => void): () => void {
  sessionListeners.add(listener);
  return () => sessionListeners.delete(listener);
}

let refreshing: Promise<boolean> | null = null;

async function rotate(): Promise<boolean> {
  try {
    const response = await fetch('/api/auth/token/refresh/', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...COOKIE_TRANSPORT },
      body: '{}',
      credentials: 'same-origin',
    });
    if (!response.ok) {
      setAccess(null);
      return false;
    }
    setAccess(((await response.json()) as { access: string }).access);
    return true;
  } catch {
    return false;
  }
}

/**
 * Rotates the refresh cookie once for all concurrent callers that saw a 401 (and at start). Tabs
 * share the cookie, and a refresh token presented twice revokes the sign-in, so tabs take turns.
 */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      return navigator.locks ? await navigator.locks.request('pms.admin.refresh', rotate) : await rotate();
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export type Query = Record<string, string | number | boolean | undefined | null | string[]>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    // Arrays repeat the parameter (?status=a&status=b), as the API's list filters expect.
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

async function send(method: string, path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (access) headers.authorization = `Bearer ${access}`;
  return fetch(withQuery(path, options.query), {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
}

export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  let response = await send(method, path, options);
  if (response.status === 401 && access && (await refreshSession())) {
    response = await send(method, path, options);
  }
  if (response.status === 401 && !path.startsWith('/api/auth/token/')) setAccess(null);
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = { detail: text.slice(0, 200) };
  }
  if (!response.ok) {
    throw new ApiError(response.status, (body ?? {}) as Record<string, unknown>);
  }
  return body as T;
}

export const get = <T>(path: string, query?: Query, signal?: AbortSignal) =>
  api<T>('GET', path, { query, signal });
export const post = <T>(path: string, body?: unknown, headers?: Record<string, string>) =>
  api<T>('POST', path, { body: body ?? {}, headers });
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, { body });
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, { body });
export const del = (path: string) => api<void>('DELETE', path);

/** Follows next_cursor to gather a whole (small) collection, e.g. for a select box. */
export async function listAll<T>(path: string, query: Query = {}, max = 2000): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await get<Page<T>>(path, { ...query, limit: 500, cursor });
    all.push(...page.results);
    cursor = page.next_cursor;
  } while (cursor && all.length < max);
  return all;
}

export async function login(email: string, password: string): Promise<void> {
  const pair = await api<{ access: string }>('POST', '/api/auth/token/', {
    body: { email, password },
    headers: COOKIE_TRANSPORT,
  });
  setAccess(pair.access);
}

/**
 * Revokes the sign-in on the server, which also clears the cookie, then forgets the access token
 * (in that order, so a quick new sign-in's cookie is never cleared by this answer).
 */
export async function logout(): Promise<void> {
  try {
    await fetch('/api/auth/token/revoke/', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...COOKIE_TRANSPORT },
      body: '{}',
      credentials: 'same-origin',
    });
  } catch {
    // Offline: the page still forgets the token; the cookie expires or is replaced at next sign-in.
  }
  setAccess(null);
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

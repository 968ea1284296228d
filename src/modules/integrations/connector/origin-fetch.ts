import { fetch, type RequestInit, type Response } from 'undici';
import { PMSConnectionError } from '../integrations.errors.ts';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** More redirects than a PMS needs (http → https, a trailing slash) is a loop. */
export const MAX_REDIRECTS = 5;

/**
 * fetch that follows a PMS's redirects within the request's own origin only. Its headers and
 * query may carry the connection's secrets, which were given for that origin: a redirect to
 * another one fails the request (fetch itself would carry every header but Authorization along).
 */
export async function fetchWithinOrigin(
  url: string,
  init: RequestInit & { method: string },
  redact: (text: string) => string,
): Promise<Response> {
  const origin = new URL(url).origin;
  let current = url;
  let method = init.method;
  let body = init.body;
  let headers = init.headers;
  for (let hop = 0; ; hop++) {
    const response = await fetch(current, { ...init, method, body, headers, redirect: 'manual' });
    const location = response.headers.get('location');
    if (!REDIRECTS.has(response.status) || location === null) return response;
    await response.body?.cancel();
    const next = new URL(location, current);
    if (next.origin !== origin) {
      // Where it pointed stays in the logs (detail): the target may be an internal service's name.
      throw new PMSConnectionError(
        `${redact(current)} redirected to another origin; the connection's secrets are sent only to ` +
          `its base_url's origin (${origin})`,
        response.status,
        false,
        `redirected to ${redact(next.origin)}`,
      );
    }
    if (hop >= MAX_REDIRECTS) {
      throw new PMSConnectionError(
        `${redact(url)} redirected more than ${MAX_REDIRECTS} times`,
        response.status,
      );
    }
    // As fetch does: a 303, and a 301/302 after a POST, continue as a GET, without the body.
    if (
      (response.status === 303 && method !== 'GET' && method !== 'HEAD') ||
      (method === 'POST' && response.status !== 307 && response.status !== 308)
    ) {
      method = 'GET';
      body = undefined;
      headers = Object.fromEntries(
        Object.entries((headers ?? {}) as Record<string, string>).filter(
          ([k]) => k.toLowerCase() !== 'content-type',
        ),
      );
    }
    current = next.toString();
  }
}

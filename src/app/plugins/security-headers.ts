import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';

const policy = (directives: Record<string, string[]>) =>
  Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join(';');

/** The JSON API's responses: nothing in them may load or run anything, or be framed. */
export const API_CSP_DIRECTIVES = {
  'default-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};
export const API_CSP = policy(API_CSP_DIRECTIVES);

/**
 * The admin at /admin/: Vite builds it into one script and one stylesheet, both files of its own, and
 * Preact sets styles through the CSSOM, which style-src does not govern. connect-src 'self' covers the
 * realtime feeds too: CSP 3 matches ws:/wss: to the page's own host. Trusted Types turn any HTML
 * string written into the DOM (innerHTML and the like) into an error instead of a script injection.
 */
export const ADMIN_CSP = policy({
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'"],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'manifest-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
  'require-trusted-types-for': ["'script'"],
  'trusted-types': ["'none'"],
});

const INLINE_SCRIPT = /<script\b(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script>/gi;

/**
 * The API reference page (Scalar): its own script file, and its inline scripts by their hashes, so
 * no other inline script runs. Scalar (Vue) writes <style> elements and style attributes at run
 * time, whose content no hash can name, so styles alone allow 'unsafe-inline': a style cannot run
 * code. Fonts are Scalar's fallbacks (its web fonts, from its CDN, are switched off), and requests
 * ("try it") go to this API only.
 */
export function apiReferenceCsp(html: string): string {
  const hashes = [...html.matchAll(INLINE_SCRIPT)].map(
    ([, body]) => `'sha256-${createHash('sha256').update(body!).digest('base64')}'`,
  );
  return policy({
    'default-src': ["'none'"],
    'script-src': ["'self'", ...hashes],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'"],
    'font-src': ["'self'"],
    'connect-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
    'frame-ancestors': ["'none'"],
  });
}

/**
 * The headers helmet sets for these options. Without CSP nonces they do not depend on the request,
 * so helmet runs once here, against a response that only records them.
 */
export function securityHeaders(options: Readonly<HelmetOptions>): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => {});
  return headers;
}

/**
 * helmet's security headers on every response. @fastify/helmet builds a new helmet middleware for
 * every request, and on this API that kept every request's objects alive past young-generation
 * collections: about 6.5 MB promoted per scavenge and 10–20 ms pauses (docs/PERFORMANCE.md).
 */
export const securityHeadersPlugin = fp(
  async (app: FastifyInstance, options: Readonly<HelmetOptions>) => {
    const headers = securityHeaders(options);
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });
  },
  { name: 'security-headers' },
);

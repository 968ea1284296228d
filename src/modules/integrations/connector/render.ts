import type { AuthRequestSpec, RequestSpec } from '../config/config.types.ts';
import { PMSConnectionError } from '../integrations.errors.ts';
import type { Exchange } from './exchange.ts';
import {
  fill,
  isAbsent,
  type Redactor,
  renderForm,
  renderJson,
  renderXml,
  type Scope,
} from './placeholders.ts';

export const DEFAULT_TIMEOUT_MS = 10_000;

export interface RenderContext {
  /** The connection's base_url, with a trailing slash. */
  base: URL;
  scope: Scope;
  redact: Redactor;
  /** Origins other than base_url's that the connection's secrets were given for (an auth URL's). */
  secretOrigins?: ReadonlySet<string>;
}

/**
 * The URL a request goes to: a path under base_url (never leaving its origin, whatever the path
 * says), or, for an auth request, an absolute URL whose origin the connection's secrets were
 * given for.
 */
export function requestUrl(target: { path?: string; url?: string }, ctx: RenderContext): URL {
  if (target.url !== undefined) {
    const url = new URL(fill(target.url, ctx.scope));
    if (url.origin !== ctx.base.origin && !ctx.secretOrigins?.has(url.origin)) {
      throw new PMSConnectionError(
        `the config sends credentials to ${ctx.redact(url.origin)}, an origin the connection's secrets ` +
          `were not given for: PUT the connection with its secrets again to allow it`,
      );
    }
    return url;
  }
  const url = new URL(fill(target.path ?? '/', ctx.scope, encodeURIComponent).replace(/^\//, ''), ctx.base);
  // The secrets were given for base_url's origin: a path that resolves elsewhere (`//host`,
  // `/https://host`) never gets a request, whatever config the connection points to.
  if (url.origin !== ctx.base.origin) {
    throw new PMSConnectionError(
      `the config's request path leads to ${ctx.redact(url.origin)}, outside the connection's base_url ` +
        `(${ctx.base.origin}): requests go to base_url's origin only`,
    );
  }
  return url;
}

const CONTENT_TYPES = {
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
  xml: 'text/xml; charset=utf-8',
};

/**
 * A request spec with every placeholder filled: the path (URL-encoded), the query and headers
 * (a parameter or header that is one null placeholder is left out), and the body (JSON keeping
 * the placeholders' types, a form, or XML-escaped text).
 */
export function renderRequest(
  spec: RequestSpec | AuthRequestSpec,
  ctx: RenderContext,
  options: { query?: Record<string, string>; url?: string; headers?: Record<string, string> } = {},
): Exchange {
  let url: URL;
  if (options.url !== undefined) {
    url = new URL(options.url);
  } else {
    url = requestUrl(spec, ctx);
    for (const [key, template] of Object.entries(spec.query ?? {})) {
      if (!isAbsent(template, ctx.scope)) url.searchParams.set(key, fill(template, ctx.scope));
    }
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
  }
  const headers: Record<string, string> = { ...options.headers };
  for (const [key, template] of Object.entries(spec.headers ?? {})) {
    // The config's header replaces the auth block's of the same name, whatever its spelling.
    for (const added of Object.keys(headers))
      if (added.toLowerCase() === key.toLowerCase()) delete headers[added];
    if (!isAbsent(template, ctx.scope)) headers[key] = fill(template, ctx.scope);
  }
  let body: string | undefined;
  const given = spec.body;
  if (given) {
    let kind: keyof typeof CONTENT_TYPES;
    if ('json' in given) {
      kind = 'json';
      body = JSON.stringify(renderJson(given.json, ctx.scope));
    } else if ('form' in given) {
      kind = 'form';
      body = renderForm(given.form, ctx.scope);
    } else {
      kind = 'xml';
      body = renderXml(given.xml, ctx.scope);
    }
    if (!Object.keys(headers).some((key) => key.toLowerCase() === 'content-type'))
      headers['content-type'] = given.content_type ?? CONTENT_TYPES[kind];
  }
  return {
    url: url.toString(),
    method: spec.method ?? 'GET',
    headers,
    body,
    timeoutMs: spec.timeout_ms ?? DEFAULT_TIMEOUT_MS,
  };
}

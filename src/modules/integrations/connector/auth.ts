import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { AuthSpec, RequestSpec } from '../config/config.types.ts';
import { compileJsonPath } from '../config/jsonpath.ts';
import { PMSConnectionError } from '../integrations.errors.ts';
import type { Sender } from './exchange.ts';
import { fill, type PlaceholderValue } from './placeholders.ts';
import { DEFAULT_TIMEOUT_MS, type RenderContext, renderRequest, requestUrl } from './render.ts';
import { responseReader } from './response.ts';

/**
 * Tokens obtained from a PMS (OAuth2 client credentials, a login call), kept in this process's
 * memory until they expire: another worker process fetches its own. Keyed by connection and by
 * a hash of everything that made the token (the auth block, the secrets, the base URL), so new
 * secrets or a new config never reuse an old token. Never logged, never stored.
 */
const tokens = new LRUCache<string, CachedToken>({ max: 10_000 });

interface CachedToken {
  token: string;
  /** Epoch ms after which the token is fetched again; Infinity: until the PMS refuses it. */
  refreshAt: number;
}

/** What a request needs from the auth block: `{auth.token}` and headers to add. */
export interface Credentials {
  values: Record<string, PlaceholderValue>;
  headers: Record<string, string>;
}

export interface Authenticator {
  credentials(): Promise<Credentials>;
  /** After a 401: forgets the token. True when the next credentials() fetches a fresh one. */
  invalidate(): boolean;
}

const NO_AUTH: Authenticator = {
  credentials: async () => ({ values: {}, headers: {} }),
  invalidate: () => false,
};

/** RFC 6749 §2.3.1: the client id and secret are form-encoded before Basic encoding. */
const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

/** Refreshes with a tenth of the lifetime left (5 s to 60 s), so a token does not expire mid-request. */
function refreshAt(now: number, lifetimeMs: number | undefined): number {
  if (lifetimeMs === undefined || !Number.isFinite(lifetimeMs)) return Number.POSITIVE_INFINITY;
  const margin = Math.min(60_000, Math.max(5_000, lifetimeMs / 10));
  return now + Math.max(0, lifetimeMs - margin);
}

function seconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** An absolute expiry: ISO 8601, or epoch seconds (or milliseconds when that large). */
function instantOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value > 1e11 ? value : value * 1000;
  if (typeof value === 'string') {
    if (/^\d+$/.test(value.trim())) return instantOf(Number(value));
    const at = Date.parse(value);
    return Number.isNaN(at) ? undefined : at;
  }
  return undefined;
}

export interface AuthOptions {
  auth: AuthSpec | undefined;
  /** The source request: whether it places `{auth.token}` itself. */
  request: RequestSpec;
  ctx: RenderContext;
  send: Sender;
  /** The token cache's key for this connection; without it, tokens live as long as this authenticator. */
  cacheKey?: string;
  secrets: Record<string, string>;
  baseUrl: string;
}

export function createAuthenticator(options: AuthOptions): Authenticator {
  const { auth, ctx } = options;
  if (!auth) return NO_AUTH;
  if (auth.type === 'basic') {
    return {
      async credentials() {
        const pair = `${fill(auth.username, ctx.scope)}:${fill(auth.password, ctx.scope)}`;
        const encoded = Buffer.from(pair).toString('base64');
        ctx.redact.add(encoded);
        return { values: {}, headers: { authorization: `Basic ${encoded}` } };
      },
      invalidate: () => false,
    };
  }
  const placesToken = JSON.stringify(options.request).includes('{auth.token}');
  const key = createHash('sha256')
    .update(JSON.stringify([auth, options.secrets, options.baseUrl, options.cacheKey ?? '']))
    .digest('hex');
  // Without a connection to key it by (a preview, a test), the token lives with this authenticator.
  interface TokenStore {
    get(key: string): CachedToken | undefined;
    set(key: string, value: CachedToken): unknown;
    delete(key: string): unknown;
  }
  const store: TokenStore = options.cacheKey ? tokens : new Map<string, CachedToken>();
  let inFlight: Promise<CachedToken> | undefined;

  const obtain = async (): Promise<CachedToken> => {
    const started = Date.now();
    if (auth.type === 'oauth2_client_credentials') {
      const url = requestUrl(
        auth.token_url.startsWith('/') ? { path: auth.token_url } : { url: auth.token_url },
        ctx,
      );
      const clientId = fill(auth.client_id, ctx.scope);
      const clientSecret = fill(auth.client_secret, ctx.scope);
      const form = new URLSearchParams({ grant_type: 'client_credentials' });
      if (auth.scope) form.set('scope', fill(auth.scope, ctx.scope));
      for (const [name, template] of Object.entries(auth.params ?? {}))
        form.set(name, fill(template, ctx.scope));
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if ((auth.client_auth ?? 'basic') === 'basic') {
        const basic = Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64');
        ctx.redact.add(basic);
        headers.authorization = `Basic ${basic}`;
      } else {
        form.set('client_id', clientId);
        form.set('client_secret', clientSecret);
      }
      // RFC 6749 §5.2: a refusal says why in `error` and `error_description`.
      const reader = responseReader({
        failure: [
          { path: '$.error_description', exists: true, message_path: '$.error_description' },
          { path: '$.error', exists: true, message_path: '$.error' },
        ],
      });
      const answer = await options.send(
        {
          url: url.toString(),
          method: 'POST',
          headers,
          body: form.toString(),
          timeoutMs: auth.timeout_ms ?? DEFAULT_TIMEOUT_MS,
        },
        reader,
      );
      const body = answer.document as Record<string, unknown> | null;
      const token = body?.access_token;
      if (typeof token !== 'string' || token === '')
        throw new PMSConnectionError(`the token endpoint ${url.origin} answered without an access_token`);
      ctx.redact.add(token);
      const lifetime = seconds(body?.expires_in);
      return { token, refreshAt: refreshAt(started, lifetime === undefined ? undefined : lifetime * 1000) };
    }
    const exchange = renderRequest(auth.request, ctx);
    const answer = await options.send(exchange, responseReader(auth.response));
    const found = compileJsonPath(auth.token_path).first(answer.document);
    if ((typeof found !== 'string' && typeof found !== 'number') || found === '')
      throw new PMSConnectionError(`the login answer has no token at ${auth.token_path}`);
    const token = String(found);
    ctx.redact.add(token);
    let lifetime: number | undefined;
    if (auth.expires_in_path) {
      const s = seconds(compileJsonPath(auth.expires_in_path).first(answer.document));
      if (s !== undefined) lifetime = s * 1000;
    }
    if (lifetime === undefined && auth.expires_at_path) {
      const at = instantOf(compileJsonPath(auth.expires_at_path).first(answer.document));
      if (at !== undefined) lifetime = at - started;
    }
    if (lifetime === undefined && auth.ttl_seconds) lifetime = auth.ttl_seconds * 1000;
    return { token, refreshAt: refreshAt(started, lifetime) };
  };

  const current = async (): Promise<CachedToken> => {
    const cached = store.get(key);
    if (cached && Date.now() < cached.refreshAt) return cached;
    // One token request at a time per connection; the others wait for its answer.
    inFlight ??= obtain()
      .then((fresh) => {
        store.set(key, fresh);
        return fresh;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  return {
    async credentials(): Promise<Credentials> {
      const { token } = await current();
      ctx.redact.add(token);
      return {
        values: { 'auth.token': token },
        headers:
          auth.type === 'oauth2_client_credentials' && !placesToken
            ? { authorization: `Bearer ${token}` }
            : {},
      };
    },
    invalidate() {
      store.delete(key);
      return true;
    },
  };
}

/** Origins a config sends credentials to besides base_url's (an absolute token or login URL). */
export function authOrigins(auth: unknown): string[] {
  const spec = auth as { type?: string; token_url?: unknown; request?: { url?: unknown } } | undefined;
  const url = spec?.type === 'oauth2_client_credentials' ? spec.token_url : spec?.request?.url;
  if (typeof url !== 'string' || url.startsWith('/')) return [];
  try {
    return [new URL(url).origin];
  } catch {
    return [];
  }
}
